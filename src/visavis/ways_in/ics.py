"""iCalendar (RFC 5545) invitations for appointments."""

from __future__ import annotations

from datetime import UTC, datetime


def _fmt(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    # lines longer than 75 octets are folded with CRLF + space (RFC 5545 3.1)
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts, chunk = [], b""
    for ch in line:
        b = ch.encode()
        if len(chunk) + len(b) > 74:
            parts.append(chunk.decode())
            chunk = b""
        chunk += b
    parts.append(chunk.decode())
    return "\r\n ".join(parts)


def appointment_ics(
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    url: str,
    organizer: tuple[str, str],
    attendee: tuple[str, str],
    cancel: bool = False,
    sequence: int = 0,
) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//visavis//appointments//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancel else 'REQUEST'}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{_fmt(datetime.now(UTC))}",
        f"DTSTART:{_fmt(start)}",
        f"DTEND:{_fmt(end)}",
        f"SUMMARY:{_escape(summary)}",
        f"DESCRIPTION:{_escape(description)}",
        f"URL:{url}",
        f"LOCATION:{_escape(url)}",
        f"ORGANIZER;CN={_escape(organizer[0])}:mailto:{organizer[1]}",
        f"ATTENDEE;CN={_escape(attendee[0])};ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:{attendee[1]}",
        f"STATUS:{'CANCELLED' if cancel else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
