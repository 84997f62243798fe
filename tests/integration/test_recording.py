"""Recording a call over a real server with a real Janus: the consent steps refused at
every wrong step, from the wrong side and without every consent; no room or publisher
in Janus before every participant consented (asked of Janus itself); a recording of
two real WebRTC senders (aiortc, send-only like the browsers) that plays back with
an audio and a video track of the recorded length, decrypted on the way out, for the
conversation's adviser only, each access (and each refused one) an entry in the
hash-chained audit log that `visavis audit verify` still accepts; withdrawal and the call's end
stop it; the medical profile refuses every path and runs no recorder."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from conftest import LiveServer, make_server
from helpers import adviser_socket, session
from wsclient import WsClient, new_conversation

from visavis.collab.recording_consent import CONSENT_VERSION
from visavis.recording.janus import list_rooms

pytestmark = pytest.mark.skipif(
    shutil.which("janus") is None or shutil.which("ffprobe") is None,
    reason="janus / ffmpeg not installed (apt-get install janus ffmpeg)",
)


def event_of(kind: str) -> Any:
    return lambda f: f["type"] == "event" and f["kind"] == kind


async def call_pair(server: LiveServer) -> tuple[WsClient, WsClient, str, str]:
    """An active conversation with a running video call: adviser, customer, ids."""
    adviser = await adviser_socket(server)
    conv_id, token = await new_conversation(server.base_url, customer_name="Bob")
    assert (await adviser.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    customer = await WsClient.connect(server.ws_url, token=token)
    await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    c: dict[str, Any] = {"conversation_id": conv_id}
    assert (await adviser.request("call.request", **c, media="video"))["type"] == "ack"
    call_id = (await customer.wait_for(event_of("call.requested")))["body"]["call_id"]
    ack = await customer.request("call.answer", **c, call_id=call_id, accept=True)
    assert ack["type"] == "ack", ack
    await adviser.wait_for(event_of("call.started"))
    return adviser, customer, conv_id, call_id


async def code_of(ws: WsClient, kind: str, **fields: Any) -> str:
    reply = await ws.request(kind, **fields)
    assert reply["type"] == "error", (kind, reply)
    return str(reply["code"])


async def consent_all(adviser: WsClient, customer: WsClient, cid: str, call_id: str) -> str:
    assert (await adviser.request("recording.request", conversation_id=cid, call_id=call_id))[
        "type"
    ] == "ack"
    rid = str((await customer.wait_for(event_of("recording.requested")))["body"]["recording_id"])
    for ws in (adviser, customer):
        ack = await ws.request(
            "recording.consent", conversation_id=cid, recording_id=rid, text_version=CONSENT_VERSION
        )
        assert ack["type"] == "ack", ack
    await adviser.wait_for(event_of("recording.started"))
    return rid


class Sender:
    """A send-only peer connection to the recorder, like the browser's."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        self.pc.addTransceiver(VideoStreamTrack(), direction="sendonly")

    async def offer(self, ws: WsClient, cid: str, rid: str) -> dict[str, Any]:
        await self.pc.setLocalDescription(await self.pc.createOffer())  # gathers all
        desc = {"type": "offer", "sdp": self.pc.localDescription.sdp}
        return await ws.request(
            "recording.offer", conversation_id=cid, recording_id=rid, description=desc,
            timeout=20,
        )  # fmt: skip

    async def connect(self, answer: dict[str, Any]) -> None:
        assert answer["type"] == "recording.answer", answer
        await self.pc.setRemoteDescription(
            RTCSessionDescription(answer["description"]["sdp"], "answer")
        )
        connected = asyncio.Event()

        @self.pc.on("connectionstatechange")
        def changed() -> None:
            if self.pc.connectionState == "connected":
                connected.set()

        if self.pc.connectionState != "connected":
            await asyncio.wait_for(connected.wait(), 20)


def janus_url(server: LiveServer) -> str | None:
    conf = server.data_dir / "janus" / "janus.transport.http.jcfg"
    if not conf.exists():
        return None
    port = re.search(r"port = (\d+)", conf.read_text())
    assert port
    return f"http://127.0.0.1:{port.group(1)}/janus"


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name:format=duration",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout))


