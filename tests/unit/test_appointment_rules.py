"""When an appointment may move, and to which slot (rebooking, R5.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from visavis.errors import VisavisError
from visavis.storage.models import Slot
from visavis.ways_in.appointments import appointment_state, check_movable, check_new_slot

NOW = datetime(2030, 5, 6, 10, 0, tzinfo=UTC)
START, END = NOW + timedelta(hours=1), NOW + timedelta(hours=1, minutes=30)


def slot(slot_id: str, adviser: str = "anna", minutes: int = 60) -> Slot:
    start = NOW + timedelta(minutes=minutes)
    return Slot(
        id=slot_id,
        adviser_id=adviser,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        created_at=NOW,
    )


@pytest.mark.parametrize(
    ("cancelled", "status", "now", "state"),
    [
        (False, "scheduled", NOW, "booked"),
        (False, "scheduled", START - timedelta(minutes=1), "booked"),
        (False, "active", START - timedelta(minutes=10), "begun"),  # came in early
        (False, "scheduled", START, "begun"),  # its time, nobody in yet
        (False, "active", START + timedelta(minutes=5), "begun"),
        (False, "scheduled", END, "over"),
        (False, "ended", START + timedelta(minutes=5), "over"),
        (True, "ended", NOW, "cancelled"),
    ],
)
def test_appointment_state(cancelled: bool, status: str, now: datetime, state: str) -> None:
    assert appointment_state(cancelled, status, START, END, now) == state


def test_without_a_slot_it_is_over_unless_cancelled() -> None:
    assert appointment_state(False, "scheduled", None, None, NOW) == "over"
    assert appointment_state(True, "ended", None, None, NOW) == "cancelled"


def test_only_a_booked_appointment_moves() -> None:
    check_movable("booked")
    for state in ("begun", "over", "cancelled"):
        with pytest.raises(VisavisError) as err:
            check_movable(state)
        assert err.value.code == "invalid_state"
        assert err.value.as_dict()["state"] == state


def test_the_new_slot_is_another_future_one_of_the_same_adviser() -> None:
    old = slot("old")
    assert check_new_slot(slot("new", minutes=120), old, NOW).id == "new"
    refused = [
        (None, "not_found"),
        (slot("old"), "bad_request"),  # the same slot
        (slot("ben1", adviser="ben"), "bad_request"),
        (slot("gone", minutes=-5), "bad_request"),
    ]
    for new, code in refused:
        with pytest.raises(VisavisError) as err:
            check_new_slot(new, old, NOW)
        assert err.value.code == code, new and new.id
