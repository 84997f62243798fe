from __future__ import annotations

from datetime import UTC, datetime

import pytest

from visavis.routing.estimate import Capacity, estimate_wait_s
from visavis.routing.hours import BusinessHours

WEEKDAYS = {
    d: [["08:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
}


def hours(**kw: object) -> BusinessHours:
    return BusinessHours.parse(
        str(kw.get("tz", "Europe/Berlin")),
        dict(kw.get("weekly", WEEKDAYS)),
        list(kw.get("holidays", [])),  # type: ignore[call-overload]
    )


def test_open_in_team_time_zone_across_dst() -> None:
    h = hours()
    # Tuesday 2026-11-24 07:30 UTC = 08:30 Berlin (CET, UTC+1): open
    assert h.is_open(datetime(2026, 11, 24, 7, 30, tzinfo=UTC))
    # 06:30 UTC = 07:30 Berlin: closed
    assert not h.is_open(datetime(2026, 11, 24, 6, 30, tzinfo=UTC))
    # in summer (CEST, UTC+2) 06:30 UTC = 08:30 Berlin: open
    assert h.is_open(datetime(2026, 7, 14, 6, 30, tzinfo=UTC))
    # lunch break and weekend
    assert not h.is_open(datetime(2026, 11, 24, 11, 30, tzinfo=UTC))
    assert not h.is_open(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))


def test_holidays_close_the_whole_local_day() -> None:
    h = hours(holidays=["2026-12-24"])
    assert not h.is_open(datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    # 23:30 UTC on the 23rd is already the 24th in Berlin
    assert not hours(
        holidays=["2026-12-24"], weekly={"wed": [["00:00", "24:00"]], "thu": [["00:00", "24:00"]]}
    ).is_open(datetime(2026, 12, 23, 23, 30, tzinfo=UTC))


def test_next_opening_skips_weekend_and_holidays() -> None:
    h = hours(holidays=["2026-11-30"])  # Monday
    nxt = h.next_opening(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))  # Friday 19:00 Berlin
    assert nxt is not None and nxt.isoformat() == "2026-12-01T08:00:00+01:00"
    assert BusinessHours.parse("UTC", {}, []).next_opening(datetime(2026, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("weekly", "tz", "message"),
    [
        ({"monday": []}, "UTC", "unknown day"),
        ({"mon": [["09:00", "08:00"]]}, "UTC", "ends before"),
        ({"mon": [["9", "10:00"]]}, "UTC", "HH:MM"),
        ({}, "Mars/Olympus", "time zone"),
    ],
)
def test_bad_hours_are_refused_with_a_reason(
    weekly: dict[str, object], tz: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessHours.parse(tz, weekly, [])


def test_wait_estimate() -> None:
    # nobody available: unknown, not zero
    assert estimate_wait_s(1, Capacity(slots=0, free=0), [], []) is None
    # a free slot: only the usual pick-up delay
    assert estimate_wait_s(1, Capacity(slots=3, free=1), [600], [20, 40, 30]) == 30
    # 2 advisers x 3 slots all busy, median handle 600 s: one slot frees every 100 s
    assert estimate_wait_s(
        1, Capacity(slots=6, free=0), [600, 600, 9999, 100, 600], [30]
    ) == pytest.approx(130)
    assert estimate_wait_s(4, Capacity(slots=6, free=0), [600], [30]) == pytest.approx(430)
    # defaults before the team has history
    assert estimate_wait_s(2, Capacity(slots=1, free=0), [], []) == pytest.approx(2 * 300 + 30)
    with pytest.raises(ValueError):
        estimate_wait_s(0, Capacity(1, 1), [], [])
