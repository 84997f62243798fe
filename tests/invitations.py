"""Calendar invitations as a calendar client reads them: parsed with the `icalendar`
package, never picked apart with string searches. Shared by unit, integration and
browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from icalendar import Calendar, Event


@dataclass(frozen=True)
class Person:
    name: str  # the CN parameter
    email: str
    params: dict[str, str]


@dataclass(frozen=True)
class Invitation:
    """One VEVENT of an iTIP calendar (RFC 5546) and the calendar's METHOD."""

    method: str
    version: str
    prodid: str
    uid: str
    sequence: int
    status: str
    stamp: datetime
    start: datetime
    end: datetime
    summary: str
    description: str
    url: str
    location: str
    organizer: Person
    attendees: list[Person]
    property_names: set[str]  # of the VEVENT


def check_content_lines(data: bytes) -> None:
    """What a lenient parser forgives: CRLF line ends only, no line over 75 octets
    (RFC 5545 3.1), UTF-8 that folding did not cut in half."""
    assert data.endswith(b"\r\n"), data[-20:]
    for line in data[:-2].split(b"\r\n"):
        assert b"\r" not in line and b"\n" not in line, line
        assert len(line) <= 75, line
        line.decode()  # a fold inside a multi-byte character fails here


def _person(address: object) -> Person:
    params = getattr(address, "params", {})
    return Person(
        name=str(params.get("CN", "")),
        email=str(getattr(address, "email", "")),
        params={str(k).upper(): str(v) for k, v in params.items()},
    )


def parse_invitation(data: bytes) -> Invitation:
    check_content_lines(data)
    cal = Calendar.from_ical(data)
    events = [c for c in cal.subcomponents if isinstance(c, Event)]
    assert len(events) == 1 and len(cal.subcomponents) == 1, cal.subcomponents
    event = events[0]
    assert event.organizer is not None, "no ORGANIZER"
    start, end = event.start, event.end
    assert isinstance(start, datetime) and isinstance(end, datetime), (start, end)
    return Invitation(
        method=str(cal["METHOD"]),
        version=str(cal["VERSION"]),
        prodid=str(cal["PRODID"]),
        uid=str(event.uid),
        sequence=int(event.sequence),
        status=str(event["STATUS"]),
        stamp=event.DTSTAMP,
        start=start,
        end=end,
        summary=str(event["SUMMARY"]),
        description=str(event["DESCRIPTION"]),
        url=str(event["URL"]),
        location=str(event["LOCATION"]),
        organizer=_person(event.organizer),
        attendees=[_person(a) for a in event.attendees],
        property_names={str(k).upper() for k in event},
    )


def invitation_of(mail: EmailMessage) -> Invitation:
    """The mail's text/calendar attachment, parsed; its Content-Type `method` must be
    the calendar's METHOD (RFC 6047), or clients ignore it."""
    for part in mail.iter_attachments():
        if part.get_content_type() == "text/calendar":
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            invitation = parse_invitation(data)
            assert part.get_param("method") == invitation.method, part["Content-Type"]
            return invitation
    raise AssertionError(f"no text/calendar attachment in {mail['Subject']!r}")
