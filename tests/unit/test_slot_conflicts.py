"""Appointment slots on SQLite and PostgreSQL: one adviser's slots never overlap, and a
slot is booked once, whoever is faster; the loser changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from services import conversation_service

from visavis.auth.service import AuthService
from visavis.errors import VisavisError
from visavis.storage.engine import Database
from visavis.ways_in.appointments import AppointmentService

# tomorrow 10:00 UTC: always in the future, whole minutes
T10 = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)


def at(minutes: int) -> datetime:
    return T10 + timedelta(minutes=minutes)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def svc(db: Database) -> AppointmentService:
    return AppointmentService(db, conversation_service(db))


async def adviser(db: Database, email: str) -> str:
    auth = AuthService(db, 3, 3600, 5)
    return (await auth.do_add_adviser(email, "long-enough-pw", email.split("@")[0])).id


@pytest.mark.parametrize(
    ("start", "end"),
    [(15, 45), (-10, 15), (-10, 40), (5, 20), (0, 30)],
    ids=["overlaps-end", "overlaps-start", "contains", "inside", "same"],
)
async def test_overlapping_slots_of_one_adviser_are_refused(
    db: Database, svc: AppointmentService, start: int, end: int
) -> None:
    anna = await adviser(db, "anna@bank.example")
    await svc.do_add_slot(anna, at(0), at(30))
    with pytest.raises(VisavisError) as err:
        await svc.do_add_slot(anna, at(start), at(end))
    assert err.value.code == "invalid_state" and "overlaps" in err.value.message
    assert len(await svc.slots(None, only_free=False)) == 1


async def test_back_to_back_slots_and_other_advisers_do_not_conflict(
    db: Database, svc: AppointmentService
) -> None:
    anna = await adviser(db, "anna@bank.example")
    ben = await adviser(db, "ben@bank.example")
    await svc.do_add_slot(anna, at(0), at(30))
    await svc.do_add_slot(anna, at(30), at(60))  # starts when the first ends
    await svc.do_add_slot(anna, at(-30), at(0))  # ends when the first starts
    await svc.do_add_slot(ben, at(0), at(30))  # the same time, another adviser
    assert len(await svc.slots(None, only_free=True)) == 4
    # the time zone of the request does not matter: 12:15+02:00 is 10:15 UTC
    plus2 = timezone(timedelta(hours=2))
    with pytest.raises(VisavisError):
        await svc.do_add_slot(ben, at(15).astimezone(plus2), at(45).astimezone(plus2))


async def test_a_slot_is_booked_once_and_the_loser_changes_nothing(
    db: Database, svc: AppointmentService
) -> None:
    anna = await adviser(db, "anna@bank.example")
    slot = await svc.do_add_slot(anna, at(0), at(30))
    other = await svc.do_add_slot(anna, at(60), at(90))
    first, _manage = await svc.do_book(slot["id"], "Erika", "de", None, "erika@example.org")
    with pytest.raises(VisavisError) as err:
        await svc.do_book(slot["id"], "Max", "en", None, "max@example.org")
    assert err.value.code == "slot_taken"
    # Erika keeps her appointment; Max got no conversation; the other slot stays free
    conversations = conversation_service(db)
    kept = await conversations.get(first.conversation_id)
    assert kept["status"] == "scheduled" and kept["customer_name"] == "Erika"
    assert [s["id"] for s in await svc.slots(None, only_free=True)] == [other["id"]]
    assert [c["id"] for c in await conversations.search(None, None, "Erika", 10, None)] == [
        first.conversation_id
    ]
    assert await conversations.search(None, None, "Max", 10, None) == []


async def test_two_customers_racing_for_a_slot_one_wins(
    db: Database, svc: AppointmentService
) -> None:
    anna = await adviser(db, "anna@bank.example")
    slot = await svc.do_add_slot(anna, at(0), at(30))
    results = await asyncio.gather(
        *(svc.do_book(slot["id"], f"c{i}", "de", None, f"c{i}@example.org") for i in range(4)),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, VisavisError)]
    assert len(wins) == 1 and len(losses) == 3, results
    assert {e.code for e in losses} == {"slot_taken"}
    assert await svc.slots(None, only_free=True) == []


async def test_a_move_is_in_the_conversations_history(
    db: Database, svc: AppointmentService
) -> None:
    anna = await adviser(db, "anna@bank.example")
    first = await svc.do_add_slot(anna, at(0), at(30))
    later = await svc.do_add_slot(anna, at(60), at(90))
    booking, manage = await svc.do_book(first["id"], "Erika", "de", None, "erika@example.org")
    moved, _old = await svc.do_rebook(booking.id, manage, later["id"])
    history = await conversation_service(db).full_history(moved.conversation_id)
    assert [e["kind"] for e in history] == ["conversation.created", "appointment.moved"]
    assert history[-1]["body"] == {
        "from": first["start"], "starts_at": later["start"], "ends_at": later["end"],
    }  # fmt: skip
