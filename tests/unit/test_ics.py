"""Appointment invitations read back with a real iCalendar parser (`icalendar`): what
a calendar client shows is what was put in, whatever the names contain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from invitations import Invitation, parse_invitation

from visavis.ways_in.ics import appointment_ics

START = datetime(2030, 5, 6, 11, 0, tzinfo=UTC)
LINK = "https://bank.example/join/eyJjIjoiYWJjIn0.Zx-9_q"
ANNA = ("Berger, Anna: Beratung", "anna.berger@bank.example")
ERIKA = ("Erika Muster", "erika+termin@example.org")


def invite(
    organizer: tuple[str, str] = ANNA,
    attendee: tuple[str, str] = ERIKA,
    start: datetime = START,
    summary: str = "Beratung / Consultation: Anna Berger",
    description: str = f"Videoberatung / video consultation: {LINK}",
    cancel: bool = False,
    sequence: int = 0,
) -> Invitation:
    data = appointment_ics(
        uid="appt1@bank.example", start=start, end=start + timedelta(minutes=30),
        summary=summary, description=description, url=LINK,
        organizer=organizer, attendee=attendee, cancel=cancel, sequence=sequence,
    )  # fmt: skip
    return parse_invitation(data)


def test_an_invitation_carries_the_appointment() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    got = invite()
    assert (got.method, got.version, got.prodid) == (
        "REQUEST", "2.0", "-//visavis//appointments//EN",
    )  # fmt: skip
    assert (got.uid, got.sequence, got.status) == ("appt1@bank.example", 0, "CONFIRMED")
    assert (got.start, got.end) == (START, START + timedelta(minutes=30))
    assert before <= got.stamp <= datetime.now(UTC)
    assert got.summary == "Beratung / Consultation: Anna Berger"
    assert got.description == f"Videoberatung / video consultation: {LINK}"
    assert got.url == got.location == LINK
    assert (got.organizer.name, got.organizer.email) == ANNA
    assert [(a.name, a.email) for a in got.attendees] == [ERIKA]
    # booked by the customer: accepted, and no reply wanted
    assert got.attendees[0].params == {
        "CN": "Erika Muster", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED", "RSVP": "FALSE",
    }  # fmt: skip
    assert got.property_names == {
        "UID", "SEQUENCE", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "URL",
        "LOCATION", "ORGANIZER", "ATTENDEE", "STATUS",
    }  # fmt: skip


@pytest.mark.parametrize(
    "name",
    [
        "Berger, Anna: Beratung",  # read as the address " Beratung:mailto:…" before
        'Müller; "Max", Dr.: Ltd',
        "Jürgen Weiß",
        "O'Brien ^ Söhne",  # ^ is RFC 6868's escape character
        "C:\\Users\\erika",
        "mailto:evil@example.org",
        "李小龍 " + "ß" * 60,  # folded in the middle of multi-byte characters
    ],
)
def test_names_and_addresses_come_back_exactly(name: str) -> None:
    got = invite(organizer=(name, "anna@bank.example"), attendee=(name, "erika@example.org"))
    assert (got.organizer.name, got.organizer.email) == (name, "anna@bank.example")
    assert [(a.name, a.email) for a in got.attendees] == [(name, "erika@example.org")]


@pytest.mark.parametrize("name", ["Erika\rMuster", "Erika\nMuster", "Erika\r\nMuster"])
def test_a_line_break_in_a_name_becomes_a_space(name: str) -> None:
    # a name is one line; a bare CR must not end the content line either
    got = invite(organizer=(name, "anna@bank.example"), attendee=(f" {name} ", "e@example.org"))
    assert got.organizer.name == got.attendees[0].name == "Erika Muster"
    assert got.attendees[0].email == "e@example.org"


def test_text_keeps_its_special_characters_and_long_text_is_folded() -> None:
    summary = 'Beratung; Müller, "Jürgen Weiß": C:\\x'
    description = "\n".join(
        [f"Videoberatung: {LINK}", "Zeile zwei; mit, Zeichen: \\ und Umlauten äöü", "ß" * 300]
    )
    got = invite(summary=summary, description=description)
    assert got.summary == summary
    assert got.description == description


def test_a_bare_cr_in_text_is_a_line_break() -> None:
    # RFC 5545 TEXT has no escape for a lone CR; it must not end the content line
    got = invite(summary="Beratung\rheute", description="eins\rzwei\r\ndrei")
    assert got.summary == "Beratung\nheute"
    assert got.description == "eins\nzwei\ndrei"


def test_times_are_utc_whatever_zone_they_come_in() -> None:
    berlin = START.astimezone(ZoneInfo("Europe/Berlin"))
    got = invite(start=berlin)
    assert got.start == START and got.start.utcoffset() == timedelta(0)


def test_an_update_keeps_the_uid_and_raises_the_sequence() -> None:
    first, moved = invite(), invite(start=START + timedelta(days=1), sequence=1)
    assert (moved.method, moved.status) == ("REQUEST", "CONFIRMED")
    assert moved.uid == first.uid and (first.sequence, moved.sequence) == (0, 1)
    assert moved.start == START + timedelta(days=1)
    assert moved.attendees == first.attendees and moved.organizer == first.organizer


def test_a_cancellation_names_the_same_event() -> None:
    got = invite(cancel=True, sequence=2, attendee=('Müller, "Jürgen": x', "j@example.org"))
    assert (got.method, got.status) == ("CANCEL", "CANCELLED")
    assert (got.uid, got.sequence, got.start) == ("appt1@bank.example", 2, START)
    assert (got.organizer.name, got.organizer.email) == ANNA
    assert [(a.name, a.email) for a in got.attendees] == [('Müller, "Jürgen": x', "j@example.org")]
