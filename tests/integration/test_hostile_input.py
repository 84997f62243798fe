"""What an outside client written from docs/protocol.md found: deep nesting, coerced
types, frames without `v`, large frames, TURN credentials for a consulting colleague,
half-sent requests, LIKE wildcards in search. Each answered the documented way."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer, make_server
from helpers import PASSWORD, adviser_socket
from test_transfers import setup as transfer_setup
from wsclient import WsClient, login, new_conversation


async def customer_socket(server: LiveServer) -> tuple[WsClient, str]:
    conv_id, token = await new_conversation(server.base_url)
    ws = await WsClient.connect(server.ws_url, token=token)
    await ws.request("subscribe", conversation_id=conv_id, after_seq=0)
    return ws, conv_id


async def test_deeply_nested_frame_is_bad_json_with_one_log_line(live_server: LiveServer) -> None:
    ws, _ = await customer_socket(live_server)
    for depth in (15_000, 250):
        await ws.send_raw("[" * depth + "]" * depth)
        err = await ws.expect("error")
        assert err["code"] == "bad_json", err
    await ws.send_raw('{"v": 1, "type": "ping", "id": "deep", "x": ' + "[" * 15_000)
    err = await ws.expect("error")
    assert err["code"] == "bad_json" and err["id"] is None
    assert (await ws.request("ping"))["type"] == "pong"
    log = live_server.log()
    assert "Traceback" not in log and "RecursionError" not in log
    assert log.count("bad_json") == 3, log[-3000:]
    await ws.close()


async def test_lone_surrogate_is_bad_json(live_server: LiveServer) -> None:
    """Found by tests/integration/test_fuzz_frames.py: an id of "\\ud94e" was echoed
    in the error, which could not be sent as UTF-8: the socket died with a traceback."""
    ws, conv_id = await customer_socket(live_server)
    await ws.send_raw('{"v": 1, "type": "ping", "id": "\\ud94e"}')
    assert (await ws.expect("error"))["code"] == "bad_json"
    chat = {"v": 1, "type": "chat.send", "id": "s", "conversation_id": conv_id,
            "client_id": "c" * 16, "text": "\udc00 x"}  # fmt: skip
    await ws.send_raw(json.dumps(chat))
    assert (await ws.expect("error"))["code"] == "bad_json"
    assert (await ws.request("ping"))["type"] == "pong"
    async with httpx.AsyncClient(base_url=live_server.base_url) as c:
        r = await c.post(
            "/api/v1/conversations",
            content='{"customer_name": "\\ud800"}',
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_json", r.text
    assert "Traceback" not in live_server.log()
    await ws.close()


async def test_deeply_nested_http_body_is_400_bad_json(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as c:
        for body in ("[" * 30_000, '{"customer_name": ' + "[" * 30_000 + "]" * 30_000 + "}"):
            r = await c.post(
                "/api/v1/conversations",
                content=body,
                headers={"content-type": "application/json"},
            )
            assert r.status_code == 400, r.text
            assert r.json()["error"]["code"] == "bad_json"
    assert "Traceback" not in live_server.log()


async def test_wrong_types_and_missing_v_are_refused(live_server: LiveServer) -> None:
    ws, conv_id = await customer_socket(live_server)
    cases: list[dict[str, Any]] = [
        {"v": 1, "type": "subscribe", "conversation_id": conv_id, "after_seq": "0"},
        {"v": 1, "type": "typing", "conversation_id": conv_id, "active": "yes"},
        {"v": 1, "type": "typing", "conversation_id": conv_id, "active": 1},
        {"v": 1, "type": "receipt", "conversation_id": conv_id, "read_seq": 1.0},
        {"v": "1", "type": "ping"},
        {"type": "ping"},
        {"type": "typing", "conversation_id": conv_id, "active": True},
    ]
    for n, frame in enumerate(cases):
        await ws.send_raw(json.dumps({**frame, "id": f"c{n}"}))
        err = await ws.expect("error")
        assert (err["code"], err["id"]) == ("bad_request", f"c{n}"), (frame, err)
    assert (await ws.request("ping"))["type"] == "pong"
    await ws.close()


async def test_a_type_that_is_no_string_is_unknown_type(live_server: LiveServer) -> None:
    """Found by tests/integration/test_fuzz_frames.py: `"type": []` (unhashable) was
    looked up among the relayed types and killed the socket with a traceback."""
    ws, _ = await customer_socket(live_server)
    kinds: list[Any] = [[], {"a": 1}, 1, None]
    for kind in kinds:
        await ws.send_raw(json.dumps({"v": 1, "type": kind, "id": "t"}))
        assert (await ws.expect("error"))["code"] == "unknown_type"
    assert (await ws.request("ping"))["type"] == "pong"
    assert "Traceback" not in live_server.log()
    await ws.close()


async def test_typing_relays_only_a_real_bool(live_server: LiveServer) -> None:
    ws, conv_id = await customer_socket(live_server)
    anna = await adviser_socket(live_server)
    assert (await anna.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    await anna.request("subscribe", conversation_id=conv_id, after_seq=0)
    await ws.send_raw(
        json.dumps({"v": 1, "type": "typing", "conversation_id": conv_id, "active": "yes"})
    )
    assert (await ws.expect("error"))["code"] == "bad_request"
    await ws.send("typing", conversation_id=conv_id, active=True)
    got = await anna.wait_for(lambda f: f["type"] == "typing")
    assert got["active"] is True
    await asyncio.gather(ws.close(), anna.close())


@pytest.mark.parametrize("size", [100_000, 600_000])
async def test_large_frame_gets_frame_too_large_before_1009(
    live_server: LiveServer, size: int
) -> None:
    ws, _ = await customer_socket(live_server)
    await ws.send_raw(json.dumps({"v": 1, "type": "ping", "id": "big", "pad": "x" * size}))
    err = await ws.expect("error")
    assert err["code"] == "frame_too_large", err
    assert await ws.wait_closed() == 1009


async def test_beyond_the_transport_limit_the_socket_is_closed_1009(
    live_server: LiveServer,
) -> None:
    ws, _ = await customer_socket(live_server)
    await ws.send_raw("z" * (1024 * 1024 + 1))
    assert await ws.wait_closed() == 1009


async def test_consulting_colleague_gets_no_turn_credentials(live_server: LiveServer) -> None:
    anna, ben, customer, conv_id, ben_id = await transfer_setup(live_server)
    ack = await anna.request(
        "transfer.start", conversation_id=conv_id, mode="consultative", to_adviser_id=ben_id
    )
    assert ack["type"] == "ack", ack
    await ben.expect("conversation.assigned")
    refused = await ben.request("ice.request", conversation_id=conv_id)
    assert refused["type"] == "error" and refused["code"] == "forbidden", refused
    # the call's participants still get theirs
    for ws in (anna, customer):
        assert (await ws.request("ice.request", conversation_id=conv_id))["type"] == "ice.servers"
    await asyncio.gather(anna.close(), ben.close(), customer.close())


@pytest.fixture
def impatient_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = make_server(
        tmp_path, VISAVIS_HEADER_TIMEOUT_S="2", VISAVIS_BODY_IDLE_S="2", VISAVIS_BODY_TIMEOUT_S="4"
    )
    server.start()
    yield server
    server.stop()


async def _answer_then_close(server: LiveServer, sent: bytes) -> bytes:
    """Everything the server sends until it closes (the bound is a safety net: the
    deadlines under test are 2-4 s)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(sent)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(-1), 60)
    finally:
        writer.close()


