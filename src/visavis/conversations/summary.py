"""Turning rows into protocol dicts (summaries and event frames), typed with the
generated TypedDicts of `visavis.protocol.frames`.

Columns that hold a value set (status, kind, roles …) are `str` in the database; the
casts below say which set they hold. Nothing is validated here (a cast is a no-op
call): the hot path stays one dict per event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Protocol, cast, overload

from visavis.protocol import frames as f
from visavis.storage.models import Conversation, Event


@overload
def iso(dt: datetime) -> str: ...
@overload
def iso(dt: None) -> None: ...
@overload
def iso(dt: datetime | None) -> str | None: ...
def iso(dt: datetime | None) -> str | None:
    """UTC as ISO 8601 with a `Z`. Called for every row of a queue recompute (a
    thousand after each change of a long queue), so the common cases — SQLite's naive
    datetimes (we only store UTC) and PostgreSQL's in UTC — skip the conversion."""
    if dt is None:
        return None
    offset = dt.utcoffset()
    if offset is None:  # naive: UTC by how we store
        return dt.isoformat() + "Z"
    if not offset:
        return dt.replace(tzinfo=None).isoformat() + "Z"
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


class SummarySource(Protocol):
    """What a summary reads of a conversation: its ORM object, or a row of just these
    columns (reads.py: a reconnect storm reads thousands; loading ORM objects cost
    more than building the summaries)."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def customer_name(self) -> str | None: ...
    @property
    def topic(self) -> str | None: ...
    @property
    def language(self) -> str | None: ...
    @property
    def team_id(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def contact(self) -> str | None: ...
    @property
    def adviser_id(self) -> str | None: ...
    @property
    def consultant_id(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def queued_at(self) -> datetime | None: ...
    @property
    def accepted_at(self) -> datetime | None: ...
    @property
    def ended_at(self) -> datetime | None: ...
    @property
    def last_seq(self) -> int: ...
    @property
    def customer_delivered_seq(self) -> int: ...
    @property
    def customer_read_seq(self) -> int: ...
    @property
    def adviser_delivered_seq(self) -> int: ...
    @property
    def adviser_read_seq(self) -> int: ...
    @property
    def call_id(self) -> str | None: ...
    @property
    def call_status(self) -> str | None: ...
    @property
    def call_media(self) -> str | None: ...
    @property
    def call_requested_by(self) -> str | None: ...
    @property
    def call_requested_at(self) -> datetime | None: ...
    @property
    def call_started_at(self) -> datetime | None: ...


SUMMARY_COLUMNS = (
    Conversation.id,
    Conversation.status,
    Conversation.customer_name,
    Conversation.topic,
    Conversation.language,
    Conversation.team_id,
    Conversation.kind,
    Conversation.contact,
    Conversation.adviser_id,
    Conversation.consultant_id,
    Conversation.created_at,
    Conversation.queued_at,
    Conversation.accepted_at,
    Conversation.ended_at,
    Conversation.last_seq,
    Conversation.customer_delivered_seq,
    Conversation.customer_read_seq,
    Conversation.adviser_delivered_seq,
    Conversation.adviser_read_seq,
    Conversation.call_id,
    Conversation.call_status,
    Conversation.call_media,
    Conversation.call_requested_by,
    Conversation.call_requested_at,
    Conversation.call_started_at,
)


def summary(
    c: SummarySource, adviser_name: str | None, consultant_name: str | None = None
) -> f.ConversationSummary:
    return {
        "id": c.id,
        "status": cast(f.ConversationStatus, c.status),
        "customer_name": c.customer_name,
        "topic": c.topic,
        "language": c.language,
        "team_id": c.team_id,
        "kind": cast(f.ConversationKind, c.kind),
        "contact": c.contact,
        "adviser": (
            {"role": "adviser", "id": c.adviser_id, "name": adviser_name} if c.adviser_id else None
        ),
        "consultant": (
            {"role": "adviser", "id": c.consultant_id, "name": consultant_name}
            if c.consultant_id
            else None
        ),
        "created_at": iso(c.created_at),
        "queued_at": iso(c.queued_at),
        "accepted_at": iso(c.accepted_at),
        "ended_at": iso(c.ended_at),
        "last_seq": c.last_seq,
        "customer_delivered_seq": c.customer_delivered_seq,
        "customer_read_seq": c.customer_read_seq,
        "adviser_delivered_seq": c.adviser_delivered_seq,
        "adviser_read_seq": c.adviser_read_seq,
        "call": (
            {
                # the call_* columns are set together with call_id (callstate.py)
                "id": c.call_id,
                "status": cast(f.CallStatus, c.call_status),
                "media": cast(f.MediaKind, c.call_media),
                "requested_by": cast(f.Role, c.call_requested_by),
                "requested_at": iso(c.call_requested_at),
                "started_at": iso(c.call_started_at),
            }
            if c.call_id
            else None
        ),
    }


class EventRow(Protocol):
    """A stored event: the ORM's `Event`, or a row of its columns (chat_rows.py)."""

    @property
    def conversation_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def author_role(self) -> str: ...
    @property
    def author_id(self) -> str | None: ...
    @property
    def author_name(self) -> str | None: ...
    @property
    def client_id(self) -> str | None: ...
    @property
    def body(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


def event_frame(e: Event | EventRow) -> f.EventFrame:
    frame: f.EventFrame = {
        "v": 1,
        "type": "event",
        "conversation_id": e.conversation_id,
        "seq": e.seq,
        "kind": cast(f.EventKind, e.kind),
        "author": {
            "role": cast(f.AuthorRole, e.author_role),
            "id": e.author_id,
            "name": e.author_name,
        },
        "body": json.loads(e.body),  # free-form: each kind has its own fields
        "at": iso(e.created_at),
    }
    if e.client_id is not None:
        frame["client_id"] = e.client_id
    return frame
