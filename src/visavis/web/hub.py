"""This node's sockets and their wiring to the bus.

Bus topics (payloads are JSON protocol frames):
- `conv:<id>`     events and ephemeral frames of one conversation
- `adviser:<id>`  frames for all sockets of one adviser (assigned, status)
- `queue`         "the queue or availability changed": each node recomputes what
                  its own sockets need (snapshot, positions, availability)
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from visavis.bus import Bus
from visavis.conversations.service import ConversationService
from visavis.routing.presence import Presence
from visavis.web.connection import Connection, dumps, spawn

log = logging.getLogger(__name__)


class Hub:
    def __init__(
        self, bus: Bus, conversations: ConversationService, presence: Presence, heartbeat_s: int
    ) -> None:
        self.bus = bus
        self.conversations = conversations
        self.presence = presence
        self.heartbeat_s = heartbeat_s
        self.connections: set[Connection] = set()
        self._by_conv: dict[str, set[Connection]] = {}
        self._by_adviser: dict[str, set[Connection]] = {}
        self._customers_waiting: dict[str, set[Connection]] = {}
        self._availability_listeners: set[asyncio.Queue[str]] = set()
        self._queue_dirty = False
        self._queue_running = False
        self._last_availability = ""
        self._reaper: asyncio.Task[None] | None = None
        bus.subscribe("queue", self._on_queue_changed)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._reaper = asyncio.get_running_loop().create_task(self._reap_silent())

    async def stop(self) -> None:
        if self._reaper:
            self._reaper.cancel()
        for conn in list(self.connections):
            conn.close_soon(1001)

    async def _reap_silent(self) -> None:
        limit = self.heartbeat_s * 2.5
        while True:
            await asyncio.sleep(min(5.0, self.heartbeat_s / 2))
            now = time.monotonic()
            for conn in [c for c in self.connections if now - c.last_seen > limit]:
                log.info("closing silent socket (%.0f s without a frame)", now - conn.last_seen)
                conn.close_soon(4408)

    # ------------------------------------------------------------ registration
    def add(self, conn: Connection) -> None:
        self.connections.add(conn)

    def remove(self, conn: Connection) -> None:
        self.connections.discard(conn)
        for cid in list(conn.subs):
            self.unfollow(conn, cid)
        if conn.conversation_id:
            self.set_waiting(conn, False)
        if conn.adviser is not None:
            aid = conn.adviser.id
            peers = self._by_adviser.get(aid)
            if peers is not None:
                peers.discard(conn)
                if not peers:
                    del self._by_adviser[aid]
                    self.bus.unsubscribe(f"adviser:{aid}", self._on_adviser_frame)
            if self.presence.disconnect(aid):
                spawn(self.queue_changed())

    def add_adviser(self, conn: Connection) -> None:
        assert conn.adviser is not None
        aid = conn.adviser.id
        peers = self._by_adviser.get(aid)
        if peers is None:
            peers = self._by_adviser[aid] = set()
            self.bus.subscribe(f"adviser:{aid}", self._on_adviser_frame)
        peers.add(conn)
        if self.presence.connect(aid, conn.adviser.status):
            spawn(self.queue_changed())

    def follow(self, conn: Connection, conversation_id: str) -> None:
        subs = self._by_conv.get(conversation_id)
        if subs is None:
            subs = self._by_conv[conversation_id] = set()
            self.bus.subscribe(f"conv:{conversation_id}", self._on_conv_frame)
        subs.add(conn)

    def unfollow(self, conn: Connection, conversation_id: str) -> None:
        conn.subs.pop(conversation_id, None)
        subs = self._by_conv.get(conversation_id)
        if subs is None:
            return
        subs.discard(conn)
        if not subs:
            del self._by_conv[conversation_id]
            self.bus.unsubscribe(f"conv:{conversation_id}", self._on_conv_frame)

    def set_waiting(self, conn: Connection, waiting: bool) -> None:
        """Track customers whose conversation is queued (they get positions)."""
        cid = conn.conversation_id
        assert cid is not None
        if waiting:
            self._customers_waiting.setdefault(cid, set()).add(conn)
            return
        peers = self._customers_waiting.get(cid)
        if peers is not None:
            peers.discard(conn)
            if not peers:
                del self._customers_waiting[cid]

    # ------------------------------------------------------------ publishing
    async def publish_conv(self, conversation_id: str, frame: dict[str, Any]) -> None:
        await self.bus.publish(f"conv:{conversation_id}", dumps(frame))

    async def publish_adviser(self, adviser_id: str, frame: dict[str, Any]) -> None:
        await self.bus.publish(f"adviser:{adviser_id}", dumps(frame))

    async def queue_changed(self) -> None:
        await self.bus.publish("queue", "{}")

    # ------------------------------------------------------------ bus handlers
    def _on_conv_frame(self, payload: str) -> None:
        frame = json.loads(payload)
        cid = frame.get("conversation_id") or frame.get("conversation", {}).get("id")
        subs = self._by_conv.get(cid, ())
        kind = frame["type"]
        if kind == "event":
            seq = frame["seq"]
            for conn in tuple(subs):
                conn.push_event(cid, seq, payload)
            return
        if kind == "typing":
            author = frame["author"]
            for conn in tuple(subs):
                if not _is_author(conn, author):
                    conn.push(payload)
            return
        if kind == "rtc.signal":
            target = frame.pop("to_adviser")
            out = dumps(frame)
            for conn in tuple(subs):
                if frame["from_role"] == "adviser":
                    if conn.role == "customer":
                        conn.push(out)
                elif conn.adviser is not None and conn.adviser.id == target:
                    conn.push(out)
            return
        if kind == "receipt":
            for conn in tuple(subs):
                if conn.role != frame["role"]:
                    conn.push(payload)
            return
        for conn in tuple(subs):
            conn.push(payload)
        if kind == "conversation.update" and frame["conversation"]["status"] != "queued":
            for conn in tuple(self._customers_waiting.get(cid, ())):
                self.set_waiting(conn, False)
            # Advisers who previewed the waiting customer stop following once a
            # colleague has taken it: the conversation is not theirs to read.
            owner = (frame["conversation"]["adviser"] or {}).get("id")
            for conn in tuple(subs):
                if (
                    conn.adviser is not None
                    and conn.adviser.id != owner
                    and not conn.adviser.sees_all
                ):
                    self.unfollow(conn, cid)

    def _on_adviser_frame(self, payload: str) -> None:
        frame = json.loads(payload)
        if frame["type"] == "conversation.assigned":
            cid = frame["conversation"]["id"]
            aid = frame["conversation"]["adviser"]["id"]
            for conn in tuple(self._by_adviser.get(aid, ())):
                conn.push(payload)
                if cid not in conn.subs:
                    self.follow(conn, cid)
                    conn.push_replay(cid, 0, None, functools.partial(self.conversations.get, cid))
            return
        if frame["type"] == "adviser.status":
            aid = frame["adviser_id"]
            self.presence.set_status(aid, frame["status"])
            out = dumps({k: v for k, v in frame.items() if k != "adviser_id"})
            for conn in tuple(self._by_adviser.get(aid, ())):
                conn.push(out)

    def _on_queue_changed(self, _payload: str) -> None:
        # Coalesce bursts: one recompute runs at a time, and runs once more if
        # something changed meanwhile.
        self._queue_dirty = True
        if not self._queue_running:
            self._queue_running = True
            spawn(self._recompute_queue())

    async def _recompute_queue(self) -> None:
        try:
            while self._queue_dirty:
                self._queue_dirty = False
                await self._push_queue_state()
        except Exception:
            log.exception("queue recompute failed")
        finally:
            self._queue_running = False

    async def _push_queue_state(self) -> None:
        entries = await self.conversations.queue()
        available = self.presence.available_count()
        snapshot = dumps(
            {"v": 1, "type": "queue.snapshot", "entries": entries, "advisers_available": available}
        )
        for peers in self._by_adviser.values():
            for conn in peers:
                conn.push(snapshot)
        waiting = len(entries)
        for pos, entry in enumerate(entries, start=1):
            cid = entry["conversation_id"]
            for conn in tuple(self._customers_waiting.get(cid, ())):
                conn.push_frame(
                    {
                        "v": 1,
                        "type": "queue.position",
                        "conversation_id": cid,
                        "position": pos,
                        "waiting": waiting,
                        "advisers_available": available,
                    }
                )
        self._notify_availability(self.availability(available, waiting))

    # ------------------------------------------------------------ availability
    @staticmethod
    def availability(advisers_available: int, waiting: int) -> dict[str, Any]:
        return {
            "available": advisers_available > 0,
            "advisers_available": advisers_available,
            "waiting": waiting,
        }

    async def current_availability(self) -> dict[str, Any]:
        waiting = len(await self.conversations.queue())
        return self.availability(self.presence.available_count(), waiting)

    def _notify_availability(self, state: dict[str, Any]) -> None:
        text = dumps(state)
        if text == self._last_availability:
            return
        self._last_availability = text
        for q in tuple(self._availability_listeners):
            if q.qsize() < 10:
                q.put_nowait(text)

    async def availability_stream(self) -> AsyncIterator[str]:
        q: asyncio.Queue[str] = asyncio.Queue()
        self._availability_listeners.add(q)
        try:
            yield dumps(await self.current_availability())
            while True:
                try:
                    yield await asyncio.wait_for(q.get(), timeout=self.heartbeat_s)
                except TimeoutError:
                    yield ""  # keep-alive comment through proxies
        finally:
            self._availability_listeners.discard(q)


def _is_author(conn: Connection, author: dict[str, Any]) -> bool:
    if conn.role != author["role"]:
        return False
    if conn.role == "customer":
        return True
    return conn.adviser is not None and conn.adviser.id == author.get("id")
