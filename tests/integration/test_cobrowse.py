"""Co-browsing over a real server (SQLite and PostgreSQL): the steps as a state machine
of logged events, refused at every wrong step and from the wrong side; the mirror
batches relayed to the conversation's advisers only, never stored or logged; the
adviser's pointer and control inputs to the customer only, inputs refused without
granted control; a conversation's end ends co-browsing in the same write."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer, make_server
from helpers import PASSWORD, adviser_socket
from wsclient import WsClient, login, new_conversation

from visavis.protocol.mirror_frame import mirror_frame

NOW_MS = 1_750_000_000_000


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[LiveServer]:
    srv = make_server(tmp_path, database_url, VISAVIS_COBROWSE_ORIGINS="https://www.bank.example")
    srv.start()
    yield srv
    srv.stop()


async def room(server: LiveServer) -> tuple[WsClient, WsClient, str, str]:
    """An active conversation: the adviser's and the customer's sockets, both subscribed."""
    adviser = await adviser_socket(server)
    conv_id, token = await new_conversation(server.base_url, customer_name="Erika")
    customer = await WsClient.connect(server.ws_url, token=token)
    await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    ack = await adviser.request("conversation.accept", conversation_id=conv_id)
    assert ack["type"] == "ack", ack
    return adviser, customer, conv_id, token


async def step(ws: WsClient, kind: str, conv_id: str, **fields: Any) -> dict[str, Any]:
    return await ws.request(kind, conversation_id=conv_id, **fields)


async def refused(ws: WsClient, frame: dict[str, Any] | bytes) -> str:
    """The error code a frame (JSON fields, or a binary mirror frame) was refused with."""
    if isinstance(frame, bytes):
        fid = f"cb-{struct.unpack_from('>I', frame, 10)[0]}"
        await ws.send_raw(frame)
    else:
        fid = await ws.send(frame.pop("type"), **frame)
    err = await ws.wait_for(lambda f: f.get("id") == fid)
    assert err["type"] == "error", (frame, err)
    return str(err["code"])


class Mirror:
    """What the customer's browser sends (frontend/src/cobrowse/packing.ts): one raw
    DEFLATE stream, a sync flush per batch, each chunk in the binary frame
    (protocol/mirror_frame.py)."""

    def __init__(self, stream: str = "stream-1") -> None:
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.stream, self.n = stream, 0

    def frame(self, *events: dict[str, Any], raw: bytes | None = None) -> bytes:
        text = raw if raw is not None else json.dumps(list(events)).encode() + b"\n"
        data = self.deflater.compress(text) + self.deflater.flush(zlib.Z_SYNC_FLUSH)
        frame = mirror_frame(self.stream, self.n, data, NOW_MS)
        self.n += 1
        return frame


def batch(*events: dict[str, Any]) -> bytes:
    """A stream's first chunk: always taken when co-browsing runs."""
    return Mirror().frame(*events)


