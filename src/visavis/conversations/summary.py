"""Turning rows into protocol dicts (summaries and event frames)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from visavis.storage.models import Conversation, Event


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:  # SQLite hands back naive datetimes; we only store UTC
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def summary(
    c: Conversation, adviser_name: str | None, consultant_name: str | None = None
) -> dict[str, Any]:
    return {
        "id": c.id,
        "status": c.status,
        "customer_name": c.customer_name,
        "topic": c.topic,
        "language": c.language,
        "team_id": c.team_id,
        "kind": c.kind,
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
                "id": c.call_id,
                "status": c.call_status,
                "media": c.call_media,
                "requested_by": c.call_requested_by,
                "requested_at": iso(c.call_requested_at),
                "started_at": iso(c.call_started_at),
            }
            if c.call_id
            else None
        ),
    }


def event_frame(e: Event) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "v": 1,
        "type": "event",
        "conversation_id": e.conversation_id,
        "seq": e.seq,
        "kind": e.kind,
        "author": {"role": e.author_role, "id": e.author_id, "name": e.author_name},
        "body": json.loads(e.body),
        "at": iso(e.created_at),
    }
    if e.client_id is not None:
        frame["client_id"] = e.client_id
    return frame
