"""The call columns of a conversation row (shared by the call and end paths)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from visavis.storage.models import Conversation


def ended_body(conv: Conversation, by: str, reason: str) -> dict[str, Any]:
    started = conv.call_started_at
    if started is not None and started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    duration = (datetime.now(UTC) - started).total_seconds() if started else 0.0
    return {
        "call_id": conv.call_id,
        "media": conv.call_media,
        "by": by,
        # a call that never started was cancelled (by its caller) or missed
        "reason": reason if started else ("cancelled" if reason == "hangup" else reason),
        "duration_s": round(duration, 1),
    }


def clear_call(conv: Conversation) -> None:
    conv.call_id = None
    conv.call_status = None
    conv.call_media = None
    conv.call_requested_by = None
    conv.call_requested_at = None
    conv.call_started_at = None
