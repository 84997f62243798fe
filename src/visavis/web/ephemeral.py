"""Per-socket state of the ephemeral relays: the room's (`pointer`, `doc.view`), the
forms' (`form.focus`) and co-browsing's (`cobrowse.*`, web/ws_cobrowse.py).

A pointer moves many times a second and only its latest position matters. So each
socket sends on at most `RELAY_PER_S` of each kind a second on average, with a burst
of `RELAY_BURST` (a small token bucket per kind): a client pacing itself at that rate
is never held up by its own timer jitter (a strict minimum gap delayed every frame
that came a little early by up to a whole gap, 15 to 23 ms at 30/s). What comes faster is
coalesced: the newest waits for the next token and replaces any older one waiting
(latest wins, and the last position is always delivered). This budget is apart from
the chat frames' token bucket, so drawing on a document never slows a message down.
A socket sending more than `FLOOD_PER_S` of them is flooding and is treated like one.

Checking a relay against the database on every frame would cost a read per mouse
move: the participant check and the conversation's documents are remembered for
`CHECK_TTL_S` (documents are never removed from a conversation, a form's fields never
change; a participant who lost the conversation is refused at most that long after).

Co-browsing's mirror batches and control inputs are not coalesced (every one of them
counts, in order) but have budgets of their own: `BATCHES_PER_S` (a recorder sends a
batch every 50 ms or so at most) and `INPUTS_PER_S`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from visavis.auth.ratelimit import TokenBucket
from visavis.collab.cobrowse import MirrorStream
from visavis.web.connection import spawn

RELAY_PER_S = 30
RELAY_BURST = 3.0
FLOOD_PER_S = 200
CHECK_TTL_S = 5.0
BATCHES_PER_S = 20
INPUTS_PER_S = 30

Send = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Checked:
    at: float
    pages: dict[str, int]  # document id -> page count


@dataclass
class _Slot:
    tokens: float = RELAY_BURST
    stamp: float = field(default_factory=lambda: time.monotonic())
    pending: Send | None = None
    timer: asyncio.TimerHandle | None = None

    def refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(RELAY_BURST, self.tokens + (now - self.stamp) * RELAY_PER_S)
        self.stamp = now


def _bucket(per_s: int) -> TokenBucket:
    return TokenBucket(per_s, 2 * per_s)


@dataclass
class RelayState:
    """One socket's relays: the flood bucket, one coalescing slot per kind and
    conversation, and the remembered checks."""

    inbound: TokenBucket = field(default_factory=lambda: TokenBucket(FLOOD_PER_S, 2 * FLOOD_PER_S))
    slots: dict[tuple[str, str], _Slot] = field(default_factory=dict)
    checked: dict[str, Checked] = field(default_factory=dict)
    batches: TokenBucket = field(
        default_factory=lambda: TokenBucket(BATCHES_PER_S, 2 * BATCHES_PER_S)
    )
    inputs: TokenBucket = field(default_factory=lambda: TokenBucket(INPUTS_PER_S, 2 * INPUTS_PER_S))
    # conversation id -> the customer's mirror stream, as far as this socket sent it
    mirrors: dict[str, MirrorStream] = field(default_factory=dict)
    # conversation id -> (when checked, its advisers): co-browsing's participant check
    advisers: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict)

    def bucket_for(self, kind: str) -> TokenBucket:
        """The budget a relayed frame of this type draws from."""
        if kind == "cobrowse.batch":
            return self.batches
        if kind == "cobrowse.input":
            return self.inputs
        return self.inbound

    def advisers_for(self, conversation_id: str) -> frozenset[str] | None:
        checked = self.advisers.get(conversation_id)
        if checked is None or time.monotonic() - checked[0] > CHECK_TTL_S:
            return None
        return checked[1]

    def remember_advisers(self, conversation_id: str, advisers: frozenset[str]) -> None:
        self.advisers[conversation_id] = (time.monotonic(), advisers)

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
        """Send now if this kind has a token, else keep `send` as the newest and send
        it when the next token comes (replacing an older waiting one)."""
        slot = self.slots.setdefault(key, _Slot())
        slot.refill()
        if slot.tokens >= 1 and slot.timer is None:
            slot.tokens -= 1
            spawn(send())
            return
        slot.pending = send
        if slot.timer is None:
            wait = (1 - slot.tokens) / RELAY_PER_S
            slot.timer = asyncio.get_running_loop().call_later(max(wait, 0), self._flush, slot)

    @staticmethod
    def _flush(slot: _Slot) -> None:
        slot.timer = None
        send, slot.pending = slot.pending, None
        if send is not None:
            slot.refill()
            slot.tokens -= 1
            spawn(send())

    def close(self) -> None:
        for slot in self.slots.values():
            if slot.timer is not None:
                slot.timer.cancel()
        self.slots.clear()
