"""Live queue positions, availability (JSON and SSE), heartbeats."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

import httpx
from conftest import LiveServer, make_server
from helpers import adviser_socket
from until import until
from wsclient import WsClient, new_conversation


async def test_positions_move_up_as_advisers_accept(live_server: LiveServer) -> None:
    customers = []
    for name in ("first", "second", "third"):
        conv_id, token = await new_conversation(live_server.base_url, customer_name=name)
        ws = await WsClient.connect(live_server.ws_url, token=token)
        await ws.request("subscribe", conversation_id=conv_id, after_seq=0)
        customers.append((conv_id, ws))
    third = customers[2][1]
    await third.wait_for(lambda f: f["type"] == "queue.position" and f["position"] == 3)

    adviser = await adviser_socket(live_server)
    # after "available" the snapshot counts this adviser
    snap = await adviser.wait_for(
        lambda f: f["type"] == "queue.snapshot" and f["advisers_available"] == 1
    )
    assert [e["customer_name"] for e in snap["entries"]] == ["first", "second", "third"]

    assert (await adviser.request("queue.next"))["conversation_id"] == customers[0][0]
    pos = await third.wait_for(lambda f: f["type"] == "queue.position" and f["position"] == 2)
    assert pos["waiting"] == 2 and pos["advisers_available"] == 1
    # the accepted customer stops getting positions and learns who took it
    first = customers[0][1]
    update = await first.expect("conversation.update")
    assert update["conversation"]["status"] == "active"
    assert update["conversation"]["adviser"]["name"] == "Anna Berger"

    # the second customer gives up while waiting: the third moves to the front
    second = customers[1][1]
    assert (await second.request("conversation.end", conversation_id=customers[1][0]))[
        "type"
    ] == "ack"
    await third.wait_for(lambda f: f["type"] == "queue.position" and f["position"] == 1)
    for _, ws in customers:
        await ws.close()
    await adviser.close()


async def test_availability_json_and_event_stream(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        r = await c.get("/api/v1/availability", headers={"Origin": "https://shop.example"})
        state = r.json()
        assert (state["available"], state["advisers_available"], state["waiting"]) == (False, 0, 0)
        assert state["open"] is True and state["estimate_s"] is None
        assert r.headers["access-control-allow-origin"] == "*"
        assert "set-cookie" not in r.headers

        states: list[dict[str, object]] = []

        async def read_stream() -> None:
            async with c.stream("GET", "/api/v1/availability/stream") as resp:
                assert resp.headers["content-type"].startswith("text/event-stream")
                async for line in resp.aiter_lines():
                    if line.startswith("data: "):
                        full = json.loads(line[6:])
                        states.append(
                            {k: full[k] for k in ("available", "advisers_available", "waiting")}
                        )
                        if states[-1] == {"available": True, "advisers_available": 1, "waiting": 1}:
                            assert full["estimate_s"] is not None
                            return

        reader = asyncio.create_task(read_stream())
        await until(lambda: len(states) > 0)  # the state before the adviser came
        adviser = await adviser_socket(live_server)
        await new_conversation(live_server.base_url)
        await asyncio.wait_for(reader, 10)
        assert states[0] == {"available": False, "advisers_available": 0, "waiting": 0}
        assert {"available": True, "advisers_available": 1, "waiting": 0} in states
        # going away makes the widget say so
        await adviser.request("status.set", status="away")
        state = (await c.get("/api/v1/availability")).json()
        assert (state["available"], state["advisers_available"], state["waiting"]) == (False, 0, 1)
        await adviser.close()


async def test_silent_sockets_are_closed_and_ping_keeps_alive(tmp_path: Path) -> None:
    server = make_server(tmp_path, VISAVIS_HEARTBEAT_S="1")
    server.start()
    try:
        _, token = await new_conversation(server.base_url)
        silent = await WsClient.connect(server.ws_url, token=token)
        chatty = await WsClient.connect(server.ws_url, token=token)
        for _ in range(8):
            await chatty.request("ping")
            await asyncio.sleep(0.5)
        assert await silent.wait_closed(5) == 4408
        assert chatty.closed_code is None
        await chatty.close()
    finally:
        server.stop()


async def test_bundles_are_served_compressed(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as c:
        r = await c.get("/widget.js", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, "frontend not built: run scripts/setup.sh"
        assert r.headers.get("content-encoding") == "gzip"
        assert r.headers["access-control-allow-origin"] == "*"
        assert "content-security-policy" in r.headers


async def test_the_widget_weighs_at_most_3_kb_before_a_click(live_server: LiveServer) -> None:
    """What a host page loads for the button before anyone clicks — the loader, the
    first availability event, the proactive rules — each gzip-compressed at level 9
    as bench/widget_weight.py counts it, stays within 3 KB."""

    def gz(data: bytes) -> int:
        return len(gzip.compress(data, compresslevel=9, mtime=0))

    async with httpx.AsyncClient(base_url=live_server.base_url) as c:
        loader = (await c.get("/widget.js")).content
        rules = (await c.get("/api/v1/proactive-rules")).content
        async with c.stream("GET", "/api/v1/availability/stream") as resp:
            first = b""
            async for line in resp.aiter_lines():
                first += line.encode() + b"\n"
                if line == "" and b"data: " in first:
                    break
    sizes = {"loader": gz(loader), "availability": gz(first), "rules": gz(rules)}
    assert sum(sizes.values()) <= 3072, sizes
