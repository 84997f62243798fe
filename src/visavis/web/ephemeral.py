"""Per-socket state of the ephemeral relays (`pointer`, `doc.view`, `form.focus`).

A pointer moves many times a second and only its latest position matters. So each
socket sends at most `RELAY_PER_S` of each kind on to the others; what comes faster
is coalesced: the newest waits for the next slot and replaces any older one waiting
(latest wins, and the last position is always delivered). This budget is apart from
the chat frames' token bucket, so drawing on a document never slows a message down.
A socket sending more than `FLOOD_PER_S` of them is flooding and is treated like one.

Checking a relay against the database on every frame would cost a read per mouse
move: the participant check and the conversation's documents are remembered for
`CHECK_TTL_S` (documents are never removed from a conversation, a form's fields never
change; a participant who lost the conversation is refused at most that long after).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from visavis.auth.ratelimit import TokenBucket
from visavis.web.connection import spawn

RELAY_PER_S = 30
FLOOD_PER_S = 200
CHECK_TTL_S = 5.0

Send = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Checked:
    at: float
    pages: dict[str, int]  # document id -> page count


@dataclass
class _Slot:
    last: float = 0.0
    pending: Send | None = None
    timer: asyncio.TimerHandle | None = None


@dataclass
class RelayState:
    """One socket's relays: the flood bucket, one coalescing slot per kind and
    conversation, and the remembered checks."""

    inbound: TokenBucket = field(default_factory=lambda: TokenBucket(FLOOD_PER_S, 2 * FLOOD_PER_S))
    slots: dict[tuple[str, str], _Slot] = field(default_factory=dict)
    checked: dict[str, Checked] = field(default_factory=dict)
    # (conversation, form) -> (when checked, the form's fields)
    forms: dict[tuple[str, str], tuple[float, frozenset[str]]] = field(default_factory=dict)

    def checked_for(self, conversation_id: str) -> Checked | None:
        c = self.checked.get(conversation_id)
        if c is None or time.monotonic() - c.at > CHECK_TTL_S:
            return None
        return c

    def remember(self, conversation_id: str, pages: dict[str, int]) -> None:
        self.checked[conversation_id] = Checked(time.monotonic(), pages)

    def form_fields(self, conversation_id: str, form_id: str) -> frozenset[str] | None:
        """A form's fields, if checked for this conversation within `CHECK_TTL_S`."""
        seen = self.forms.get((conversation_id, form_id))
        if seen is None or time.monotonic() - seen[0] > CHECK_TTL_S:
            return None
        return seen[1]

    def remember_form(self, conversation_id: str, form_id: str, fields: frozenset[str]) -> None:
        self.forms[(conversation_id, form_id)] = (time.monotonic(), fields)

    def offer(self, key: tuple[str, str], send: Send) -> None:
        """Send now if this kind's slot is free, else keep `send` as the newest and
        send it when the slot frees (replacing an older waiting one)."""
        slot = self.slots.setdefault(key, _Slot())
        now = time.monotonic()
        wait = slot.last + 1.0 / RELAY_PER_S - now
        if wait <= 0 and slot.timer is None:
            slot.last = now
            spawn(send())
            return
        slot.pending = send
        if slot.timer is None:
            slot.timer = asyncio.get_running_loop().call_later(max(wait, 0), self._flush, slot)

    @staticmethod
    def _flush(slot: _Slot) -> None:
        slot.timer = None
        send, slot.pending = slot.pending, None
        if send is not None:
            slot.last = time.monotonic()
            spawn(send())

    def close(self) -> None:
        for slot in self.slots.values():
            if slot.timer is not None:
                slot.timer.cancel()
        self.slots.clear()
