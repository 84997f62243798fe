from __future__ import annotations

import time

import pytest

from visavis.auth.passwords import hash_password, verify_password
from visavis.auth.ratelimit import RateLimiter, TokenBucket
from visavis.auth.service import EMAIL_RE, AuthService
from visavis.auth.tokens import CustomerTokens
from visavis.errors import VisavisError
from visavis.storage.engine import Database


async def test_password_hash_is_argon2_and_verifies() -> None:
    h = hash_password("a-long-password")
    assert h.startswith("$argon2id$")
    assert await verify_password(h, "a-long-password")
    assert not await verify_password(h, "wrong-password")
    assert not await verify_password(None, "a-long-password")
    assert not await verify_password("not-a-hash", "x")


def test_customer_token_grants_exactly_its_conversation() -> None:
    tokens = CustomerTokens("k" * 32, ttl_s=60)
    t = tokens.issue("conv-1")
    assert tokens.check(t) == "conv-1"
    forged = t[:-2] + ("AA" if not t.endswith("AA") else "BB")
    for bad in (forged, "garbage", "", CustomerTokens("other-key" * 4, 60).issue("conv-1")):
        with pytest.raises(VisavisError) as err:
            tokens.check(bad)
        assert err.value.code == "unauthorized"


def test_customer_token_expires() -> None:
    tokens = CustomerTokens("k" * 32, ttl_s=-1)
    with pytest.raises(VisavisError, match="expired"):
        tokens.check(tokens.issue("conv-1"))


def test_customer_token_checked_again_is_still_checked() -> None:
    """A verified token is remembered, but only for what it granted, only until it
    expires, and a forgery of it is still refused."""
    tokens = CustomerTokens("k" * 32, ttl_s=1)
    t = tokens.issue("conv-1")
    assert tokens.check(t) == tokens.check(t) == "conv-1"
    forged = t[:-2] + ("AA" if not t.endswith("AA") else "BB")
    with pytest.raises(VisavisError, match="not valid"):
        tokens.check(forged)
    with pytest.raises(VisavisError, match="not valid"):
        CustomerTokens("other-key" * 4, 60).check(t)
    signed_at = tokens._verified[t][1]
    while int(time.time()) - signed_at <= 1:  # past its time to live, by the same clock
        time.sleep(0.05)
    with pytest.raises(VisavisError, match="expired"):
        tokens.check(t)
    assert t not in tokens._verified


def test_token_bucket_and_limiter() -> None:
    bucket = TokenBucket(rate_per_s=0.0, burst=3)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    limiter = RateLimiter(per_minute=2)
    assert limiter.allow_now("ip") and limiter.allow_now("ip") and not limiter.allow_now("ip")
    assert limiter.allow_now("other-ip")
    fast = TokenBucket(rate_per_s=1000, burst=1)
    assert fast.take()
    time.sleep(0.01)
    assert fast.take()


async def test_login_session_logout_and_rate_limit(database_url: str) -> None:
    db = Database(database_url)
    try:
        auth = AuthService(db, 3, 3600, login_per_minute=3)
        await auth.do_add_adviser("Anna@Bank.example", "long-enough-pw", "Anna")
        with pytest.raises(VisavisError) as err:
            await auth.do_add_adviser("anna@bank.example", "long-enough-pw", "Anna")
        assert err.value.code == "invalid_state"
        with pytest.raises(VisavisError) as err:
            await auth.do_add_adviser("x@bank.example", "short", "X")
        assert err.value.code == "bad_request"

        adviser, raw, csrf = await auth.do_login("anna@bank.example", "long-enough-pw", "1.2.3.4")
        assert adviser.email == "anna@bank.example"
        assert (await auth.check_session(raw)) == (adviser, csrf)
        with pytest.raises(VisavisError) as err:
            await auth.do_login("anna@bank.example", "wrong", "1.2.3.4")
        assert err.value.code == "bad_credentials"
        with pytest.raises(VisavisError) as err:
            await auth.do_login("nobody@bank.example", "wrong", "1.2.3.4")
        assert err.value.code == "bad_credentials"
        for _ in range(3):
            try:
                await auth.do_login("anna@bank.example", "wrong", "5.6.7.8")
            except VisavisError:
                pass
        with pytest.raises(VisavisError) as err:
            await auth.do_login("anna@bank.example", "long-enough-pw", "5.6.7.8")
        assert err.value.code == "rate_limited"

        await auth.do_logout(raw)
        with pytest.raises(VisavisError) as err:
            await auth.check_session(raw)
        assert err.value.code == "unauthorized"
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    "address",
    ["erika@example.org", "a+tag@sub.example.co.uk", "jörg.müller@bücher.de", "o'neil@x.ie"],
)
def test_plain_addresses_are_e_mail_addresses(address: str) -> None:
    assert EMAIL_RE.match(address)


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "erika@",
        "@example.org",
        "erika @example.org",
        "erika@example",
        "erika@example..org",
        # the mail headers would read these as lists, names or comments, and the mail
        # would go to someone other than the address shown
        "a,b@example.org",
        "a;b@example.org",
        "a<b@example.org",
        "Erika <erika@example.org>",
        "a(b)@example.org",
        '"erika"@example.org',
        "erika@example.org\x00",
    ],
)
def test_lists_names_and_broken_addresses_are_not(address: str) -> None:
    assert not EMAIL_RE.match(address)
