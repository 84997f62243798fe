"""The state of a conversation's call recording, derived from its log.

`idle` → `requested` (the adviser asked; `recording.requested`) → `running` (every
participant consented: `recording.started`, appended by the write of the last
consent) → `idle` (`recording.stopped`, or `recording.declined` while asked). Each
consent is a `recording.consented` event with the text version agreed to. A call's
end and a conversation's end stop a recording in the same write (`stop_running`),
so no recording outlives the call it records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.conversations.writes import Author, Write
from visavis.protocol import frames as f
from visavis.storage.models import Event

Phase = Literal["idle", "requested", "running"]
PARTICIPANTS: frozenset[str] = frozenset({"customer", "adviser"})
STATE_KINDS: frozenset[str] = frozenset(
    {
        "recording.requested",
        "recording.consented",
        "recording.declined",
        "recording.started",
        "recording.stopped",
    }
)


@dataclass(frozen=True)
class RecordingState:
    phase: Phase = "idle"
    recording_id: str | None = None
    call_id: str | None = None
    consents: frozenset[str] = frozenset()
    seq: int = 0

    @property
    def active(self) -> bool:
        return self.phase != "idle"


def apply(state: RecordingState, kind: str, body: dict[str, Any], seq: int) -> RecordingState:
    if seq <= state.seq or kind not in STATE_KINDS:
        return state
    rid = body.get("recording_id")
    if kind == "recording.requested":
        return RecordingState("requested", rid, body.get("call_id"), frozenset(), seq)
    if rid != state.recording_id:
        return replace(state, seq=seq)
    if kind == "recording.consented":
        return replace(state, consents=state.consents | {str(body.get("role"))}, seq=seq)
    if kind == "recording.started":
        return replace(state, phase="running", seq=seq)
    return RecordingState(seq=seq)  # declined or stopped


async def read_state(db: AsyncSession, conversation_id: str) -> RecordingState:
    """Fold the conversation's recording events (a handful per recording)."""
    rows = await db.execute(
        select(Event.kind, Event.body, Event.seq)
        .where(Event.conversation_id == conversation_id, Event.kind.in_(STATE_KINDS))
        .order_by(Event.seq)
    )
    state = RecordingState()
    for kind, body, seq in rows:
        state = apply(state, kind, _body(body), seq)
    return state


def _body(raw: str) -> dict[str, Any]:
    return dict(json.loads(raw)) if raw else {}


async def stop_running(
    w: Write, conversation_id: str, author: Author, reason: f.RecordingStopReason
) -> None:
    """Inside a write that ends the call or the conversation: stop a recording that is
    asked for or running (the browsers close their connections on this event)."""
    state = await read_state(w.db, conversation_id)
    if not state.active:
        return
    if state.phase == "requested":
        body: dict[str, Any] = {"recording_id": state.recording_id, "role": "adviser"}
        await w.append(conversation_id, "recording.declined", author, body)
        return
    by = author.role if author.role in PARTICIPANTS else "system"
    body = {"recording_id": state.recording_id, "reason": reason, "by": by}
    await w.append(conversation_id, "recording.stopped", author, body)
