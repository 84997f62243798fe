from __future__ import annotations

from datetime import UTC, datetime

import pytest

from visavis.errors import VisavisError
from visavis.routing.decide import (
    AdviserLoad,
    ChatLimits,
    check_chat_limit,
    choose_team,
    effective_chat_limit,
    language_matches,
    rank_advisers,
)
from visavis.routing.estimate import Capacity, estimate_wait_s
from visavis.routing.hours import BusinessHours
from visavis.routing.offers import OfferBook
from visavis.routing.teams import TeamView

WEEKDAYS = {
    d: [["08:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
}


def hours(
    tz: str = "Europe/Berlin",
    weekly: dict[str, list[list[str]]] | None = None,
    holidays: list[str] | None = None,
) -> BusinessHours:
    return BusinessHours.parse(tz, dict(WEEKDAYS if weekly is None else weekly), holidays or [])


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


# ---------------------------------------------------------------- routing decisions
def team(
    team_id: str, topics: str = "", languages: str = "de,en", limit: int | None = None
) -> TeamView:
    return TeamView(
        id=team_id,
        name=team_id,
        topics=tuple(t for t in topics.split(",") if t),
        languages=tuple(x for x in languages.split(",") if x),
        hours=hours(tz="UTC", weekly={}),
        members=frozenset(),
        chat_limit=limit,
    )


BAUFI_DE = team("baufi-de", "kredit", "de")
BAUFI_EN = team("baufi-en", "kredit", "en,fr")
KONTO = team("konto", "konto", "de")
CATCH_DE = team("alle-de", "", "de")
CATCH_EN = team("alle-en", "", "en")


@pytest.mark.parametrize(
    ("wanted", "served", "match"),
    [
        ("de", ["de", "en"], True),
        ("de-AT", ["de"], True),  # the primary subtag decides
        ("EN", ["en-GB"], True),
        ("fr", ["de", "en"], False),
        (None, ["de"], True),  # no language given: anyone
        ("fr", [], True),  # nothing listed: nothing known against them
    ],
)
def test_language_matches(wanted: str | None, served: list[str], match: bool) -> None:
    assert language_matches(wanted, served) is match


def test_topic_picks_the_team_and_language_breaks_the_tie() -> None:
    teams = [BAUFI_DE, BAUFI_EN, KONTO, CATCH_DE, CATCH_EN]
    assert choose_team(teams, "kredit", "de") is BAUFI_DE
    assert choose_team(teams, "kredit", "en") is BAUFI_EN
    assert choose_team(teams, "kredit", "fr-CH") is BAUFI_EN
    # without a language the first team of the topic, as before languages counted
    assert choose_team(teams, "kredit", None) is BAUFI_DE
    # the topic wins over the language: an English customer about the account goes to
    # the (German) account team, not to an English catch-all
    assert choose_team(teams, "konto", "en") is KONTO


def test_nobody_is_stranded_for_their_language() -> None:
    # no team of the topic speaks Italian: the first team of the topic still takes them
    assert choose_team([BAUFI_DE, BAUFI_EN], "kredit", "it") is BAUFI_DE


def test_without_a_matching_topic_the_catch_alls_qualify() -> None:
    teams = [BAUFI_DE, CATCH_DE, CATCH_EN]
    assert choose_team(teams, "beratung", "en") is CATCH_EN
    assert choose_team(teams, None, "de") is CATCH_DE
    assert choose_team(teams, None, "it") is CATCH_DE
    # no catch-all: one shared queue
    assert choose_team([BAUFI_DE, KONTO], "beratung", "de") is None
    assert choose_team([], "kredit", "de") is None


@pytest.mark.parametrize(
    ("own", "team_limit", "default", "limit"),
    [
        (None, None, 3, 3),  # the server default
        (5, None, 3, 5),  # the adviser's own limit where the team sets none
        (None, 1, 3, 1),  # the team's replaces the default, lower ...
        (None, 6, 3, 6),  # ... or higher
        (1, 5, 3, 1),  # a trainee limited to 1 stays at 1
        (6, 2, 3, 2),  # and nobody goes above the team's
    ],
)
def test_effective_chat_limit(
    own: int | None, team_limit: int | None, default: int, limit: int
) -> None:
    assert effective_chat_limit(own, team_limit, default) == limit


def test_chat_limits_per_team_and_the_limit_check() -> None:
    limits = ChatLimits(3, {"baufi": 1, "hotline": 5})
    assert limits.for_team("baufi") == 1
    assert limits.for_team("hotline") == 5
    assert limits.for_team("konto") == 3  # no limit of its own
    assert limits.for_team(None) == 3
    assert limits.highest() == 5
    check_chat_limit(0, 1)
    with pytest.raises(VisavisError) as err:
        check_chat_limit(1, 1, "baufi")
    assert err.value.code == "limit_reached"
    assert err.value.message == "you already serve 1 conversations; the limit for baufi is 1"


def test_advisers_speaking_the_language_come_first_then_the_least_loaded() -> None:
    anna = AdviserLoad("anna", active=2, limit=3, languages=("de",))
    ben = AdviserLoad("ben", active=0, limit=3, languages=("de", "en"))
    cem = AdviserLoad("cem", active=1, limit=3, languages=("en", "tr"))
    dora = AdviserLoad("dora", active=1, limit=3)  # no languages in her profile
    ranked = rank_advisers([anna, ben, cem, dora], "en")
    assert [a.id for a in ranked] == ["ben", "cem", "dora", "anna"]
    # German: Anna speaks it but is busier than Ben and Dora
    assert [a.id for a in rank_advisers([anna, ben, cem, dora], "de")] == [
        "ben",
        "dora",
        "anna",
        "cem",
    ]
    # equal advisers always come in the same order
    twins = [AdviserLoad("zoe", 1, 3), AdviserLoad("eva", 1, 3)]
    assert [a.id for a in rank_advisers(twins, None)] == ["eva", "zoe"]
    assert [a.id for a in rank_advisers(reversed(twins), None)] == ["eva", "zoe"]


def test_an_adviser_at_the_limit_gets_nobody_and_nobody_free_means_no_offer() -> None:
    # Ben is at the limit of this conversation's team although he has room in general
    ben = AdviserLoad("ben", active=1, limit=1, languages=("en",))
    anna = AdviserLoad("anna", active=2, limit=3, languages=("de",))
    assert [a.id for a in rank_advisers([ben, anna], "en")] == ["anna"]
    assert rank_advisers([ben, AdviserLoad("cem", 3, 3)], "en") == []
    assert rank_advisers([], "de") == []


def test_which_adviser_gets_a_conversation() -> None:
    """The decision of the hub in one: rank the free advisers for each waiting
    customer, then offer in queue order without overfilling anyone."""
    book = OfferBook(timeout_s=30)
    waiting = {
        "c-en": (AdviserLoad("anna", 0, 1, ("de",)), AdviserLoad("ben", 0, 2, ("en",))),
        "c-de": (AdviserLoad("anna", 0, 1, ("de",)), AdviserLoad("ben", 0, 2, ("en",))),
        "c-tr": (AdviserLoad("anna", 0, 1, ("de",)), AdviserLoad("ben", 0, 2, ("en",))),
    }
    language = {"c-en": "en", "c-de": "de", "c-tr": "tr"}

    def candidates(cid: str) -> list[tuple[str, int]]:
        return [(a.id, a.free) for a in rank_advisers(waiting[cid], language[cid])]

    made = book.plan(["c-en", "c-de", "c-tr"], candidates, now=0)
    # Turkish: nobody speaks it, Anna's one slot went to c-de, Ben has a second one
    assert made == [("c-en", "ben"), ("c-de", "anna"), ("c-tr", "ben")]