async def test_steps_are_refused_without_call_side_or_consent(live_server: LiveServer) -> None:
    adviser = await adviser_socket(live_server)
    conv_id, token = await new_conversation(live_server.base_url, customer_name="Bob")
    assert (await adviser.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    customer = await WsClient.connect(live_server.ws_url, token=token)
    await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    c: dict[str, Any] = {"conversation_id": conv_id}
    # no call yet
    assert await code_of(adviser, "recording.request", **c, call_id="x" * 16) == (
        "recording_needs_call"
    )
    assert (await adviser.request("call.request", **c, media="video"))["type"] == "ack"
    call_id = (await customer.wait_for(event_of("call.requested")))["body"]["call_id"]
    # a ringing call is not recorded either
    assert await code_of(adviser, "recording.request", **c, call_id=call_id) == (
        "recording_needs_call"
    )
    await customer.request("call.answer", **c, call_id=call_id, accept=True)
    # only the adviser asks
    assert await code_of(customer, "recording.request", **c, call_id=call_id) == "forbidden"
    assert (await adviser.request("recording.request", **c, call_id=call_id))["type"] == "ack"
    asked = await customer.wait_for(event_of("recording.requested"))
    rid = asked["body"]["recording_id"]
    assert asked["body"]["consent"]["version"] == CONSENT_VERSION
    assert "Einwilligung" in asked["body"]["consent"]["de"]
    assert await code_of(adviser, "recording.request", **c, call_id=call_id) == "invalid_state"
    r: dict[str, Any] = {**c, "recording_id": rid}
    # an outdated or unknown text, strictness
    assert await code_of(customer, "recording.consent", **r, text_version="2020-01-01") == (
        "bad_request"
    )
    ack = await adviser.request("recording.consent", **r, text_version=CONSENT_VERSION)
    assert ack["type"] == "ack"
    consented = await customer.wait_for(event_of("recording.consented"))
    assert consented["body"] == {
        "recording_id": rid, "role": "adviser", "text_version": CONSENT_VERSION
    }  # fmt: skip
    assert await code_of(adviser, "recording.consent", **r, text_version=CONSENT_VERSION) == (
        "invalid_state"
    )
    # the customer has not consented: neither side's media is taken
    offer = {"type": "offer", "sdp": "v=0\r\n"}
    for ws in (adviser, customer):
        assert await code_of(ws, "recording.offer", **r, description=offer) == (
            "recording_needs_consent"
        )
    assert janus_url(live_server) is None  # not even started
    # the customer declines: idle again, nothing recorded
    assert (await customer.request("recording.decline", **r))["type"] == "ack"
    declined = await adviser.wait_for(event_of("recording.declined"))
    assert declined["body"] == {"recording_id": rid, "role": "customer"}
    assert await code_of(customer, "recording.consent", **r, text_version=CONSENT_VERSION) == (
        "invalid_state"
    )


async def test_a_recorded_call_plays_back_and_withdrawal_and_hangup_stop_it(
    live_server: LiveServer, tmp_path: Path
) -> None:
    adviser, customer, cid, call_id = await call_pair(live_server)
    rid = await consent_all(adviser, customer, cid, call_id)
    senders = {"adviser": Sender(), "customer": Sender()}
    answers = {role: await senders[role].offer(ws, cid, rid)
               for role, ws in (("adviser", adviser), ("customer", customer))}  # fmt: skip
    await asyncio.gather(*(senders[r].connect(answers[r]) for r in senders))
    url = janus_url(live_server)
    assert url is not None
    rooms = await list_rooms(url)
    assert len(rooms) == 1 and rooms[0]["num_participants"] == 2, rooms
    # a second offer of the same side is refused
    extra = Sender()
    again = await extra.offer(adviser, cid, rid)
    await extra.pc.close()
    assert again["type"] == "error" and again["code"] == "invalid_state", again
    started = time.monotonic()
    await asyncio.sleep(4)  # the recorded length: media time, nothing to wait for
    assert (await customer.request("recording.withdraw", conversation_id=cid, recording_id=rid))[
        "type"
    ] == "ack"
    recorded_s = time.monotonic() - started
    stopped = await adviser.wait_for(event_of("recording.stopped"))
    assert stopped["body"] == {"recording_id": rid, "reason": "withdrawn", "by": "customer"}
    for s in senders.values():
        await s.pc.close()
    ready = await adviser.wait_for(event_of("recording.ready"), timeout=60)
    files = {f["participant"]: f for f in ready["body"]["files"]}
    assert set(files) == {"adviser", "customer"}
    assert await list_rooms(url) == []  # the room went with the stop
    # raw tracks deleted, the sealed file is no WebM
    sealed = live_server.data_dir / "recordings" / rid / "customer.webm.sealed"
    assert sealed.is_file() and b"webm" not in sealed.read_bytes()[:200]
    assert not list((live_server.data_dir / "recordings" / "raw").glob("*/*.mjr"))

    async with await session(live_server, "anna@bank.example") as http:
        listed = (await http.get(f"/api/v1/conversations/{cid}/recordings")).json()
        assert [r["recording_id"] for r in listed["recordings"]] == [rid]
        base = f"/api/v1/conversations/{cid}/recordings/{rid}"
        head = await http.get(f"{base}/customer", headers={"Range": "bytes=0-99"})
        assert head.status_code == 206 and len(head.content) == 100
        size = int(head.headers["content-range"].split("/")[1])
        whole = await http.get(f"{base}/customer?download=1")
        assert whole.status_code == 200 and len(whole.content) == size
        assert whole.content[:100] == head.content
        assert "attachment" in whole.headers["content-disposition"]
        tail = await http.get(f"{base}/customer", headers={"Range": f"bytes={size - 10}-"})
        assert tail.content == whole.content[-10:]
        assert (await http.get(f"{base}/nobody")).status_code == 404
    out = tmp_path / "customer.webm"
    out.write_bytes(whole.content)
    info = probe(out)
    kinds = {s["codec_type"]: s["codec_name"] for s in info["streams"]}
    assert kinds == {"audio": "opus", "video": "vp8"}, info
    duration = float(info["format"]["duration"])
    assert abs(duration - recorded_s) < 1.5, (duration, recorded_s)

    # another adviser (not the conversation's) may not list or play it
    live_server.add_adviser("ben@bank.example", "correct-horse-battery", "Ben")
    async with await session(live_server, "ben@bank.example") as http:
        r = await http.get(f"/api/v1/conversations/{cid}/recordings")
        assert r.status_code == 403
        r = await http.get(f"/api/v1/conversations/{cid}/recordings/{rid}/customer")
        assert r.status_code == 403
    async with httpx.AsyncClient(base_url=live_server.base_url) as anonymous:
        r = await anonymous.get(f"/api/v1/conversations/{cid}/recordings/{rid}/customer")
        assert r.status_code == 401
    check_recording_audit(live_server, cid, rid, size)

    # again, with the customer's consent missing: Janus gets no room
    c: dict[str, Any] = {"conversation_id": cid}
    assert (await adviser.request("recording.request", **c, call_id=call_id))["type"] == "ack"
    rid2 = (await customer.wait_for(event_of("recording.requested")))["body"]["recording_id"]
    r2: dict[str, Any] = {**c, "recording_id": rid2}
    await adviser.request("recording.consent", **r2, text_version=CONSENT_VERSION)
    extra = Sender()
    reply = await extra.offer(adviser, cid, rid2)
    await extra.pc.close()
    assert reply["type"] == "error" and reply["code"] == "recording_needs_consent"
    assert await list_rooms(url) == []
    # it runs once the customer consents; hanging up stops it in the same write
    await customer.request("recording.consent", **r2, text_version=CONSENT_VERSION)
    await adviser.wait_for(event_of("recording.started"))
    assert (await customer.request("call.hangup", **c, call_id=call_id))["type"] == "ack"
    stopped = await adviser.wait_for(event_of("recording.stopped"))
    assert stopped["body"] == {"recording_id": rid2, "reason": "call_ended", "by": "customer"}
    await adviser.wait_for(event_of("call.ended"))


def check_recording_audit(server: LiveServer, cid: str, rid: str, size: int) -> None:
    """Every access above is in the audit chain, which still verifies: who (actor,
    role), which recording and conversation, what, when — and no content."""
    assert server.cli("audit", "verify").startswith("ok: ")
    lines = server.cli("audit", "list", "--limit", "50").splitlines()
    got = [json.loads(line) for line in reversed(lines)]  # oldest first
    rec = [e for e in got if e["action"].startswith("recording.")]
    anna = rec[0]["actor"]
    assert anna.startswith("adviser:")
    for e in rec:
        assert e["detail"]["conversation_id"] == cid and e["at"]
    mine = [(e["action"], e["detail"].get("range"), e["detail"].get("code"))
            for e in rec if e["actor"] == anna]  # fmt: skip
    assert mine == [
        ("recording.list", None, None),
        ("recording.play", "0-99", None),
        ("recording.download", None, None),
        ("recording.play", f"{size - 10}-{size - 1}", None),
        ("recording.refused", None, "not_found"),  # the participant "nobody"
    ], mine
    assert rec[0]["detail"]["recording_ids"] == [rid] and rec[0]["subject"] == f"conversation:{cid}"
    assert rec[1]["subject"] == f"recording:{rid}" and rec[1]["detail"]["role"] == "adviser"
    assert rec[1]["detail"]["participant"] == "customer"
    ben = [e for e in rec if e["actor"] != anna]
    assert [(e["action"], e["detail"]["what"], e["detail"]["code"]) for e in ben] == [
        ("recording.refused", "list", "forbidden"),
        ("recording.refused", "play", "forbidden"),
    ]
    assert ben[1]["detail"]["recording_id"] == rid
    # the anonymous request named nobody: no entry; the log holds ids, never bytes
    assert len(rec) == 7
    allowed = {"role", "conversation_id", "recording_id", "recording_ids", "participant",
               "range", "what", "code"}  # fmt: skip
    assert all(set(e["detail"]) <= allowed for e in rec)


@pytest.fixture
async def medical(tmp_path: Path) -> Any:
    srv = make_server(tmp_path, VISAVIS_PROFILE="medical", VISAVIS_RECORDER="janus")
    srv.start()
    yield srv
    srv.stop()


async def test_the_medical_profile_refuses_every_recording_path(medical: LiveServer) -> None:
    adviser, customer, cid, call_id = await call_pair(medical)
    c: dict[str, Any] = {"conversation_id": cid}
    r: dict[str, Any] = {**c, "recording_id": "r" * 16}
    offer = {"type": "offer", "sdp": "v=0\r\n"}
    cases: list[tuple[WsClient, str, dict[str, Any]]] = [
        (adviser, "recording.request", {**c, "call_id": call_id}),
        (adviser, "recording.consent", {**r, "text_version": CONSENT_VERSION}),
        (customer, "recording.consent", {**r, "text_version": CONSENT_VERSION}),
        (customer, "recording.decline", r),
        (customer, "recording.withdraw", r),
        (adviser, "recording.stop", r),
        (adviser, "recording.offer", {**r, "description": offer}),
        (customer, "recording.offer", {**r, "description": offer}),
    ]
    for ws, kind, fields in cases:
        assert await code_of(ws, kind, **fields) == "recording_not_allowed", kind
    async with await session(medical, "anna@bank.example") as http:
        for path in (f"/api/v1/conversations/{cid}/recordings",
                     f"/api/v1/conversations/{cid}/recordings/{'r' * 16}/customer"):  # fmt: skip
            got = await http.get(path)
            assert got.status_code == 403, path
            assert got.json()["error"]["code"] == "recording_not_allowed"
    refused = [json.loads(line) for line in medical.cli("audit", "list").splitlines()]
    assert [(e["action"], e["detail"]["what"], e["detail"]["code"]) for e in refused] == [
        ("recording.refused", "play", "recording_not_allowed"),
        ("recording.refused", "list", "recording_not_allowed"),
    ]
    assert medical.cli("audit", "verify").startswith("ok: 2 entries")
    assert not (medical.data_dir / "janus").exists()  # no recorder ever ran
    assert not (medical.data_dir / "keys" / "recordings.key").exists()


async def test_a_transfer_stops_the_recording(live_server: LiveServer) -> None:
    """The new adviser never consented: handing the conversation over stops it."""
    adviser, customer, cid, call_id = await call_pair(live_server)
    await adviser_socket(live_server, "ben@bank.example", "Ben")
    async with await session(live_server, "ben@bank.example") as http:
        advisers = (await http.get("/api/v1/advisers")).json()["advisers"]
    ben_id = next(a["id"] for a in advisers if a["name"] == "Ben")
    rid = await consent_all(adviser, customer, cid, call_id)
    ack = await adviser.request(
        "transfer.start", conversation_id=cid, mode="blind", to_adviser_id=ben_id
    )
    assert ack["type"] == "ack", ack
    stopped = await customer.wait_for(event_of("recording.stopped"))
    assert stopped["body"] == {"recording_id": rid, "reason": "transferred", "by": "adviser"}
