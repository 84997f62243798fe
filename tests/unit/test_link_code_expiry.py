"""Phone codes and invitation links: when they stop working (pure checks, real
signatures, no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from visavis.auth.tokens import CustomerTokens
from visavis.errors import VisavisError
from visavis.ways_in.joins import InvitationLinks, check_code_usable, check_link_age

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def code_error(expires_at: datetime, used_at: datetime | None, now: datetime) -> str | None:
    try:
        check_code_usable(expires_at, used_at, now)
    except VisavisError as err:
        return err.code
    return None


def test_a_code_works_until_its_expiry_instant() -> None:
    expires = T0 + timedelta(minutes=10)
    assert code_error(expires, None, T0) is None
    assert code_error(expires, None, expires) is None
    assert code_error(expires, None, expires + timedelta(microseconds=1)) == "expired"
    assert code_error(expires, None, T0 + timedelta(days=1)) == "expired"


def test_a_used_code_is_unknown_even_before_it_expires() -> None:
    expires = T0 + timedelta(minutes=10)
    assert code_error(expires, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)) == "not_found"


def test_a_code_stored_without_time_zone_is_utc() -> None:
    # SQLite hands back naive datetimes
    naive = (T0 + timedelta(minutes=10)).replace(tzinfo=None)
    assert code_error(naive, None, T0 + timedelta(minutes=9)) is None
    assert code_error(naive, None, T0 + timedelta(minutes=11)) == "expired"


def test_link_age() -> None:
    check_link_age(T0, T0 + timedelta(seconds=60), 60)
    with pytest.raises(VisavisError) as err:
        check_link_age(T0, T0 + timedelta(seconds=61), 60)
    assert err.value.code == "expired" and "expired" in err.value.message


def link_error(links: InvitationLinks, token: str, now: datetime) -> str | None:
    try:
        links.check(token, now)
    except VisavisError as err:
        return err.code
    return None


def test_an_invitation_link_opens_its_conversation_until_it_expires() -> None:
    links = InvitationLinks("k" * 32, ttl_s=7 * 86400)
    token = links.issue("conv-1")
    now = datetime.now(UTC)
    assert links.check(token, now) == "conv-1"
    assert links.check(token, now + timedelta(days=6, hours=23)) == "conv-1"
    assert link_error(links, token, now + timedelta(days=7, seconds=2)) == "expired"


def test_an_appointment_link_lives_as_long_as_a_booking_can_lie_ahead() -> None:
    links = InvitationLinks("k" * 32, ttl_s=60)
    token = links.issue_for_appointment("conv-2")
    now = datetime.now(UTC)
    # far beyond the invitation lifetime: the appointment's own time window decides
    assert links.check(token, now + timedelta(days=180)) == "conv-2"
    assert link_error(links, token, now + timedelta(days=401)) == "expired"


def test_forged_tampered_and_foreign_links_are_refused_not_expired() -> None:
    links = InvitationLinks("k" * 32, ttl_s=60)
    token = links.issue("conv-3")
    now = datetime.now(UTC)
    later = now + timedelta(days=30)  # an expired forgery still says "not valid"
    assert link_error(links, token[:-3] + "abc", now) == "unauthorized"
    assert link_error(links, token[:-3] + "abc", later) == "unauthorized"
    assert link_error(InvitationLinks("x" * 32, 60), token, now) == "unauthorized"
    # a customer token is signed with the same key but is no invitation link
    customer = CustomerTokens("k" * 32, 3600).issue("conv-3")
    assert link_error(links, customer, now) == "unauthorized"
    assert link_error(links, "", now) == "unauthorized"
