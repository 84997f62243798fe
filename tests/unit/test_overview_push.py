"""The supervisors' overview travels over the bus: a change on one node reaches the
supervisors of every node, a burst makes one push, and nodes without supervisors
compute nothing. Two hubs on one bus stand for two nodes."""

from __future__ import annotations

import json
from typing import Any

from until import until

from visavis.auth.service import AdviserView
from visavis.bus import MemoryBus
from visavis.conversations.announcer import Announcer
from visavis.routing.presence import Presence
from visavis.web.connection import Connection
from visavis.web.hub import Hub
from visavis.web.leanws import SEND_NOW


class Socket:
    """What a Connection sends to, recorded as it is pushed (the lean socket's
    `send_text_now`): a push is seen here before the code that pushed goes on."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {"extensions": {SEND_NOW: self.send_text_now}}
        self.sent: list[dict[str, Any]] = []

    def send_text_now(self, *texts: str) -> bool:
        self.sent.extend(json.loads(text) for text in texts)
        return True

    async def send_text(self, text: str) -> None:
        self.send_text_now(text)

    def overviews(self) -> list[dict[str, Any]]:
        return [f for f in self.sent if f["type"] == "overview.snapshot"]


class Conversations:
    """An empty queue: the queue recompute that a socket's arrival starts has nothing
    to do."""

    async def queue(self, status: str = "queued") -> list[dict[str, Any]]:
        return []

    async def team_history(self) -> dict[str | None, Any]:
        return {}


class Roster:
    def __init__(self) -> None:
        self.computed = 0

    async def advisers(self) -> list[dict[str, Any]]:
        self.computed += 1
        return [
            {"id": "anna", "name": "Anna", "role": "adviser", "status": "away",
             "active": self.computed, "max_chats": 3, "teams": []},
        ]  # fmt: skip

    async def live(self) -> list[dict[str, Any]]:
        return []


async def max_chats(adviser_id: str) -> int:
    return 3


async def settled(*hubs: Hub) -> None:
    """Until no hub computes an overview: every push it makes is recorded by then. An
    event, not a time (the recompute waits for a burst to settle first, and a busy
    machine makes it later); bounded only so that a hang fails."""
    await until(lambda: not any(hub._overview_running for hub in hubs))


def node(bus: MemoryBus) -> tuple[Hub, Roster]:
    roster = Roster()
    presence = Presence()
    announcer = Announcer(bus, presence, max_chats)
    hub = Hub(bus, announcer, Conversations(), presence, None, roster, 25, offer_timeout_s=0)  # type: ignore[arg-type]
    return hub, roster


def sign_in(hub: Hub, adviser_id: str, role: str) -> Socket:
    ws = Socket()
    conn = Connection(ws, None, 20, 40)  # type: ignore[arg-type]
    conn.role = "adviser"
    conn.adviser = AdviserView(
        adviser_id, f"{adviser_id}@bank.example", adviser_id, role, 3, "away"
    )
    hub.add_adviser(conn)
    if conn.adviser.sees_all:
        hub.send_overview(conn)  # as the gateway does after welcome
    return ws


async def test_a_burst_on_one_node_is_one_push_to_the_supervisors_of_another() -> None:
    bus = MemoryBus()
    node_a, roster_a = node(bus)
    node_b, roster_b = node(bus)
    anna = sign_in(node_a, "anna", "adviser")
    boss = sign_in(node_b, "boss", "supervisor")
    ben = sign_in(node_b, "ben", "adviser")
    await settled(node_a, node_b)
    # the supervisor had the overview right away; nobody else gets one
    assert len(boss.overviews()) == 1
    boss.sent.clear()
    computed_b = roster_b.computed

    # a transfer on node A: the loads of three advisers, one after the other
    for aid in ("anna", "ben", "boss"):
        await node_a.announcer.announce_status(aid, 1, "available")
    await settled(node_a, node_b)

    assert len(boss.overviews()) == 1
    assert boss.overviews()[0]["advisers"][0]["active"] == roster_b.computed
    assert roster_b.computed == computed_b + 1
    # no supervisor on node A: it computed nothing, and advisers got nothing
    assert roster_a.computed == 0
    assert anna.overviews() == [] and ben.overviews() == []


async def test_a_new_supervisor_socket_alone_gets_the_overview_at_once() -> None:
    bus = MemoryBus()
    hub, roster = node(bus)
    boss = sign_in(hub, "boss", "supervisor")
    await settled(hub)
    boss.sent.clear()
    # A second tab of the boss: nothing changed for anyone (the boss was online
    # already), yet the new socket needs the overview.
    second = sign_in(hub, "boss", "supervisor")
    await settled(hub)
    assert len(second.overviews()) == 1
    assert boss.overviews() == []
    assert roster.computed == 2
