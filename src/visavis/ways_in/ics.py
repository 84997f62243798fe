"""iCalendar (RFC 5545) invitations for appointments, built with the `icalendar` package.

The package does what a hand-made text would get wrong: TEXT escaping, quoting of
parameter values (a CN of `Berger, Anna: Beratung` is one quoted value, not a cut-off
address), RFC 6868 escaping of `"` in parameters, and folding lines at 75 octets
without splitting a UTF-8 character.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from icalendar import PARTSTAT, ROLE, STATUS, Calendar, Event, vCalAddress

PRODID = "-//visavis//appointments//EN"


def _one_line(name: str) -> str:
    # A name is one line. A parameter can carry a line break only as RFC 6868 `^n`,
    # which many calendar clients show literally, and a bare CR not at all.
    return re.sub(r"\s+", " ", name).strip()


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
    """The invitation (METHOD:REQUEST), an update of it (same `uid`, higher `sequence`)
    or its cancellation (METHOD:CANCEL, STATUS:CANCELLED). `organizer` and `attendee`
    are (name, e-mail address)."""
    # The customer picked the slot themselves: they have accepted, and no reply is
    # wanted (replies would reach the adviser's mailbox, not visavis).
    guest = vCalAddress.new(
        attendee[1],
        cn=_one_line(attendee[0]),
        role=ROLE.REQ_PARTICIPANT,
        partstat=PARTSTAT.ACCEPTED,
        rsvp=False,
    )
    event = Event.new(
        uid=uid,
        sequence=sequence,
        stamp=datetime.now(UTC),
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        summary=summary,
        description=description,
        url=url,
        location=url,
        organizer=vCalAddress.new(organizer[1], cn=_one_line(organizer[0])),
        attendees=[guest],
        status=STATUS.CANCELLED if cancel else STATUS.CONFIRMED,
    )
    cal = Calendar()  # not Calendar.new(): that adds a calendar UID nobody reads
    cal.version = "2.0"
    cal.prodid = PRODID
    cal.calscale = "GREGORIAN"
    cal.method = "CANCEL" if cancel else "REQUEST"
    cal.add_component(event)
    return bytes(cal.to_ical())
