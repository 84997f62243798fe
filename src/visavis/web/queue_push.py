"""The queue's pushes to this node's sockets: each adviser's `queue.snapshot`, each
waiting customer's `queue.position`, the availability streams, and the offers to
advisers (`conversation.offered` / `offer.withdrawn`). Recomputed when "the queue
changed" (a bus message, or this node's timer), coalesced: one recompute at a time.
What the queue, offers and availability say is decided by `routing.queueing`; which
sockets there are is the hub's (web/hub.py), read here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable
from datetime import UTC, datetime

from visavis.conversations.service import ConversationService
from visavis.conversations.summary import iso
from visavis.protocol import frames as f
from visavis.protocol.wire import dumps
from visavis.routing import queueing
from visavis.routing.offers import OfferBook, OfferClaims
from visavis.routing.presence import Presence
from visavis.routing.teams import TeamService
from visavis.web.availability import AvailabilityStreams
from visavis.web.connection import Connection, spawn

log = logging.getLogger(__name__)

# While the queue keeps changing, recomputes take at most 1 / (1 + PACE) of the time.
PACE = 1.0


class QueuePush:
    def __init__(
        self,
        conversations: ConversationService,
        presence: Presence,
        teams: TeamService,
        availability: AvailabilityStreams,
        advisers: dict[str, set[Connection]],
        waiting: dict[str, set[Connection]],
        offers: OfferBook | None,
        claims: OfferClaims,
        requested_fallback_s: int,
    ) -> None:
        """`advisers` (adviser id -> sockets) and `waiting` (conversation id -> sockets
        of its queued customer): the hub's, kept current there, read here."""
        self.conversations = conversations
        self.presence = presence
        self.teams = teams
        self.availability = availability
        self._advisers = advisers
        self._waiting = waiting
        self.offers = offers
        self.claims = claims
        self.requested_fallback_s = requested_fallback_s
        self._queue_dirty = False
        self._queue_running = False

    def changed(self) -> None:
        """The queue or availability changed (the bus said so, or this node's timer):
        recompute soon. Bursts are coalesced: one recompute runs at a time, and runs
        once more if something changed meanwhile."""
        self._queue_dirty = True
        if not self._queue_running:
            self._queue_running = True
            spawn(self._recompute_queue())

    async def _recompute_queue(self) -> None:
        try:
            while self._queue_dirty:
                self._queue_dirty = False
                started = time.monotonic()
                await self._push_queue_state()
                if self._queue_dirty:
                    # Changes keep coming (customers arriving, advisers accepting):
                    # rest as long as the recompute took before the next one. A
                    # recompute reads and sends the whole queue; back to back, with a
                    # long queue, it took the loop from the changes themselves.
                    await asyncio.sleep(PACE * (time.monotonic() - started))
        except Exception:
            log.exception("queue recompute failed")
        finally:
            self._queue_running = False

    async def _push_queue_state(self) -> None:
        entries = await self.conversations.queue()
        offline = await self.conversations.queue("offline")
        history = await self.availability.team_history()
        cutoff = iso(self.requested_cutoff())
        available = len(queueing.available_for(self.presence, self.teams, None))
        # Advisers with the same view (queueing.view_key) get the same text, filtered
        # and encoded once: with a long queue and many consoles, filtering the queue
        # for every console after every change was what the recompute cost.
        team_ids = {e["team_id"] for e in (*entries, *offline)}
        asked = queueing.asked_advisers((*entries, *offline), cutoff)
        texts: dict[Hashable, str] = {}
        for peers in self._advisers.values():
            for conn in peers:
                assert conn.adviser is not None
                aid, everything = conn.adviser.id, conn.adviser.sees_all
                key = queueing.view_key(aid, everything, self.teams, team_ids, asked)
                text = texts.get(key)
                if text is None:
                    snapshot: f.QueueSnapshotFrame = {
                        "v": 1,
                        "type": "queue.snapshot",
                        "entries": [
                            e
                            for e in entries
                            if queueing.visible_to(e, aid, everything, self.teams, cutoff)
                        ],
                        "offline": [
                            e
                            for e in offline
                            if queueing.visible_to(e, aid, everything, self.teams, cutoff)
                        ],
                        "advisers_available": available,
                    }
                    text = texts[key] = dumps(snapshot)
                conn.push(text)
        places = queueing.positions(entries, self.presence, self.teams, history)
        for cid, place in places.items():
            waiting_here = self._waiting.get(cid)
            if not waiting_here:
                continue
            frame: f.QueuePositionFrame = {
                "v": 1,
                "type": "queue.position",
                "conversation_id": cid,
                "position": place.position,
                "waiting": place.waiting,
                "advisers_available": place.advisers_available,
                "estimate_s": place.estimate_s,
            }
            for conn in tuple(waiting_here):
                conn.push_frame(frame)
        await self.availability.notify(entries)
        if self.offers is not None:
            await self._push_offers(entries, cutoff)

    async def _push_offers(self, entries: list[f.QueueEntry], cutoff: str | None) -> None:
        assert self.offers is not None
        queued = {e["conversation_id"]: e for e in entries}
        withdrawn = self.offers.expire()
        for cid in [c for c in self.offers.offers if c not in queued]:
            offer = self.offers.forget(cid)
            if offer is not None:
                withdrawn.append((cid, offer.adviser_id))
        for cid in [c for c in self.offers.asked if c not in queued]:
            self.offers.forget(cid)
        for cid, aid in withdrawn:
            await self.claims.release(cid, aid)
            self._to_adviser(aid, {"v": 1, "type": "offer.withdrawn", "conversation_id": cid})

        ranked: dict[Hashable, list[tuple[str, int]]] = {}  # by queueing.offer_key

        def candidates(cid: str) -> list[tuple[str, int]]:
            entry = queued[cid]
            key = queueing.offer_key(entry, cutoff)
            got = ranked.get(key)
            if got is None:
                # this node offers to the advisers whose sockets it holds (OfferClaims)
                got = ranked[key] = [
                    (aid, free)
                    for aid, free in queueing.offer_candidates(
                        entry, self.presence, self.teams, cutoff
                    )
                    if aid in self._advisers
                ]
            return got

        for cid, aid in self.offers.plan(list(queued), candidates):
            if not await self.claims.claim(cid, aid, self.offers.timeout_s):
                self.offers.unmake(cid, aid)
                continue
            e = queued[cid]
            self._to_adviser(
                aid,
                {
                    "v": 1,
                    "type": "conversation.offered",
                    "conversation_id": cid,
                    "customer_name": e["customer_name"],
                    "topic": e["topic"],
                    "preview": e["preview"],
                    "expires_in_s": self.offers.timeout_s,
                },
            )

    def _to_adviser(
        self, adviser_id: str, frame: f.ConversationOfferedFrame | f.OfferWithdrawnFrame
    ) -> None:
        for conn in tuple(self._advisers.get(adviser_id, ())):
            conn.push_frame(frame)

    def requested_cutoff(self) -> datetime:
        """Offline requests older than this are shown to every adviser of the team,
        not just the one asked."""
        return queueing.requested_cutoff(datetime.now(UTC), self.requested_fallback_s)
