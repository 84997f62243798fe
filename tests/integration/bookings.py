"""Helpers of the appointment tests: slots, manage links, mails (their calendar parts
are read by `invitations.invitation_of`)."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
from conftest import Smtp
from until import until


def slot_in(minutes_from_now: int, length: int = 30) -> dict[str, str]:
    """The body of `POST /api/v1/slots`: a slot that starts that many minutes from now."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes_from_now)
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=length)).isoformat()}


def manage_of(response: httpx.Response) -> tuple[str, str]:
    """Appointment id and token of the manage link in a booking's answer."""
    url = response.json()["manage_url"]
    found = re.search(r"appointment=([^&]+)&token=([^&]+)", url)
    assert found, url
    return found.group(1), found.group(2)


async def wait_for_mails(smtp: Smtp, count: int) -> list[EmailMessage]:
    """All mails received, once there are at least `count`."""
    with contextlib.suppress(TimeoutError):
        await until(lambda: len(smtp.messages) >= count)
    assert len(smtp.messages) >= count, [m["Subject"] for m in smtp.messages]
    return list(smtp.messages)


def time_of(iso: str) -> datetime:
    """An API time (ISO 8601)."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
