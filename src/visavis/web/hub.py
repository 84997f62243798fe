"""This node's sockets and their wiring to the bus: who follows which conversation,
fan-out of bus messages to sockets, and the coalesced overview recompute. Nothing
else: what is announced comes from `conversations.announcer`, the queue's pushes
(snapshots, positions, offers) are `web.queue_push`'s, and what the queue, offers and
availability say is decided by `routing.queueing`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from typing import ClassVar, Protocol

from visavis.bus import Bus, Routed
from visavis.conversations.announcer import (
    ADVISERS,
    QUEUE,
    Announcer,
    adviser_topic,
    conv_topic,
)
from visavis.conversations.roster import Roster
from visavis.conversations.service import ConversationService
from visavis.conversations.transfers import INTERNAL_KINDS
from visavis.protocol import frames as f
from visavis.protocol.wire import dumps
from visavis.routing.offers import LocalClaims, OfferBook, OfferClaims
from visavis.routing.presence import Presence
from visavis.routing.teams import TeamService
from visavis.web.availability import AvailabilityStreams
from visavis.web.callpeers import CallRegistry, HolderStore
from visavis.web.connection import Connection, spawn
from visavis.web.handoff import MOVED_CLOSE, away_from_home, moves
from visavis.web.queue_push import QueuePush

log = logging.getLogger(__name__)

TEAMS_RELOAD_S = 30.0
# An overview change waits this long before it is computed, so that a burst (a
# transfer publishes the load of up to three advisers, one after the other) makes one
# push instead of one per adviser.
OVERVIEW_SETTLE_S = 0.1
# The close code that tells a client this node goes away and it should reconnect
# now (through the proxy, to another node): the standard "service restart".
DRAIN_CLOSE = 1012


class LogWatcher(Protocol):
    """Something in memory that follows conversations' logs on this node (the
    co-browsing state): told every event of a followed conversation, and when the node
    stops following one (it would miss its next events)."""

    def observe(self, conversation_id: str, kind: str, seq: int) -> None: ...

    def forget(self, conversation_id: str) -> None: ...


class Hub:
    # the hubs serving in this process, for the server's drain on SIGTERM
    # (web/serving.py), which knows the app only by its import string
    live: ClassVar[set[Hub]] = set()

    def __init__(
        self,
        bus: Bus,
        announcer: Announcer,
        conversations: ConversationService,
        presence: Presence,
        teams: TeamService,
        roster: Roster,
        heartbeat_s: int,
        requested_fallback_s: int = 120,
        offer_timeout_s: int = 30,
        claims: OfferClaims | None = None,
        holders: HolderStore | None = None,
    ) -> None:
        self.bus = bus
        self.announcer = announcer
        self.conversations = conversations
        self.presence = presence
        self.teams = teams
        self.roster = roster
        self.heartbeat_s = heartbeat_s
        self.calls = CallRegistry(holders)
        self.connections: set[Connection] = set()
        self._by_conv: dict[str, set[Connection]] = {}
        self._by_adviser: dict[str, set[Connection]] = {}
        self._customers_waiting: dict[str, set[Connection]] = {}
        self.availability = AvailabilityStreams(conversations, presence, teams, heartbeat_s)
        self.queue = QueuePush(
            conversations,
            presence,
            teams,
            self.availability,
            self._by_adviser,
            self._customers_waiting,
            OfferBook(offer_timeout_s) if offer_timeout_s > 0 else None,
            claims or LocalClaims(),
            requested_fallback_s,
        )
        # the queue's, named here for the gateway's adviser commands
        self.offers = self.queue.offers
        self.claims: OfferClaims = self.queue.claims
        self.requested_cutoff = self.queue.requested_cutoff
        # overview: something changed for everyone / supervisor sockets that said hello
        # and have not had a snapshot yet
        self._overview_dirty = False
        self._overview_new: set[Connection] = set()
        self._overview_running = False
        self._reaper: asyncio.Task[None] | None = None
        self._watchers: list[LogWatcher] = []
        self._emptied: asyncio.Event | None = None  # set once drained
        bus.subscribe(QUEUE, self._on_queue_changed)
        bus.subscribe(ADVISERS, self._on_advisers_changed)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._reaper = asyncio.get_running_loop().create_task(self._reap_silent())
        Hub.live.add(self)

    async def stop(self) -> None:
        Hub.live.discard(self)
        if self._reaper:
            self._reaper.cancel()
        for conn in list(self.connections):
            conn.close_soon(1001)

    async def drain(self, timeout_s: float) -> bool:
        """The node is going away (SIGTERM): tell every socket to reconnect elsewhere
        (close code `DRAIN_CLOSE`), end the availability streams, and wait until the
        sockets are gone, at most `timeout_s`. True if they all went in time. The
        caller has stopped accepting new connections."""
        sockets = len(self.connections)
        streams = self.availability.end_all()
        log.info("draining: %d sockets, %d availability streams", sockets, streams)
        for conn in list(self.connections):
            conn.close_soon(DRAIN_CLOSE)
        self._emptied = asyncio.Event()
        if self.connections:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._emptied.wait(), timeout_s)
        if self.connections:
            log.warning(
                "drain: %d sockets still open after %.0f s", len(self.connections), timeout_s
            )
            return False
        return True

    async def _reap_silent(self) -> None:
        limit = self.heartbeat_s * 2.5
        last_reload = time.monotonic()
        while True:
            await asyncio.sleep(min(5.0, self.heartbeat_s / 2))
            now = time.monotonic()
            if now - last_reload > TEAMS_RELOAD_S:
                # Teams change from the CLI or another node: pick that up, and let
                # opening/closing hours show in the widget.
                last_reload = now
                try:
                    await self.teams.load()
                except Exception:
                    log.exception("reloading teams failed")
                self.recompute_here()
            elif self._customers_waiting or self._by_adviser:
                # Waiting times grow and portal requests fall back: refresh this node's
                # sockets. Not on the bus: every node has this timer, and N nodes would
                # make every node recompute N times.
                self.queue.changed()
            for conn in [c for c in self.connections if now - c.last_seen > limit]:
                log.info("closing silent socket (%.0f s without a frame)", now - conn.last_seen)
                conn.close_soon(4408)

    # ------------------------------------------------------------ registration
    def add(self, conn: Connection) -> None:
        self.connections.add(conn)

    def remove(self, conn: Connection) -> None:
        self.connections.discard(conn)
        if self._emptied is not None and not self.connections:
            self._emptied.set()
        spawn(self.calls.release(conn.peer_id))
        for cid in list(conn.subs):
            self.unfollow(conn, cid)
        if conn.conversation_id:
            self.set_waiting(conn, False)
        if conn.adviser is not None:
            self._overview_new.discard(conn)
            aid = conn.adviser.id
            peers = self._by_adviser.get(aid)
            if peers is not None:
                peers.discard(conn)
                if not peers:
                    del self._by_adviser[aid]
                    self.bus.unsubscribe(adviser_topic(aid), self._on_adviser_frame)
            if self.presence.disconnect(aid):
                spawn(self.queue_changed())
                spawn(self.advisers_changed())

    def add_adviser(self, conn: Connection) -> None:
        assert conn.adviser is not None
        aid = conn.adviser.id
        peers = self._by_adviser.get(aid)
        if peers is None:
            peers = self._by_adviser[aid] = set()
            self.bus.subscribe(adviser_topic(aid), self._on_adviser_frame)
        peers.add(conn)
        a = conn.adviser
        if self.presence.connect(aid, a.status, 0, a.max_chats, a.own_max_chats):
            spawn(self.queue_changed())
            spawn(self.advisers_changed())

    def follow(self, conn: Connection, conversation_id: str) -> None:
        subs = self._by_conv.get(conversation_id)
        if subs is None:
            subs = self._by_conv[conversation_id] = set()
            self.bus.subscribe(conv_topic(conversation_id), self._on_conv_frame)
        subs.add(conn)

    def unfollow(self, conn: Connection, conversation_id: str) -> None:
        conn.subs.pop(conversation_id, None)
        subs = self._by_conv.get(conversation_id)
        if subs is None:
            return
        subs.discard(conn)
        if not subs:
            del self._by_conv[conversation_id]
            self.bus.unsubscribe(conv_topic(conversation_id), self._on_conv_frame)
            for watcher in self._watchers:
                watcher.forget(conversation_id)

    async def settled(self) -> None:
        """Once this node hears what the other nodes publish on the topics its sockets
        follow (`Bus.settled`): what a socket reads from the database after it starts
        to follow is read after this."""
        await self.bus.settled()

    async def summary(self, conversation_id: str) -> f.ConversationSummary:
        """The conversation's summary, read after `settled`: for a socket that just
        started to follow it, every event committed later reaches it live."""
        await self.settled()
        return await self.conversations.get(conversation_id)

    def follows(self, conversation_id: str) -> bool:
        """Does this node hear the conversation's events (a socket here follows it)?"""
        return conversation_id in self._by_conv

    def watch(self, watcher: LogWatcher) -> None:
        self._watchers.append(watcher)

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

    # ------------------------------------------------------------ fan-out
    async def queue_changed(self) -> None:
        await self.announcer.queue_changed()

    async def advisers_changed(self) -> None:
        await self.announcer.advisers_changed()

    def recompute_here(self) -> None:
        """Something changed that the bus did not carry (another node's presence, a
        reload, Redis back after an outage): recompute queue and overview for this
        node's sockets only."""
        self.queue.changed()
        self._on_advisers_changed("", None)

    def send_overview(self, conn: Connection) -> None:
        """A supervisor socket that just said hello (or said it again after a
        reconnect) gets the overview as it is now, without waiting for a change."""
        self._overview_new.add(conn)
        self._start_overview()

    # ------------------------------------------------------------ bus handlers
    # Bus payloads are frames published by the announcer (typed there): routed here
    # from the frame itself when it was published in this process, else read back from
    # the JSON (another node's); untyped here, and passed on to sockets as the same
    # text. The frame is shared with the bus's other handlers: read, never changed.
    def _on_queue_changed(self, _payload: str, _frame: Routed | None) -> None:
        self.queue.changed()

    def _on_conv_frame(self, payload: str, routed: Routed | None) -> None:
        frame = routed if routed is not None else json.loads(payload)
        cid = frame.get("conversation_id") or frame.get("conversation", {}).get("id")
        subs = self._by_conv.get(cid, ())
        kind = frame["type"]
        if kind == "event":
            seq, internal = frame["seq"], frame["kind"] in INTERNAL_KINDS
            for watcher in self._watchers:
                watcher.observe(cid, frame["kind"], seq)
            for conn in tuple(subs):
                conn.push_event(cid, seq, payload, internal)
            return
        if kind.startswith("cobrowse."):
            self._to_cobrowse_side(subs, frame, payload)
            return
        if kind == "typing":
            author = frame["author"]
            for conn in tuple(subs):
                if not _is_author(conn, author):
                    conn.push(payload)
            return
        if kind in ("pointer", "doc.view", "form.focus"):
            # coalesced per receiving socket: latest of each sender wins
            sender = frame["from"]
            key = f"{kind}:{cid}:{sender['role']}:{sender.get('id')}"
            for conn in tuple(subs):
                if not _is_author(conn, sender):
                    conn.push_latest(key, payload)
            return
        if kind in ("rtc.signal", "call.moved"):
            self._to_call_peer(subs, frame)
            return
        if kind == "receipt":
            for conn in tuple(subs):
                if conn.role != frame["role"]:
                    conn.push(payload)
            return
        for conn in tuple(subs):
            conn.push(payload)
        if kind != "conversation.update":
            return
        conv = frame["conversation"]
        gone = self.calls.sync(cid, conv)
        if gone is not None:
            spawn(self.calls.holders.drop(gone))
        waiting = conv["status"] == "queued"
        for conn in tuple(subs):
            if conn.role == "customer":
                # back in a queue after a transfer to a team: positions again
                self.set_waiting(conn, waiting)
        adviser = conv["adviser"]
        if moves() and conv["status"] == "active" and adviser is not None:
            if not conv.get("call") and any(conn.role == "customer" for conn in subs):
                spawn(self._move_customers(cid, adviser["id"]))
        if not waiting:
            # Advisers who previewed the waiting customer, or handed the conversation
            # on, stop following: it is no longer theirs to read.
            keep = {(conv["adviser"] or {}).get("id"), (conv["consultant"] or {}).get("id")}
            for conn in tuple(subs):
                if conn.adviser is not None and conn.adviser.id not in keep:
                    if not conn.adviser.sees_all:
                        self.unfollow(conn, cid)

    async def _move_customers(self, conversation_id: str, adviser_id: str) -> None:
        """Taken (or transferred) by an adviser at home in another worker: the
        customer's sockets here reconnect at once, and their hello brings them there
        (web/handoff.py), so that chat between the two needs no bus. Not in a call,
        whose signalling goes on here."""
        if await away_from_home(adviser_id):
            for conn in tuple(self._by_conv.get(conversation_id, ())):
                if conn.role == "customer":
                    conn.close_soon(MOVED_CLOSE)

    @staticmethod
    def _to_call_peer(subs: set[Connection] | tuple[()], frame: Routed) -> None:
        """Call frames go to the one socket that holds the addressed side of the call;
        while nobody holds it (before anyone answered, or its holder is gone), to every
        socket of that side, whose first answer makes it the holder. `frame`: the bus
        message, a call frame with its `CallRoute` keys (left out of what is sent)."""
        to_peer, to_role = frame["to_peer"], frame["to_role"]
        to_adviser = frame["to_adviser"]
        out = _without(frame, _CALL_ROUTE)
        for conn in tuple(subs):
            if to_peer is not None:
                hit = conn.peer_id == to_peer
            elif to_role == "customer":
                hit = conn.role == "customer"
            else:
                hit = conn.adviser is not None and conn.adviser.id == to_adviser
            if hit:
                conn.push(out)

    @staticmethod
    def _to_cobrowse_side(subs: set[Connection] | tuple[()], frame: Routed, payload: str) -> None:
        """The mirror goes to the conversation's advisers named in the batch's route
        (not supervisors who follow it); pointer, inputs and snapshot requests to the
        customer (the pointer coalesced: latest wins)."""
        kind = frame["type"]
        if kind == "cobrowse.batch":
            to = set(frame["to_advisers"])
            out = _without(frame, ("to_advisers",))
            for conn in tuple(subs):
                if conn.adviser is not None and conn.adviser.id in to:
                    conn.push(out)
            return
        for conn in tuple(subs):
            if conn.role != "customer":
                continue
            if kind == "cobrowse.pointer":
                conn.push_latest(f"{kind}:{frame['conversation_id']}", payload)
            else:
                conn.push(payload)

    def _on_adviser_frame(self, payload: str, routed: Routed | None) -> None:
        frame = routed if routed is not None else json.loads(payload)
        aid = frame["adviser_id"]  # routing only: not sent
        peers = tuple(self._by_adviser.get(aid, ()))
        if frame["type"] == "adviser.status":
            self.presence.set_status(aid, frame["status"])
            self.presence.set_load(aid, frame["active"], frame["max_chats"])
        out = _without(frame, ("adviser_id",))
        for conn in peers:
            conn.push(out)
        if frame["type"] == "conversation.assigned":
            # every console tab of the adviser follows it from the first event
            cid = frame["conversation"]["id"]
            for conn in peers:
                if cid not in conn.subs:
                    self.follow(conn, cid)
                    conn.push_replay(cid, 0, None, functools.partial(self.summary, cid))

    def _on_advisers_changed(self, _payload: str, _frame: Routed | None) -> None:
        self._overview_dirty = True
        self._start_overview()

    def _start_overview(self) -> None:
        # Coalesced like the queue: one recompute at a time, once more if something
        # changed meanwhile; all of this node's supervisors share its result.
        if not self._overview_running:
            self._overview_running = True
            spawn(self._recompute_overview())

    def _supervisor_sockets(self) -> list[Connection]:
        """Sockets of advisers who see all (supervisors, admins): the overview's users.
        Other advisers see colleagues only when they hand a customer over."""
        return [
            conn
            for peers in self._by_adviser.values()
            for conn in peers
            if conn.adviser is not None and conn.adviser.sees_all
        ]

    async def _recompute_overview(self) -> None:
        try:
            while self._overview_dirty or self._overview_new:
                await asyncio.sleep(OVERVIEW_SETTLE_S)
                everyone = self._overview_dirty
                self._overview_dirty = False
                new, self._overview_new = self._overview_new, set()
                to = self._supervisor_sockets() if everyone else [c for c in new if not c.closed]
                if not to:
                    continue  # no supervisor on this node: nothing to compute
                text = dumps(await self.overview_frame())
                for conn in to:
                    conn.push(text)
        except Exception:
            log.exception("overview recompute failed")
        finally:
            self._overview_running = False

    async def overview_frame(self) -> f.OverviewSnapshotFrame:
        return {
            "v": 1,
            "type": "overview.snapshot",
            "advisers": await self.roster.advisers(),
            "conversations": await self.roster.live(),
        }


# the keys of a `CallRoute` (conversations/announcer.py)
_CALL_ROUTE = ("to_peer", "to_role", "to_adviser")


def _without(frame: Routed, keys: tuple[str, ...]) -> str:
    """The frame as sent to sockets: its routing keys left out."""
    return dumps({k: v for k, v in frame.items() if k not in keys})


def _is_author(conn: Connection, author: f.Author) -> bool:
    if conn.role != author["role"]:
        return False
    if conn.role == "customer":
        return True
    return conn.adviser is not None and conn.adviser.id == author.get("id")