def inflated(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of one stream's chunks, in the order given."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    text = b"".join(inflater.decompress(base64.b64decode(f["data"])) for f in frames)
    return [e for line in text.split(b"\n") if line for e in json.loads(line)]


async def test_the_steps_are_checked_against_state_and_side_and_logged(
    server: LiveServer,
) -> None:
    adviser, customer, cid, token = await room(server)
    c = {"conversation_id": cid}
    # idle: only the adviser may ask; nothing else is possible yet
    for ws, kind, fields, code in [
        (customer, "cobrowse.request", {}, "forbidden"),
        (customer, "cobrowse.answer", {"accept": True}, "invalid_state"),
        (adviser, "cobrowse.answer", {"accept": True}, "forbidden"),
        (adviser, "cobrowse.control_request", {}, "invalid_state"),
        (customer, "cobrowse.control_answer", {"accept": True}, "invalid_state"),
        (customer, "cobrowse.control_revoke", {}, "invalid_state"),
        (adviser, "cobrowse.end", {}, "invalid_state"),
    ]:
        assert await refused(ws, {"type": kind, **c, **fields}) == code, (kind, code)
    assert (await step(adviser, "cobrowse.request", cid))["type"] == "ack"
    asked = await customer.expect("event", kind="cobrowse.requested")
    assert asked["author"]["role"] == "adviser" and asked["body"] == {}
    assert await refused(adviser, {"type": "cobrowse.request", **c}) == "invalid_state"
    assert await refused(adviser, {"type": "cobrowse.control_request", **c}) == "invalid_state"
    # strict: no coercion, no unknown fields
    for bad in (
        {"type": "cobrowse.answer", **c, "accept": "true"},
        {"type": "cobrowse.answer", **c, "accept": 1},
        {"type": "cobrowse.answer", **c},
        {"type": "cobrowse.answer", **c, "accept": True, "why": "x"},
        {"type": "cobrowse.request", "conversation_id": 7},
    ):
        assert await refused(customer, dict(bad)) == "bad_request", bad
    # declined: idle again, and it can be asked again
    assert (await step(customer, "cobrowse.answer", cid, accept=False))["type"] == "ack"
    assert await refused(customer, {"type": "cobrowse.answer", **c, "accept": True}) == (
        "invalid_state"
    )
    await step(adviser, "cobrowse.request", cid)
    assert (await step(customer, "cobrowse.answer", cid, accept=True))["type"] == "ack"
    await adviser.expect("event", kind="cobrowse.started")
    # control: asked by the adviser, answered by the customer only
    assert await refused(customer, {"type": "cobrowse.control_request", **c}) == "forbidden"
    assert await refused(customer, {"type": "cobrowse.control_revoke", **c}) == "invalid_state"
    await step(adviser, "cobrowse.control_request", cid)
    assert await refused(adviser, {"type": "cobrowse.control_request", **c}) == "invalid_state"
    assert await refused(adviser, {"type": "cobrowse.control_answer", **c, "accept": True}) == (
        "forbidden"
    )
    await step(customer, "cobrowse.control_answer", cid, accept=False)
    await step(adviser, "cobrowse.control_request", cid)
    await step(customer, "cobrowse.control_answer", cid, accept=True)
    assert await refused(adviser, {"type": "cobrowse.control_revoke", **c}) == "forbidden"
    await step(customer, "cobrowse.control_revoke", cid)
    # another conversation's customer and adviser have no say here
    other_id, other_token = await new_conversation(server.base_url, customer_name="Otto")
    stranger = await WsClient.connect(server.ws_url, token=other_token)
    assert await refused(stranger, {"type": "cobrowse.end", **c}) == "forbidden"
    colleague = await adviser_socket(server, "ben@bank.example", "Ben")
    assert await refused(colleague, {"type": "cobrowse.end", **c}) == "forbidden"
    assert await refused(colleague, {"type": "cobrowse.request", "conversation_id": other_id}) == (
        "forbidden"  # waiting in the queue: nobody's yet
    )
    # the customer ends it: idle; ended twice is refused
    ack = await step(customer, "cobrowse.end", cid)
    assert ack["type"] == "ack"
    ended = await adviser.expect("event", kind="cobrowse.ended")
    assert ended["body"] == {"reason": "customer"}
    assert await refused(adviser, {"type": "cobrowse.end", **c}) == "invalid_state"
    # the log holds every step, in order; a late socket replays them
    late = await WsClient.connect(server.ws_url, token=token)
    await late.request("subscribe", conversation_id=cid, after_seq=0)
    kinds = [e["kind"] for e in late.events(cid) if e["kind"].startswith("cobrowse.")]
    assert kinds == [
        "cobrowse.requested", "cobrowse.declined", "cobrowse.requested", "cobrowse.started",
        "cobrowse.control_requested", "cobrowse.control_declined",
        "cobrowse.control_requested", "cobrowse.control_granted", "cobrowse.control_revoked",
        "cobrowse.ended",
    ]  # fmt: skip
    await asyncio.gather(*(w.close() for w in (adviser, customer, stranger, colleague, late)))


async def test_batches_go_to_the_advisers_only_and_are_never_stored(server: LiveServer) -> None:
    adviser, customer, cid, token = await room(server)
    boss = await adviser_socket(server, "boss@bank.example", "Boss", role="supervisor")
    await boss.request("subscribe", conversation_id=cid, after_seq=0)
    marker = {"type": 3, "timestamp": NOW_MS, "data": {"source": 0, "texts": [
        {"id": 12, "value": "secret-iban-DE8937"}]}}  # fmt: skip
    # not before the customer consented
    assert await refused(customer, batch(marker)) == "invalid_state"
    await step(adviser, "cobrowse.request", cid)
    assert await refused(customer, batch(marker)) == "invalid_state"
    await step(customer, "cobrowse.answer", cid, accept=True)
    # advisers do not send the mirror (the frame names no conversation: the customer's
    # socket has one)
    assert await refused(adviser, batch(marker)) == "forbidden"
    # relayed in order, to the adviser; not back to the customer, not to the supervisor
    mirror = Mirror()
    for i in range(5):
        await customer.send_raw(mirror.frame({**marker, "n": i}))
    got = [await adviser.expect("cobrowse.batch") for _ in range(5)]
    assert not [g for g in got if "to_advisers" in g]  # the route is not sent
    assert [g["n"] for g in got] == list(range(5)) and {g["stream"] for g in got} == {"stream-1"}
    assert got[0]["sent_at"] == NOW_MS
    assert [e["n"] for e in inflated(got)] == list(range(5))
    # a large one (a page's snapshot) in one frame, and one across two chunks
    big = {"type": 2, "timestamp": NOW_MS, "data": {"node": os.urandom(20_000).hex()}}
    await customer.send_raw(mirror.frame(big))
    line = json.dumps([big, marker]).encode() + b"\n"
    await customer.send_raw(mirror.frame(raw=line[:30_000]))
    await customer.send_raw(mirror.frame(raw=line[30_000:]))
    got += [await adviser.expect("cobrowse.batch") for _ in range(3)]
    assert inflated(got)[5:] == [big, big, marker]
    # a gap in the stream is refused; a new stream is taken
    skipped = mirror.frame(marker)
    assert struct.unpack_from(">I", skipped, 10)[0] == 8
    assert await refused(customer, mirror.frame(marker)) == "bad_request"
    await customer.send_raw(batch(marker))
    assert inflated([await adviser.expect("cobrowse.batch")]) == [marker]
    # the supervisor follows the chat but not the mirror: a chat message after the
    # batches reaches it, the batches did not
    await customer.request("chat.send", conversation_id=cid, client_id="chat-00001", text="Da")
    await boss.expect("event", kind="chat.message")
    assert not [f for f in boss.frames if f["type"].startswith("cobrowse.batch")]
    assert not [f for f in customer.frames if f["type"] == "cobrowse.batch"]
    # too large for a frame: refused, the socket closed (1009)
    await customer.send_raw(mirror_frame("stream-1", 0, b"A" * 66_000, NOW_MS))
    err = await customer.expect("error")
    assert err["code"] == "frame_too_large"
    # never stored, never logged (not even refused ones)
    late = await WsClient.connect(server.ws_url, token=token)
    await late.request("subscribe", conversation_id=cid, after_seq=0)
    assert "secret-iban" not in json.dumps(late.events(cid))
    assert "secret-iban" not in server.log()
    await asyncio.gather(*(w.close() for w in (adviser, customer, boss, late)))


async def test_batches_have_their_own_budget(server: LiveServer) -> None:
    adviser, customer, cid, _token = await room(server)
    await step(adviser, "cobrowse.request", cid)
    await step(customer, "cobrowse.answer", cid, accept=True)
    event = {"type": 3, "timestamp": NOW_MS, "data": {"source": 1, "positions": []}}
    for i in range(55):  # burst 40, 20 a second: some of these are refused
        await customer.send_raw(Mirror(f"stream-b{i:02}").frame(event))
    # chat is not slowed by the mirror
    ack = await customer.request("chat.send", conversation_id=cid, client_id="chat-00002",
                                 text="Hallo")  # fmt: skip
    assert ack["type"] == "ack", ack
    limited = [f for f in customer.frames if f.get("code") == "rate_limited"]
    assert limited and all(f["id"] == "cb-0" for f in limited)
    relayed = [await adviser.expect("cobrowse.batch") for _ in range(55 - len(limited))]
    assert len(relayed) + len(limited) == 55
    await asyncio.gather(adviser.close(), customer.close())


async def test_the_mirror_stream_is_bounded_when_inflated(server: LiveServer) -> None:
    adviser, customer, cid, _token = await room(server)
    await step(adviser, "cobrowse.request", cid)
    await step(customer, "cobrowse.answer", cid, accept=True)
    events = [{"type": 3, "timestamp": NOW_MS, "data": {"source": 0, "n": i}} for i in range(50)]
    mirror = Mirror()
    first = mirror.frame(*events)
    assert len(first) < len(json.dumps(events)) / 4
    await customer.send_raw(first)
    assert inflated([await adviser.expect("cobrowse.batch")]) == events
    # a bomb: spaces deflate a thousandfold, 8 MiB + 1 of them in one batch is refused,
    # and the stream with it; garbage too; nothing of it reaches the adviser
    half = 4 * 1024 * 1024 + 1
    await customer.send_raw(mirror.frame(raw=b"[" + b" " * half))
    await adviser.expect("cobrowse.batch")
    assert await refused(customer, mirror.frame(raw=b" " * half + b"]\n")) == "bad_request"
    assert await refused(customer, mirror.frame({"type": 3})) == "bad_request"
    assert (
        await refused(customer, mirror_frame("stream-1", 0, b"\xff\xff", NOW_MS)) == "bad_request"
    )
    await customer.request("chat.send", conversation_id=cid, client_id="chat-00003", text="Da")
    await adviser.expect("event", kind="chat.message")
    assert not [f for f in adviser.frames if f["type"] == "cobrowse.batch"]
    await asyncio.gather(adviser.close(), customer.close())


async def test_pointer_and_inputs_reach_the_customer_only_with_control(
    server: LiveServer,
) -> None:
    adviser, customer, cid, _token = await room(server)
    pointer = {"type": "cobrowse.pointer", "conversation_id": cid, "x": 10.5, "y": 20,
               "visible": True}  # fmt: skip
    click = {"type": "cobrowse.input", "conversation_id": cid, "action": "click", "x": 100,
             "y": 50, "target": 42}  # fmt: skip
    assert await refused(adviser, dict(pointer)) == "invalid_state"  # not running
    assert await refused(adviser, dict(click)) == "cobrowse_no_control"
    await step(adviser, "cobrowse.request", cid)
    await step(customer, "cobrowse.answer", cid, accept=True)
    # the pointer: adviser only, to the customer, coalesced
    assert await refused(customer, dict(pointer)) == "forbidden"
    for i in range(100):
        await adviser.send("cobrowse.pointer", conversation_id=cid, x=float(i), y=20,
                           visible=True)  # fmt: skip
    last = await customer.wait_for(lambda f: f["type"] == "cobrowse.pointer" and f["x"] == 99)
    assert last["from"]["role"] == "adviser" and last["y"] == 20
    assert len([f for f in customer.frames if f["type"] == "cobrowse.pointer"]) < 50
    # inputs: refused until control is granted, and after it is revoked
    assert await refused(adviser, dict(click)) == "cobrowse_no_control"
    await step(adviser, "cobrowse.control_request", cid)
    assert await refused(adviser, dict(click)) == "cobrowse_no_control"
    await step(customer, "cobrowse.control_answer", cid, accept=True)
    await adviser.expect("event", kind="cobrowse.control_granted")
    inputs = [
        {"action": "click", "x": 100, "y": 50, "target": 42},
        {"action": "scroll", "dx": 0, "dy": 240},
        {"action": "type", "target": 17, "text": "Hauptstraße 5"},
        {"action": "key", "target": 17, "key": "Backspace"},
    ]
    for fields in inputs:
        await adviser.send("cobrowse.input", conversation_id=cid, **fields)
    got = [await customer.expect("cobrowse.input") for _ in inputs]
    for sent, out in zip(inputs, got, strict=True):
        assert {k: v for k, v in out.items() if k in sent} == sent
        assert out["from"]["role"] == "adviser"
    assert got[1]["target"] is None and got[0]["text"] is None
    assert not [f for f in adviser.frames if f["type"] == "cobrowse.input"]
    # wrong fields for an action, and the customer cannot send inputs
    assert await refused(adviser, {**click, "text": "x"}) == "bad_request"
    assert await refused(customer, dict(click)) == "forbidden"
    # a snapshot request goes to the customer
    await adviser.send("cobrowse.resync", conversation_id=cid)
    await customer.expect("cobrowse.resync")
    await step(customer, "cobrowse.control_revoke", cid)
    assert await refused(adviser, dict(click)) == "cobrowse_no_control"
    assert "Hauptstra" not in server.log()
    await asyncio.gather(adviser.close(), customer.close())


async def test_ending_the_conversation_ends_cobrowsing(server: LiveServer) -> None:
    adviser, customer, cid, _token = await room(server)
    await step(adviser, "cobrowse.request", cid)
    await step(customer, "cobrowse.answer", cid, accept=True)
    await step(adviser, "cobrowse.control_request", cid)
    await step(customer, "cobrowse.control_answer", cid, accept=True)
    await step(adviser, "conversation.end", cid)
    ended = await customer.expect("event", kind="cobrowse.ended")
    gone = await customer.expect("event", kind="conversation.ended")
    assert ended["body"] == {"reason": "conversation_ended"}
    assert gone["seq"] == ended["seq"] + 1
    assert await refused(customer, batch({"type": 3})) == "invalid_state"
    click = {"type": "cobrowse.input", "conversation_id": cid, "action": "click", "x": 1,
             "y": 1}  # fmt: skip
    assert await refused(adviser, click) == "cobrowse_no_control"
    assert await refused(adviser, {"type": "cobrowse.request", "conversation_id": cid}) == (
        "invalid_state"
    )
    await asyncio.gather(adviser.close(), customer.close())


async def test_the_mirror_page_has_its_own_policy(server: LiveServer) -> None:
    """The console stays strict; only the script-less mirror page allows inline styles
    and the company site's images, styles and fonts."""
    import httpx

    async with httpx.AsyncClient(base_url=server.base_url) as http:
        mirror = await http.get("/console/mirror")
        console = await http.get("/console")
    csp = mirror.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'self'" in csp
    assert "style-src 'self' 'unsafe-inline' https://www.bank.example" in csp
    assert "img-src 'self' data: blob: https://www.bank.example" in csp
    assert mirror.headers["x-frame-options"] == "SAMEORIGIN"
    strict = console.headers["content-security-policy"]
    assert "unsafe-inline" not in strict and "bank.example" not in strict
    assert "frame-src 'self'" in strict


async def test_a_blind_transfer_ends_co_browsing(server: LiveServer) -> None:
    """The customer consented to share with this adviser, not with whoever comes next."""
    adviser, customer, cid, _token = await room(server)
    colleague = await adviser_socket(server, "ben@bank.example", "Ben Kurz")
    await step(adviser, "cobrowse.request", cid)
    await step(customer, "cobrowse.answer", cid, accept=True)
    await step(adviser, "cobrowse.control_request", cid)
    await step(customer, "cobrowse.control_answer", cid, accept=True)
    cookie, _ = await login(server.base_url, "ben@bank.example", PASSWORD)
    async with httpx.AsyncClient(
        base_url=server.base_url, cookies={"visavis_session": cookie}
    ) as c:
        advisers = (await c.get("/api/v1/advisers")).json()["advisers"]
    ben_id = next(a["id"] for a in advisers if a["name"] == "Ben Kurz")
    ack = await adviser.request("transfer.start", conversation_id=cid, mode="blind",
                                to_adviser_id=ben_id)  # fmt: skip
    assert ack["type"] == "ack", ack
    ended = await customer.expect("event", kind="cobrowse.ended")
    moved = await customer.expect("event", kind="conversation.transferred")
    assert ended["body"] == {"reason": "transferred"} and moved["seq"] == ended["seq"] + 1
    # the mirror is refused now; the new adviser must ask again
    assert await refused(customer, batch({"type": 3})) == "invalid_state"
    assert (await step(colleague, "cobrowse.request", cid))["type"] == "ack"
    await asyncio.gather(adviser.close(), customer.close(), colleague.close())
