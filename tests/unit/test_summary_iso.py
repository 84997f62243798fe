"""`iso`: every time the protocol sends is UTC with a `Z`, whatever the database hands
back — naive (SQLite; we only store UTC), aware in UTC (PostgreSQL) or aware in another
zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from visavis.conversations.summary import iso

BERLIN_WINTER = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("dt", "text"),
    [
        (datetime(2026, 12, 4, 22, 0), "2026-12-04T22:00:00Z"),
        (datetime(2026, 12, 4, 22, 0, 0, 123456), "2026-12-04T22:00:00.123456Z"),
        (datetime(2026, 12, 4, 22, 0, 0, 5, tzinfo=UTC), "2026-12-04T22:00:00.000005Z"),
        (datetime(2026, 12, 4, 23, 0, tzinfo=BERLIN_WINTER), "2026-12-04T22:00:00Z"),
        (
            datetime(2026, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5))),
            "2027-01-01T01:00:00Z",
        ),
    ],
)
def test_iso_is_utc_with_a_z(dt: datetime, text: str) -> None:
    assert iso(dt) == text
    assert datetime.fromisoformat(text) == (dt if dt.tzinfo else dt.replace(tzinfo=UTC))


def test_iso_of_nothing_is_nothing() -> None:
    assert iso(None) is None
