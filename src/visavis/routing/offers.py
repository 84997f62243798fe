"""Pushing waiting customers to advisers (R5/R4.3 "offered to the next one").

Advisers can always take anyone from the queue themselves; in addition, each waiting
customer is offered to one suitable adviser at a time (available, a free chat slot
under the limit for the customer's team, serves that team, not already asked; those
speaking the customer's language first, see `routing.decide.rank_advisers`). If that
adviser neither accepts nor declines within the timeout, the offer moves on to the
next adviser; when everyone was asked, the round starts again.

With several nodes, each node offers customers to the advisers whose sockets it
holds, and an offer is made only after `OfferClaims.claim` (Redis: `SET NX` with the
offer's timeout as expiry): a customer is offered to one adviser at a time across
all nodes; a node whose claim fails drops its plan and tries again on the next
queue change, after the other offer ended.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class OfferClaims(Protocol):
    """Who may offer a waiting customer right now (shared by the nodes)."""

    async def claim(self, conversation_id: str, adviser_id: str, timeout_s: float) -> bool: ...

    async def release(self, conversation_id: str, adviser_id: str) -> None: ...


class LocalClaims:
    """One node: its `OfferBook` already offers each customer once."""

    async def claim(self, conversation_id: str, adviser_id: str, timeout_s: float) -> bool:
        return True

    async def release(self, conversation_id: str, adviser_id: str) -> None:
        return None


@dataclass
class Offer:
    adviser_id: str
    deadline: float


@dataclass
class OfferBook:
    timeout_s: float
    offers: dict[str, Offer] = field(default_factory=dict)  # conversation -> current offer
    asked: dict[str, list[str]] = field(default_factory=dict)  # conversation -> advisers asked

    def current(self, conversation_id: str) -> Offer | None:
        return self.offers.get(conversation_id)

    def expire(self, now: float | None = None) -> list[tuple[str, str]]:
        """Drop offers past their deadline; returns (conversation, adviser) pairs."""
        now = time.monotonic() if now is None else now
        gone = [(cid, o.adviser_id) for cid, o in self.offers.items() if o.deadline <= now]
        for cid, _ in gone:
            del self.offers[cid]
        return gone

    def decline(self, conversation_id: str, adviser_id: str) -> bool:
        offer = self.offers.get(conversation_id)
        if offer is None or offer.adviser_id != adviser_id:
            return False
        del self.offers[conversation_id]
        return True

    def unmake(self, conversation_id: str, adviser_id: str) -> None:
        """A planned offer another node's claim beat: not made, and not a turn."""
        offer = self.offers.get(conversation_id)
        if offer is not None and offer.adviser_id == adviser_id:
            del self.offers[conversation_id]
        asked = self.asked.get(conversation_id)
        if asked and asked[-1] == adviser_id:
            asked.pop()

    def forget(self, conversation_id: str) -> Offer | None:
        """The conversation left the queue (taken, ended)."""
        self.asked.pop(conversation_id, None)
        return self.offers.pop(conversation_id, None)

    def plan(
        self,
        waiting: list[str],
        candidates: Callable[[str], list[tuple[str, int]]],
        now: float | None = None,
    ) -> list[tuple[str, str]]:
        """New offers for waiting conversations (oldest first) without one.

        `candidates(cid)`: suitable advisers for that conversation, best first, each
        with their free chat slots for it (its team's limit minus their active chats).
        Open offers count against those slots, so one adviser is not offered more
        customers than they can take."""
        now = time.monotonic() if now is None else now
        made: list[tuple[str, str]] = []
        pending: dict[str, int] = {}
        for offer in self.offers.values():
            pending[offer.adviser_id] = pending.get(offer.adviser_id, 0) + 1
        for cid in waiting:
            if cid in self.offers:
                continue
            options = [a for a, free in candidates(cid) if free - pending.get(a, 0) > 0]
            if not options:
                continue
            asked = self.asked.setdefault(cid, [])
            fresh = [a for a in options if a not in asked]
            if not fresh:  # everyone had a turn: start a new round
                asked.clear()
                fresh = options
            adviser = fresh[0]
            asked.append(adviser)
            self.offers[cid] = Offer(adviser, now + self.timeout_s)
            pending[adviser] = pending.get(adviser, 0) + 1
            made.append((cid, adviser))
        return made
