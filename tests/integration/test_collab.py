"""The room's collaboration over a real server: uploads (and every refusal, with
nothing stored), access tokens, pages and files, the stage commands with strict
validation and permissions, the pointer relay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sample_files
from conftest import LiveServer, make_server
from helpers import PASSWORD, adviser_socket, session
from wsclient import WsClient, new_conversation


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[LiveServer]:
    srv = make_server(tmp_path, database_url, VISAVIS_UPLOAD_MAX_BYTES="2000000")
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


def stored_files(server: LiveServer) -> list[Path]:
    return [p for p in (server.data_dir / "files").rglob("*") if p.is_file()]


async def upload(
    client: httpx.AsyncClient, conv_id: str, data: bytes, **params: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/conversations/{conv_id}/documents", content=data, params=params
    )


async def test_uploads_reach_the_other_side_and_refusals_store_nothing(server: LiveServer) -> None:
    adviser, customer, conv_id, token = await room(server)
    bearer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=bearer) as cust:
        # a customer's PDF: the adviser gets document.shared
        r = await upload(cust, conv_id, sample_files.pdf(3), name="Antrag.pdf")
        assert r.status_code == 201, r.text
        doc = r.json()["document"]
        assert doc["kind"] == "pdf" and len(doc["pages"]) == 3 and doc["source"] == "upload"
        shared = await adviser.expect("event", kind="document.shared")
        assert shared["body"] == doc and shared["author"]["role"] == "customer"
        files_before = stored_files(server)
        # every refusal: its code, and no row (no event) and no file
        refusals = [
            (b"", "upload_empty", 400),
            (b"x" * 2_000_001, "upload_too_large", 413),
            (b"<html><script>alert(1)</script></html>", "upload_type", 415),
            (sample_files.pdf(1)[:200], "pdf_malformed", 422),
            (sample_files.encrypted_pdf("u", "o"), "pdf_encrypted", 422),
            (sample_files.edited_pdf(
                lambda p: p.Root.__setattr__("OpenAction", sample_files.js_action())),
             "pdf_active_content", 422),
            (sample_files.png_header_only(60000, 60000), "image_too_large", 422),
            (sample_files.image("png")[:60], "image_malformed", 422),
            (sample_files.video("webm", "libvpx"), "video_type", 415),
        ]  # fmt: skip
        for data, code, status in refusals:
            r = await upload(cust, conv_id, data)
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
        assert stored_files(server) == files_before
    async with await session(server, "anna@bank.example") as anna:
        r = await upload(anna, conv_id, sample_files.image("jpeg"), name="Foto.jpg")
        assert r.status_code == 201, r.text
        assert r.json()["document"]["kind"] == "image"
        got = await customer.wait_for(
            lambda f: f.get("kind") == "document.shared" and f["author"]["role"] == "adviser"
        )
        assert got["body"]["name"] == "Foto.jpg"
        # the CSRF rule of every adviser mutation
        r = await anna.post(
            f"/api/v1/conversations/{conv_id}/documents",
            content=sample_files.image("png"),
            headers={"X-CSRF-Token": "wrong"},
        )
        assert r.json()["error"]["code"] == "csrf_failed"
    late = await WsClient.connect(server.ws_url, token=token)
    await late.request("subscribe", conversation_id=conv_id, after_seq=0)
    kinds = [e["kind"] for e in late.events(conv_id)]
    assert kinds.count("document.shared") == 2  # the refused ones left no event
    await asyncio.gather(adviser.close(), customer.close(), late.close())


async def test_access_tokens_pages_and_files(server: LiveServer) -> None:
    adviser, customer, conv_id, token = await room(server)
    _, other_token = await new_conversation(server.base_url, customer_name="Otto")
    async with (
        httpx.AsyncClient(base_url=server.base_url,
                          headers={"Authorization": f"Bearer {token}"}) as cust,
        httpx.AsyncClient(base_url=server.base_url,
                          headers={"Authorization": f"Bearer {other_token}"}) as other,
        await session(server, "anna@bank.example") as anna,
    ):  # fmt: skip
        original = sample_files.pdf(2)
        doc = (await upload(cust, conv_id, original)).json()["document"]
        did = doc["document_id"]
        access = (await cust.post(f"/api/v1/documents/{did}/access")).json()
        assert access["expires_at"].endswith("Z")
        a = access["token"]
        page = await cust.get(f"/api/v1/documents/{did}/pages/1", params={"w": "480", "a": a})
        assert page.status_code == 200 and page.headers["content-type"] == "image/jpeg"
        assert page.content[:3] == b"\xff\xd8\xff"
        for bad_page in ("2", "-1", "x"):
            r = await cust.get(f"/api/v1/documents/{did}/pages/{bad_page}", params={"a": a})
            assert r.status_code in (400, 404), r.text
        f = await cust.get(f"/api/v1/documents/{did}/file", params={"a": a})
        assert (f.status_code, f.content) == (200, original)
        assert f.headers["content-disposition"].startswith("attachment")
        assert f.headers["x-content-type-options"] == "nosniff"
        assert f.headers["content-security-policy"] == "sandbox; default-src 'none'"
        # another conversation's customer: no token for it, and ours does not open it
        r = await other.post(f"/api/v1/documents/{did}/access")
        assert r.json()["error"]["code"] == "forbidden"
        # a token is for one document only
        doc2 = (await upload(cust, conv_id, sample_files.image("png"))).json()["document"]
        r = await cust.get(f"/api/v1/documents/{doc2['document_id']}/pages/0", params={"a": a})
        assert r.json()["error"]["code"] == "forbidden"
        r = await cust.get(f"/api/v1/documents/{did}/pages/0", params={"a": a + "x"})
        assert r.json()["error"]["code"] == "unauthorized"
        # the adviser gets a token too; a colleague with no part in it does not
        r = await anna.post(f"/api/v1/documents/{did}/access")
        assert r.status_code == 200, r.text
        # a library document that is not downloadable: shown to the customer, not given
        server.add_adviser("root@bank.example", PASSWORD, "Root", role="admin")
        async with await session(server, "root@bank.example") as root:
            r = await root.post("/api/v1/library", content=sample_files.pdf(1),
                                params={"name": "Blatt.pdf", "downloadable": "false"})  # fmt: skip
            assert r.status_code == 201, r.text
            lib_id = r.json()["document"]["id"]
            video = sample_files.video("webm", "libvpx")
            r = await root.post("/api/v1/library", content=video, params={"name": "Film"})
            assert r.json()["document"]["kind"] == "video", r.text
            video_lib = r.json()["document"]["id"]
        r = await anna.post("/api/v1/library", content=sample_files.pdf(1))
        assert r.json()["error"]["code"] == "forbidden"  # admins only
        listed = (await anna.get("/api/v1/library")).json()["documents"]
        assert [d["id"] for d in listed] == [video_lib, lib_id]  # newest first
        # a shared video: inline, with HTTP Range for <video>
        ack = await adviser.request("doc.share", conversation_id=conv_id, library_id=video_lib)
        assert ack["type"] == "ack", ack
        vid = (await customer.wait_for(
            lambda f: f.get("kind") == "document.shared" and f["body"]["kind"] == "video"
        ))["body"]["document_id"]  # fmt: skip
        va = (await cust.post(f"/api/v1/documents/{vid}/access")).json()["token"]
        r = await cust.get(f"/api/v1/documents/{vid}/file", params={"a": va},
                           headers={"Range": "bytes=10-19"})  # fmt: skip
        assert r.status_code == 206 and r.content == video[10:20], r.status_code
        assert r.headers["content-disposition"].startswith("inline")
        assert (await adviser.request("video.control", conversation_id=conv_id, document_id=vid,
                                      action="seek", position=1.5))["type"] == "ack"  # fmt: skip
        ack = await adviser.request("doc.share", conversation_id=conv_id, library_id=lib_id)
        assert ack["type"] == "ack", ack
        shared = await customer.wait_for(
            lambda f: (
                f.get("kind") == "document.shared"
                and f["body"]["kind"] == "pdf"
                and f["body"]["source"] == "library"
            )
        )
        lid = shared["body"]["document_id"]
        a2 = (await cust.post(f"/api/v1/documents/{lid}/access")).json()["token"]
        r = await cust.get(f"/api/v1/documents/{lid}/file", params={"a": a2})
        assert r.json()["error"]["code"] == "forbidden"
        r = await cust.get(f"/api/v1/documents/{lid}/pages/0", params={"a": a2})
        assert r.status_code == 200
    await asyncio.gather(adviser.close(), customer.close())


def test_access_token_expiry() -> None:
    """Tokens are checked with their lifetime (signed time + 15 min): one signed in
    the past is refused with `expired`."""
    from datetime import UTC, datetime, timedelta

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from visavis.collab.access import DocumentAccess, Grant

    access = DocumentAccess("k" * 32)
    token, expires = access.issue(Grant("d" * 22, "c" * 22, "customer", None))
    assert access.check(token, "d" * 22).conversation_id == "c" * 22
    assert expires - datetime.now(UTC) <= timedelta(minutes=15)

    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int((datetime.now(UTC) - timedelta(minutes=16)).timestamp())

    old = URLSafeTimedSerializer("k" * 32, salt="visavis.document-access.v1", signer=Old)
    stale = old.dumps({"d": "d" * 22, "c": "c" * 22, "r": "customer", "a": None})
    from visavis.errors import VisavisError

    with pytest.raises(VisavisError) as err:
        access.check(str(stale), "d" * 22)
    assert err.value.code == "expired"


async def test_stage_commands_are_checked_logged_and_replayed(server: LiveServer) -> None:
    adviser, customer, conv_id, token = await room(server)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}
    ) as cust:
        did = (await upload(cust, conv_id, sample_files.pdf(2))).json()["document"]["document_id"]
    other = await new_conversation(server.base_url, customer_name="Otto")
    base = {"conversation_id": conv_id, "document_id": did}
    stroke = {**base, "page": 1, "annotation_id": "stroke-0001", "tool": "pen",
              "color": "red", "points": [[0.1, 0.2], [0.3, 0.4]]}  # fmt: skip
    for kind, fields in [
        ("doc.present", {**base, "page": 1}),
        ("annotation.add", stroke),
        ("annotation.add", {**stroke, "annotation_id": "text-00001", "tool": "text",
                            "points": [[0.5, 0.5]], "text": "Hier unterschreiben"}),
        ("annotation.clear", {**base, "page": 0}),
        ("stage.clear", {"conversation_id": conv_id}),
    ]:  # fmt: skip
        ack = await customer.request(kind, **fields)
        assert ack["type"] == "ack" and ack["seq"] > 0, (kind, ack)
    # strict validation and checks: nothing of these is stored
    bad: list[tuple[dict[str, Any], str]] = [
        ({"type": "doc.present", **base, "page": "1"}, "bad_request"),
        ({"type": "doc.present", **base, "page": 1.0}, "bad_request"),
        ({"type": "doc.present", **base, "page": 1, "extra": True}, "bad_request"),
        ({"type": "doc.present", **base, "page": 2}, "bad_request"),  # out of range
        ({"type": "doc.present", "conversation_id": other[0], "document_id": did, "page": 0},
         "forbidden"),
        ({"type": "annotation.add", **stroke, "points": []}, "bad_request"),
        ({"type": "annotation.add", **stroke, "points": [[1.5, 0]]}, "bad_request"),
        ({"type": "annotation.add", **stroke, "points": [[0.1, 0.1]] * 501}, "bad_request"),
        ({"type": "annotation.add", **stroke, "text": "only for text"}, "bad_request"),
        ({"type": "annotation.add", **stroke, "color": "pink"}, "bad_request"),
        ({"type": "video.control", **base, "action": "play", "position": 0}, "bad_request"),
        ({"type": "video.control", **base, "action": "play", "position": "0"}, "bad_request"),
        ({"type": "doc.share", "conversation_id": conv_id, "library_id": "x" * 22},
         "forbidden"),  # advisers only
        ({"type": "snapshot.request", "conversation_id": conv_id}, "forbidden"),
        ({"type": "doc.present", **base, "document_id": "nosuchdoc1", "page": 0}, "not_found"),
    ]  # fmt: skip
    for i, (frame, code) in enumerate(bad):
        await customer.send_raw(json.dumps({"v": 1, "id": f"bad-{i}", **frame}))
        err = await customer.wait_for(lambda f, i=i: f.get("id") == f"bad-{i}")
        assert (err["type"], err.get("code")) == ("error", code), (frame, err)
    # a document of another conversation is not found from this one
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"Authorization": f"Bearer {other[1]}"}
    ) as o:
        foreign = (await upload(o, other[0], sample_files.image("png"))).json()["document"]
    err = await adviser.request(
        "doc.present", conversation_id=conv_id, document_id=foreign["document_id"], page=0
    )
    assert err["code"] == "not_found", err
    # snapshot: adviser asks, customer declines
    assert (await adviser.request("snapshot.request", conversation_id=conv_id))["type"] == "ack"
    err = await adviser.request("snapshot.decline", conversation_id=conv_id)
    assert err["code"] == "forbidden"
    assert (await customer.request("snapshot.decline", conversation_id=conv_id))["type"] == "ack"
    # all of it is in the log: a new socket replays it
    late = await WsClient.connect(server.ws_url, token=token)
    await late.request("subscribe", conversation_id=conv_id, after_seq=0)
    kinds = [e["kind"] for e in late.events(conv_id)]
    want = ["document.shared", "document.presented", "annotation.added", "annotation.added",
            "annotation.cleared", "stage.cleared", "snapshot.requested", "snapshot.declined"]  # fmt: skip
    assert [k for k in kinds if k in set(want)] == want
    # ended: no more stage commands
    await customer.request("conversation.end", conversation_id=conv_id)
    err = await customer.request("doc.present", **base, page=0)
    assert err["code"] == "invalid_state"
    await asyncio.gather(adviser.close(), customer.close(), late.close())


async def test_pointer_is_relayed_coalesced_rate_limited_and_not_logged(
    server: LiveServer,
) -> None:
    adviser, customer, conv_id, token = await room(server)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}
    ) as cust:
        did = (await upload(cust, conv_id, sample_files.pdf(1))).json()["document"]["document_id"]
    n = 200
    for i in range(n):
        await adviser.send("pointer", conversation_id=conv_id, surface="document",
                           document_id=did, page=0, x=i / n, y=0.123456, visible=True)  # fmt: skip
    last = await customer.wait_for(
        lambda f: f["type"] == "pointer" and f["x"] == (n - 1) / n, timeout=15
    )
    assert last["from"]["role"] == "adviser" and last["document_id"] == did
    got = [f for f in customer.frames if f["type"] == "pointer"]
    # coalesced: far fewer than sent (200 within well under a second), the last one came
    assert len(got) < n / 2, len(got)
    # the sender's own socket is not echoed; chat frames are not slowed by pointers
    assert not [f for f in adviser.frames if f["type"] == "pointer"]
    ack = await adviser.request("chat.send", conversation_id=conv_id, client_id="c" * 16,
                                text="still here")  # fmt: skip
    assert ack["type"] == "ack", ack
    # bad pointers are refused (strictly), without a log line
    err = await adviser.request("pointer", conversation_id=conv_id, surface="document",
                                document_id=did, page=3, x=0.5, y=0.5, visible=True)  # fmt: skip
    assert err["code"] == "bad_request"
    err = await adviser.request("pointer", conversation_id=conv_id, surface="video",
                                document_id=None, page=None, x="0.5", y=0.5, visible=True)  # fmt: skip
    assert err["code"] == "bad_request"
    await customer.send("doc.view", conversation_id=conv_id, document_id=did, page=0,
                        zoom=2.5, x=0.25, y=0.75)  # fmt: skip
    view = await adviser.expect("doc.view")
    assert (view["zoom"], view["from"]["role"]) == (2.5, "customer")
    log = server.log()
    assert "0.123456" not in log and "pointer" not in log
    await asyncio.gather(adviser.close(), customer.close())


async def test_download_rights_are_the_advisers_and_the_file_route_follows_them(
    server: LiveServer,
) -> None:
    adviser, customer, conv_id, token = await room(server)
    ben = await adviser_socket(server, "ben@bank.example", "Ben")
    other_conv, _ = await new_conversation(server.base_url, customer_name="Otto")
    async with (
        httpx.AsyncClient(base_url=server.base_url,
                          headers={"Authorization": f"Bearer {token}"}) as cust,
        await session(server, "anna@bank.example") as anna,
    ):  # fmt: skip
        original = sample_files.pdf(1)
        did = (await upload(cust, conv_id, original)).json()["document"]["document_id"]
        # a token taken while downloading is allowed: revoking must hold against it too
        a = (await cust.post(f"/api/v1/documents/{did}/access")).json()["token"]
        aa = (await anna.post(f"/api/v1/documents/{did}/access")).json()["token"]

        async def customer_file() -> int:
            return (await cust.get(f"/api/v1/documents/{did}/file", params={"a": a})).status_code

        assert await customer_file() == 200
        base = {"conversation_id": conv_id, "document_id": did}
        ack = await adviser.request("doc.rights", **base, downloadable=False)
        assert ack["type"] == "ack" and ack["seq"] > 0, ack
        for ws in (adviser, customer):
            ev = await ws.wait_for(lambda f: f.get("kind") == "document.rights")
            assert ev["seq"] == ack["seq"] and ev["author"]["role"] == "adviser"
            assert ev["body"] == {"document_id": did, "downloadable": False}
        assert await customer_file() == 403  # at once, with the same token
        r = await cust.get(f"/api/v1/documents/{did}/pages/0", params={"a": a})
        assert r.status_code == 200  # still shown on the stage
        r = await anna.get(f"/api/v1/documents/{did}/file", params={"a": aa})
        assert (r.status_code, r.content) == (200, original)  # advisers always
        # the customer does not decide; an adviser of another conversation neither
        err = await customer.request("doc.rights", **base, downloadable=True)
        assert err["code"] == "forbidden", err
        err = await ben.request("doc.rights", **base, downloadable=True)
        assert err["code"] == "forbidden", err
        # strict: nothing of these is stored
        bad: list[tuple[dict[str, Any], str]] = [
            ({**base, "downloadable": "true"}, "bad_request"),
            ({**base, "downloadable": 1}, "bad_request"),
            ({**base, "downloadable": None}, "bad_request"),
            (base, "bad_request"),
            ({**base, "downloadable": True, "name": "x"}, "bad_request"),
            ({**base, "document_id": "short", "downloadable": True}, "bad_request"),
            ({**base, "document_id": "nosuchdoc1", "downloadable": True}, "not_found"),
            ({**base, "conversation_id": other_conv, "downloadable": True}, "forbidden"),
        ]  # fmt: skip
        for i, (fields, code) in enumerate(bad):
            frame = {"v": 1, "id": f"bad-{i}", "type": "doc.rights", **fields}
            await adviser.send_raw(json.dumps(frame))
            err = await adviser.wait_for(lambda f, i=i: f.get("id") == f"bad-{i}")
            assert (err["type"], err.get("code")) == ("error", code), (fields, err)
        assert await customer_file() == 403
        # a consulting colleague decides too: Ben allows it again
        advisers = (await anna.get("/api/v1/advisers")).json()["advisers"]
        ben_id = next(x["id"] for x in advisers if x["name"] == "Ben")
        ack = await adviser.request("transfer.start", conversation_id=conv_id,
                                    mode="consultative", to_adviser_id=ben_id)  # fmt: skip
        assert ack["type"] == "ack", ack
        await ben.expect("conversation.assigned")
        ack = await ben.request("doc.rights", **base, downloadable=True)
        assert ack["type"] == "ack", ack
        ev = await customer.wait_for(lambda f: f.get("seq") == ack["seq"])
        assert ev["body"]["downloadable"] is True and ev["author"]["name"] == "Ben"
        assert await customer_file() == 200
    # the log holds exactly the two decisions: a late joiner replays them
    late = await WsClient.connect(server.ws_url, token=token)
    await late.request("subscribe", conversation_id=conv_id, after_seq=0)
    rights = [e["body"]["downloadable"] for e in late.events(conv_id)
              if e["kind"] == "document.rights"]  # fmt: skip
    assert rights == [False, True]
    # ended: the decisions stand, no new ones
    await customer.request("conversation.end", conversation_id=conv_id)
    err = await adviser.request("doc.rights", **base, downloadable=False)
    assert err["code"] == "invalid_state", err
    await asyncio.gather(adviser.close(), customer.close(), ben.close(), late.close())
