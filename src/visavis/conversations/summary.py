"""Turning rows into protocol dicts (summaries and event frames), typed with the
generated TypedDicts of `visavis.protocol.frames`.

Columns that hold a value set (status, kind, roles …) are `str` in the database; the
casts below say which set they hold. Nothing is validated here (a cast is a no-op
call): the hot path stays one dict per event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import cast, overload

from visavis.protocol import frames as f
from visavis.storage.models import Conversation, Event


@overload
def iso(dt: datetime) -> str: ...
@overload
def iso(dt: None) -> None: ...
@overload
def iso(dt: datetime | None) -> str | None: ...
def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:  # SQLite hands back naive datetimes; we only store UTC
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def summary(
    c: Conversation, adviser_name: str | None, consultant_name: str | None = None
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


def event_frame(e: Event) -> f.EventFrame:
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
