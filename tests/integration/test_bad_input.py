"""Bad input and authorization: clear errors with stable codes, nothing lost."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer, make_server
from helpers import PASSWORD, adviser_socket
from wsclient import WsClient, cid, login, new_conversation


async def customer_socket(server: LiveServer, **body: object) -> tuple[WsClient, str, str]:
    conv_id, token = await new_conversation(server.base_url, **body)
    ws = await WsClient.connect(server.ws_url, token=token)
    await ws.request("subscribe", conversation_id=conv_id, after_seq=0)
    return ws, conv_id, token


async def test_malformed_frames_get_errors_and_socket_survives(live_server: LiveServer) -> None:
    ws, conv_id, _ = await customer_socket(live_server)
    ok = await ws.request("chat.send", conversation_id=conv_id, client_id=cid(), text="kept")
    cases = [
        ("{not json", "bad_json"),
        ("[1,2]", "bad_request"),
        (json.dumps({"v": 1, "type": "teleport", "id": "t1"}), "unknown_type"),
        (json.dumps({"v": 1, "type": "chat.send", "id": "t2", "conversation_id": conv_id}), "bad_request"),
        (json.dumps({"v": 1, "type": "chat.send", "id": "t3", "conversation_id": conv_id,
                     "client_id": cid(), "text": "x" * 4001}), "bad_request"),
        (json.dumps({"v": 1, "type": "ping", "id": "t4", "extra": 1}), "bad_request"),
        (json.dumps({"v": 2, "type": "ping", "id": "t5"}), "bad_request"),
        (json.dumps({"v": 1, "type": "chat.send", "id": "t6", "conversation_id": conv_id,
                     "client_id": "short", "text": "x"}), "bad_request"),
        (json.dumps({"v": 1, "type": "chat.send", "id": "t7", "conversation_id": conv_id,
                     "client_id": cid(), "text": "   "}), "bad_request"),
        (json.dumps({"v": 1, "type": "hello", "id": "t8"}), "invalid_state"),
    ]  # fmt: skip
    for raw, code in cases:
        await ws.send_raw(raw)
        err = await ws.expect("error")
        assert err["code"] == code, (raw, err)
        assert err["message"]
    # the id of a refused frame is echoed when it can be read
    await ws.send_raw(json.dumps({"v": 1, "type": "teleport", "id": "echo-me"}))
    assert (await ws.expect("error"))["id"] == "echo-me"
    # still open, still working, nothing lost
    pong = await ws.request("ping")
    assert pong["type"] == "pong"
    other = await WsClient.connect(live_server.ws_url, token=_token_of(ws))
    await other.request("subscribe", conversation_id=conv_id, after_seq=0)
    texts = [e["body"].get("text") for e in other.events(conv_id) if e["kind"] == "chat.message"]
    assert texts == ["kept"] and ok["seq"] == 2
    await asyncio.gather(ws.close(), other.close())


def _token_of(ws: WsClient) -> str:
    assert ws.token is not None
    return ws.token


async def test_oversized_frame_is_refused_and_socket_closed(live_server: LiveServer) -> None:
    ws, conv_id, _ = await customer_socket(live_server)
    await ws.send("chat.send", conversation_id=conv_id, client_id=cid(), text="y" * 40_000)
    err = await ws.expect("error")
    assert err["code"] == "frame_too_large"
    assert await ws.wait_closed() == 1009
    # up to the transport limit (1 MiB) the error comes first, then 1009
    ws2, _, _ = await customer_socket(live_server)
    await ws2.send_raw("z" * 100_000)
    assert (await ws2.expect("error"))["code"] == "frame_too_large"
    assert await ws2.wait_closed() == 1009


async def test_flood_is_rate_limited_then_closed(live_server: LiveServer) -> None:
    ws, conv_id, _ = await customer_socket(live_server)
    ack = await ws.request(
        "chat.send", conversation_id=conv_id, client_id=cid(), text="before flood"
    )
    for i in range(200):
        try:
            await ws.send("ping", id=f"p{i}")
        except Exception:
            break
    assert await ws.wait_closed(10) == 1008
    codes = [f["code"] for f in ws.frames if f["type"] == "error"]
    assert "rate_limited" in codes
    # what was accepted before the flood is still there
    again = await WsClient.connect(live_server.ws_url, token=_token_of(ws))
    await again.request("subscribe", conversation_id=conv_id, after_seq=ack["seq"] - 1)
    assert [e["body"]["text"] for e in again.events(conv_id)] == ["before flood"]
    await again.close()


async def test_first_frame_must_be_hello_and_token_must_be_valid(live_server: LiveServer) -> None:
    ws = await WsClient.connect(live_server.ws_url, hello=False)
    await ws.send("ping", id="early")
    err = await ws.expect("error")
    assert err["code"] == "not_hello" and err["id"] == "early"
    assert await ws.wait_closed() == 4401
    for token in ("forged.token.value", "x" * 600):
        ws = await WsClient.connect(live_server.ws_url, hello=False)
        await ws.send("hello", token=token)
        err = await ws.expect("error")
        assert err["code"] in ("unauthorized", "bad_request")
        assert await ws.wait_closed() == 4401
    # no token and no session cookie: not an adviser either
    ws = await WsClient.connect(live_server.ws_url, hello=False)
    await ws.send("hello")
    assert (await ws.expect("error"))["code"] == "unauthorized"
    assert await ws.wait_closed() == 4401


async def test_customer_token_grants_only_its_own_conversation(live_server: LiveServer) -> None:
    mallory, _, _ = await customer_socket(live_server, customer_name="Mallory")
    alice, a_conv, _ = await customer_socket(live_server, customer_name="Alice")
    frames: list[dict[str, Any]] = [
        {"type": "subscribe", "conversation_id": a_conv, "after_seq": 0},
        {"type": "chat.send", "conversation_id": a_conv, "client_id": cid(), "text": "hijack"},
        {"type": "typing", "conversation_id": a_conv, "active": True},
        {"type": "receipt", "conversation_id": a_conv, "read_seq": 1},
        {"type": "conversation.end", "conversation_id": a_conv},
        {"type": "status.set", "status": "available"},
        {"type": "conversation.accept", "conversation_id": a_conv},
        {"type": "queue.next"},
    ]
    for frame in frames:
        kind = frame.pop("type")
        err = await mallory.request(kind, **frame)
        assert err["type"] == "error" and err["code"] == "forbidden", (kind, err)
    await asyncio.sleep(0.2)
    # Alice's conversation is untouched and Alice saw nothing of Mallory
    assert not [f for f in alice.frames if f["type"] in ("typing", "receipt")]
    assert [e["seq"] for e in alice.events(a_conv)] == [1]
    summary = (await alice.request("subscribe", conversation_id=a_conv, after_seq=0))[
        "conversation"
    ]
    assert summary["status"] == "queued" and summary["last_seq"] == 1
    await asyncio.gather(mallory.close(), alice.close())


async def test_adviser_cannot_act_on_a_colleagues_conversation(live_server: LiveServer) -> None:
    anna = await adviser_socket(live_server, "anna@bank.example", "Anna")
    ben = await adviser_socket(live_server, "ben@bank.example", "Ben")
    conv_id, _ = await new_conversation(live_server.base_url, customer_name="Bob")
    assert (await anna.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    frames: list[dict[str, Any]] = [
        {"type": "chat.send", "conversation_id": conv_id, "client_id": cid(), "text": "not mine"},
        {"type": "typing", "conversation_id": conv_id, "active": True},
        {"type": "receipt", "conversation_id": conv_id, "read_seq": 1},
        {"type": "conversation.end", "conversation_id": conv_id},
        {"type": "subscribe", "conversation_id": conv_id, "after_seq": 0},
    ]
    for frame in frames:
        kind = frame.pop("type")
        err = await ben.request(kind, **frame)
        assert err["type"] == "error" and err["code"] == "forbidden", (kind, err)
    err = await ben.request("conversation.accept", conversation_id=conv_id)
    assert err["code"] == "invalid_state"
    err = await ben.request("subscribe", conversation_id="no-such-conversation", after_seq=0)
    assert err["code"] == "not_found"
    # over HTTP too
    cookie, _ = await login(live_server.base_url, "ben@bank.example", PASSWORD)
    async with httpx.AsyncClient(
        base_url=live_server.base_url, cookies={"visavis_session": cookie}
    ) as c:
        r = await c.get(f"/api/v1/conversations/{conv_id}")
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert (await c.get("/api/v1/conversations")).json()["conversations"] == []
    await asyncio.gather(anna.close(), ben.close())


async def test_adviser_chat_limit(live_server: LiveServer) -> None:
    anna = await adviser_socket(live_server, max_chats=2)
    ids = [(await new_conversation(live_server.base_url))[0] for _ in range(3)]
    assert (await anna.request("queue.next"))["conversation_id"] == ids[0]
    assert (await anna.request("conversation.accept", conversation_id=ids[1]))["type"] == "ack"
    err = await anna.request("conversation.accept", conversation_id=ids[2])
    assert err["code"] == "limit_reached"
    status = await anna.wait_for(lambda f: f["type"] == "adviser.status" and f["active"] == 2)
    assert status["max_chats"] == 2
    # ending one frees a slot
    assert (await anna.request("conversation.end", conversation_id=ids[0]))["type"] == "ack"
    assert (await anna.request("queue.next"))["conversation_id"] == ids[2]
    err = await anna.request("queue.next")
    assert err["code"] in ("not_found", "limit_reached")
    await anna.close()


async def test_foreign_origin_websocket_is_refused(live_server: LiveServer) -> None:
    live_server.add_adviser("anna@bank.example", PASSWORD, "Anna")
    cookie, _ = await login(live_server.base_url, "anna@bank.example", PASSWORD)
    with pytest.raises(Exception) as exc:
        ws = await WsClient.connect(
            live_server.ws_url, cookie=cookie, origin="https://evil.example"
        )
        await ws.wait_closed()
    assert "4403" in str(exc.value) or "403" in str(exc.value)
    ok = await WsClient.connect(live_server.ws_url, cookie=cookie, origin=live_server.base_url)
    await ok.close()


async def test_http_errors_have_stable_codes(tmp_path: Path) -> None:
    server = make_server(
        tmp_path, VISAVIS_CONVERSATIONS_PER_MINUTE="6", VISAVIS_LOGIN_ATTEMPTS_PER_MINUTE="3"
    )
    server.start()
    try:
        server.add_adviser("anna@bank.example", PASSWORD, "Anna")
        async with httpx.AsyncClient(base_url=server.base_url) as c:

            async def err(r: httpx.Response, status: int, code: str) -> None:
                assert r.status_code == status, r.text
                assert r.json()["error"]["code"] == code, r.text

            post = c.post
            await err(
                await post(
                    "/api/v1/conversations",
                    content=b"{oops",
                    headers={"content-type": "application/json"},
                ),
                400,
                "bad_json",
            )
            await err(
                await post("/api/v1/conversations", json={"topic": "nonsense"}), 400, "bad_request"
            )
            await err(
                await post("/api/v1/conversations", json={"customer_name": "x" * 81}),
                400,
                "bad_request",
            )
            await err(
                await post(
                    "/api/v1/conversations", json={"message": {"client_id": "abc", "text": "hi"}}
                ),
                400,
                "bad_request",
            )
            await err(await post("/api/v1/conversations", data={"a": "b"}), 400, "bad_request")
            await err(
                await post("/api/v1/conversations", json={"x": "y" * 70_000}),
                413,
                "frame_too_large",
            )
            # the limit counts refused requests too: six used up, the seventh is refused
            await err(await post("/api/v1/conversations", json={}), 429, "rate_limited")

            await err(
                await post(
                    "/api/v1/session", json={"email": "anna@bank.example", "password": "nope"}
                ),
                401,
                "bad_credentials",
            )
            await err(
                await post(
                    "/api/v1/session", json={"email": "ghost@bank.example", "password": "nope"}
                ),
                401,
                "bad_credentials",
            )
            await err(await c.get("/api/v1/session"), 401, "unauthorized")
            await err(await c.get("/api/v1/conversations"), 401, "unauthorized")
            await err(await c.get("/api/v1/nothing-here"), 404, "not_found")
            for _ in range(3):
                await post(
                    "/api/v1/session", json={"email": "anna@bank.example", "password": "nope"}
                )
            await err(
                await post(
                    "/api/v1/session", json={"email": "anna@bank.example", "password": PASSWORD}
                ),
                429,
                "rate_limited",
            )
    finally:
        server.stop()


async def test_logout_needs_csrf_token_and_ends_the_session(live_server: LiveServer) -> None:
    live_server.add_adviser("anna@bank.example", PASSWORD, "Anna")
    cookie, csrf = await login(live_server.base_url, "anna@bank.example", PASSWORD)
    jar = {"visavis_session": cookie}
    async with httpx.AsyncClient(base_url=live_server.base_url, cookies=jar) as c:
        r = await c.delete("/api/v1/session")
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        r = await c.delete("/api/v1/session", headers={"X-CSRF-Token": "guess"})
        assert r.status_code == 403
        assert (await c.get("/api/v1/session")).status_code == 200
        r = await c.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200
    async with httpx.AsyncClient(base_url=live_server.base_url, cookies=jar) as c:
        assert (await c.get("/api/v1/session")).status_code == 401
    ws = await WsClient.connect(live_server.ws_url, cookie=cookie, hello=False)
    await ws.send("hello")
    assert (await ws.expect("error"))["code"] == "unauthorized"


async def test_session_cookie_flags(live_server: LiveServer) -> None:
    live_server.add_adviser("anna@bank.example", PASSWORD, "Anna")
    async with httpx.AsyncClient(base_url=live_server.base_url) as c:
        r = await c.post(
            "/api/v1/session", json={"email": "anna@bank.example", "password": PASSWORD}
        )
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        r = await c.get("/api/v1/availability")
        assert "set-cookie" not in r.headers
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


async def test_preview_of_a_waiting_customer_ends_when_a_colleague_accepts(
    live_server: LiveServer,
) -> None:
    anna = await adviser_socket(live_server, "anna@bank.example", "Anna")
    ben = await adviser_socket(live_server, "ben@bank.example", "Ben")
    conv_id, token = await new_conversation(live_server.base_url, customer_name="Bob")
    assert (await ben.request("subscribe", conversation_id=conv_id, after_seq=0))[
        "type"
    ] == "subscribed"
    assert (await anna.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    update = await ben.expect("conversation.update")
    assert update["conversation"]["adviser"]["name"] == "Anna"
    customer = await WsClient.connect(live_server.ws_url, token=token)
    ack = await customer.request(
        "chat.send", conversation_id=conv_id, client_id=cid(), text="private"
    )
    await anna.wait_for(lambda f: f["type"] == "event" and f["seq"] == ack["seq"])
    await asyncio.sleep(0.2)
    assert "chat.message" not in [e["kind"] for e in ben.events(conv_id)]
    await asyncio.gather(anna.close(), ben.close(), customer.close())
