"""The state of a conversation's co-browsing, derived from its log.

Co-browsing is `idle` → `requested` (the adviser asked) → `started` (the customer
consented) → `idle` again (`cobrowse.ended`, or `cobrowse.declined` from
`requested`); while `started`, control is `none` → `requested` → `granted`, and back
to `none` when declined or revoked. Each step is an event, so the state is a fold over
the conversation's `cobrowse.*` events — and `conversation.ended`, after which nothing
runs. This module is pure apart from reading those events; the commands that append
them are `collab/cobrowse.py`, and ending a conversation ends its co-browsing in the
same write (`end_running`, called by `ConversationService.do_end`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.conversations.writes import Author, Write
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol.common import CobrowseEndReason
from visavis.storage.models import Event

Phase = Literal["idle", "requested", "started"]
Control = Literal["none", "requested", "granted"]
Command = Literal["request", "accept", "decline", "control_request", "control_grant",
                  "control_decline", "control_revoke", "end"]  # fmt: skip

COBROWSE_KINDS: tuple[f.EventKind, ...] = (
    "cobrowse.requested",
    "cobrowse.started",
    "cobrowse.declined",
    "cobrowse.control_requested",
    "cobrowse.control_granted",
    "cobrowse.control_declined",
    "cobrowse.control_revoked",
    "cobrowse.ended",
)
# the kinds that change the state: co-browsing's own, and the conversation's end
STATE_KINDS: frozenset[str] = frozenset((*COBROWSE_KINDS, "conversation.ended"))


@dataclass(frozen=True)
class CobrowseState:
    phase: Phase = "idle"
    control: Control = "none"
    seq: int = 0  # the last event folded in

    @property
    def running(self) -> bool:
        return self.phase != "idle"


# command -> (the state it needs, the event it appends)
_STEPS: dict[Command, tuple[tuple[Phase, Control | None], f.EventKind]] = {
    "request": (("idle", None), "cobrowse.requested"),
    "accept": (("requested", None), "cobrowse.started"),
    "decline": (("requested", None), "cobrowse.declined"),
    "control_request": (("started", "none"), "cobrowse.control_requested"),
    "control_grant": (("started", "requested"), "cobrowse.control_granted"),
    "control_decline": (("started", "requested"), "cobrowse.control_declined"),
    "control_revoke": (("started", "granted"), "cobrowse.control_revoked"),
}


def apply(state: CobrowseState, kind: str, seq: int) -> CobrowseState:
    """The state after the event `kind` at `seq`; an event already folded in (a seq
    not above the state's) changes nothing, so applying twice is harmless."""
    if seq <= state.seq or kind not in STATE_KINDS:
        return state
    if kind in ("cobrowse.ended", "cobrowse.declined", "conversation.ended"):
        return CobrowseState("idle", "none", seq)
    if kind == "cobrowse.requested":
        return CobrowseState("requested", "none", seq)
    if kind == "cobrowse.started":
        return CobrowseState("started", "none", seq)
    if kind == "cobrowse.control_requested":
        return replace(state, control="requested", seq=seq)
    if kind == "cobrowse.control_granted":
        return replace(state, control="granted", seq=seq)
    return replace(state, control="none", seq=seq)  # control declined or revoked


def check_step(state: CobrowseState, command: Command) -> f.EventKind:
    """The event `command` appends in `state`, or `invalid_state` naming both."""
    if command == "end":
        if not state.running:
            raise VisavisError("invalid_state", "co-browsing is idle: nothing to end")
        return "cobrowse.ended"
    (phase, control), kind = _STEPS[command]
    if state.phase != phase or (control is not None and state.control != control):
        now = state.phase if state.phase != "started" else f"started, control {state.control}"
        wanted = phase if control is None else f"{phase}, control {control}"
        raise VisavisError("invalid_state", f"co-browsing is {now}; {command} needs {wanted}")
    return kind


async def read_state(db: AsyncSession, conversation_id: str) -> CobrowseState:
    """Fold the conversation's co-browsing events (few: a handful per session)."""
    rows = await db.execute(
        select(Event.kind, Event.seq)
        .where(Event.conversation_id == conversation_id, Event.kind.in_(STATE_KINDS))
        .order_by(Event.seq)
    )
    state = CobrowseState()
    for kind, seq in rows:
        state = apply(state, kind, seq)
    return state


async def end_running(
    w: Write,
    conversation_id: str,
    author: Author,
    reason: CobrowseEndReason = "conversation_ended",
) -> None:
    """Inside the write that ends the conversation, or hands it blind to someone the
    customer did not consent to: end its co-browsing too (asked or running), so the
    customer's recorder stops in the same write."""
    if (await read_state(w.db, conversation_id)).running:
        await w.append(conversation_id, "cobrowse.ended", author, {"reason": reason})
