"""The supervisors' overview is pushed (`overview.snapshot`): status and load of every
adviser and the running conversations, live, to supervisors only."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from conftest import LiveServer
from helpers import PASSWORD, adviser_socket
from wsclient import WsClient, login, new_conversation


def _adviser(frame: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in frame["advisers"] if a["name"] == name)


async def shows(ws: WsClient, name: str, **want: Any) -> dict[str, Any]:
    """The next overview.snapshot, in the order they came, in which adviser `name` has
    the given fields; the ones before it are consumed (they show an older state, and
    must not satisfy a later wait)."""
    while True:
        frame = await ws.expect("overview.snapshot")
        entry = next((a for a in frame["advisers"] if a["name"] == name), None)
        if entry is not None and all(entry[k] == v for k, v in want.items()):
            return frame


async def test_supervisor_sees_status_and_load_live(
    live_server: LiveServer,
) -> None:
    server = live_server
    server.add_adviser("anna@bank.example", PASSWORD, "Anna Berger")
    boss = await adviser_socket(server, "boss@bank.example", "Boss", role="supervisor")
    # right after welcome: the overview as it is, Anna not signed in
    first = await shows(boss, "Anna Berger", status="offline", active=0)
    assert first["conversations"] == []
    assert _adviser(first, "Anna Berger")["max_chats"] == 3

    # Anna signs in (as added: away), then goes available
    cookie, _ = await login(server.base_url, "anna@bank.example", PASSWORD)
    anna = await WsClient.connect(server.ws_url, cookie=cookie)
    await shows(boss, "Anna Berger", status="away")
    assert (await anna.request("status.set", status="available"))["type"] == "ack"
    await shows(boss, "Anna Berger", status="available")

    # she steps away and back: the supervisor is told, without asking
    assert (await anna.request("status.set", status="away"))["type"] == "ack"
    await shows(boss, "Anna Berger", status="away")
    assert (await anna.request("status.set", status="available"))["type"] == "ack"
    await shows(boss, "Anna Berger", status="available")

    # she takes a customer: her load and the running conversation
    conv_id, _token = await new_conversation(server.base_url, customer_name="Erika")
    ack = await anna.request("conversation.accept", conversation_id=conv_id)
    assert ack["type"] == "ack", ack
    taken = await shows(boss, "Anna Berger", active=1)
    [live] = taken["conversations"]
    assert (live["id"], live["status"], live["customer_name"]) == (conv_id, "active", "Erika")
    assert live["adviser"]["name"] == "Anna Berger"

    # the same list as the HTTP API gives (one function serves both)
    async with httpx.AsyncClient(
        base_url=server.base_url, cookies={"visavis_session": cookie}
    ) as c:
        listed = (await c.get("/api/v1/advisers")).json()["advisers"]
    assert listed == taken["advisers"]

    # she ends it: load back to 0, nothing running
    assert (await anna.request("conversation.end", conversation_id=conv_id))["type"] == "ack"
    ended = await shows(boss, "Anna Berger", active=0)
    assert ended["conversations"] == []

    # her last socket closes: offline
    await anna.close()
    await shows(boss, "Anna Berger", status="offline")

    # A reconnecting supervisor gets the overview right after welcome (no poll needed).
    await boss.close()
    cookie, _ = await login(server.base_url, "boss@bank.example", PASSWORD)
    again = await WsClient.connect(server.ws_url, cookie=cookie)
    snap = await again.expect("overview.snapshot")
    assert _adviser(snap, "Anna Berger")["status"] == "offline"
    assert _adviser(snap, "Boss")["status"] == "available"
    await again.close()


async def test_normal_advisers_get_no_overview(live_server: LiveServer) -> None:
    server = live_server
    boss = await adviser_socket(server, "boss@bank.example", "Boss", role="supervisor")
    anna = await adviser_socket(server, "anna@bank.example", "Anna Berger")
    ben = await adviser_socket(server, "ben@bank.example", "Ben Schulz")
    # Ben's changes reach the supervisor ...
    assert (await ben.request("status.set", status="away"))["type"] == "ack"
    await shows(boss, "Ben Schulz", status="away")
    conv_id, _token = await new_conversation(server.base_url, customer_name="Erika")
    assert (await anna.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    await shows(boss, "Anna Berger", active=1)
    assert (await anna.request("conversation.end", conversation_id=conv_id))["type"] == "ack"
    await shows(boss, "Anna Berger", active=0)
    # ... pushed to the sockets of all supervisors of this node in one loop: had Anna's
    # or Ben's been among them, theirs would have arrived by now too.
    await asyncio.sleep(0.5)
    for ws in (anna, ben):
        assert [f for f in ws.frames if f["type"] == "overview.snapshot"] == []
    for ws in (boss, anna, ben):
        await ws.close()