async def test_half_sent_body_is_answered_408_and_closed(impatient_server: LiveServer) -> None:
    head = (
        b"POST /api/v1/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
    )
    answer = await _answer_then_close(impatient_server, head + b'{"kind": "')
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b'"request_timeout"' in answer
    # a body that keeps dripping (a byte a second) is cut at the total deadline
    reader, writer = await asyncio.open_connection("127.0.0.1", impatient_server.port)
    writer.write(head)
    got = b""
    while not got:
        writer.write(b" ")
        await writer.drain()
        try:  # read(n) returns with the first bytes; a timeout loses none
            got = await asyncio.wait_for(reader.read(65536), 1)
        except TimeoutError:
            continue
    got += await asyncio.wait_for(reader.read(-1), 60)
    writer.close()
    assert got.startswith(b"HTTP/1.1 408 ") and b"within 4 s" in got, got


async def test_half_sent_headers_are_answered_408_and_closed(
    impatient_server: LiveServer,
) -> None:
    answer = await _answer_then_close(impatient_server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    # a connection that never says anything is closed without an answer
    assert await _answer_then_close(impatient_server, b"") == b""
    # a normal request on the same server is unaffected
    async with httpx.AsyncClient(base_url=impatient_server.base_url) as c:
        assert (await c.get("/healthz")).status_code == 200
    assert impatient_server.log().count("closing the connection from") == 1


async def test_search_takes_percent_and_underscore_literally(live_server: LiveServer) -> None:
    live_server.add_adviser("admin@bank.example", PASSWORD, "Admin", role="admin")
    for name in ("Rabatt 50%", "Rabatt 500", "a_b", "axb"):
        await new_conversation(live_server.base_url, customer_name=name)
    cookie, _ = await login(live_server.base_url, "admin@bank.example", PASSWORD)
    async with httpx.AsyncClient(
        base_url=live_server.base_url, cookies={"visavis_session": cookie}
    ) as c:

        async def names(q: str) -> list[str]:
            r = await c.get("/api/v1/conversations", params={"q": q})
            assert r.status_code == 200, r.text
            return sorted(x["customer_name"] for x in r.json()["conversations"])

        assert await names("50%") == ["Rabatt 50%"]
        assert await names("a_b") == ["a_b"]
        assert await names("%") == ["Rabatt 50%"]
        assert await names("_") == ["a_b"]
        assert await names("rabatt") == ["Rabatt 50%", "Rabatt 500"]
