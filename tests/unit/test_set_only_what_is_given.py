"""Changing a team or a profile sets only the fields given; the rest stays as it was
(on SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from visavis.auth.profiles import ProfileService
from visavis.auth.service import AuthService
from visavis.errors import VisavisError
from visavis.routing.hours import BusinessHours
from visavis.routing.teams import DEFAULT_HOURS, TeamChanges, TeamService, TeamView
from visavis.storage.engine import Database

NIGHTS = {"sun": [["20:00", "24:00"]]}
FULL = TeamChanges(
    name="Baufinanzierung",
    topics=["kredit"],
    languages=["de"],
    timezone="America/New_York",
    hours=NIGHTS,
    holidays=["2026-12-24"],
    chat_limit=2,
)
# one change per field, each different from FULL
ONE_FIELD: dict[str, Any] = {
    "name": "Baufi",
    "topics": ["konto", "kredit"],
    "languages": ["en", "tr"],
    "timezone": "Europe/Berlin",
    "hours": {"mon": [["09:00", "10:00"]]},
    "holidays": ["2027-01-01"],
    "chat_limit": 5,
}


def fields(team: TeamView) -> dict[str, Any]:
    return {
        "name": team.name,
        "topics": list(team.topics),
        "languages": list(team.languages),
        "timezone": team.hours.timezone,
        "hours": team.hours.weekly,
        "holidays": team.hours.holidays,
        "chat_limit": team.chat_limit,
    }


def expected(changes: TeamChanges) -> dict[str, Any]:
    """`fields` of a team saved with exactly these (complete) changes."""
    assert changes.hours is not None and changes.holidays is not None
    assert changes.timezone is not None
    hours = BusinessHours.parse(changes.timezone, changes.hours, changes.holidays)
    return {
        "name": changes.name,
        "topics": changes.topics,
        "languages": changes.languages,
        "timezone": changes.timezone,
        "hours": hours.weekly,
        "holidays": hours.holidays,
        "chat_limit": changes.chat_limit,
    }


@pytest.fixture
async def teams(db: Database) -> TeamService:
    service = TeamService(db)
    await service.load()
    await service.do_save("baufi", FULL)
    return service


@pytest.mark.parametrize("field", list(ONE_FIELD))
async def test_setting_one_field_of_a_team_keeps_the_others(teams: TeamService, field: str) -> None:
    saved = await teams.do_save("baufi", TeamChanges(**{field: ONE_FIELD[field]}))
    assert fields(saved) == expected(dataclasses.replace(FULL, **{field: ONE_FIELD[field]}))
    await teams.load()  # as stored, not only as returned
    assert fields(teams.get("baufi")) == fields(saved)


async def test_nothing_given_changes_nothing(teams: TeamService) -> None:
    before = fields(teams.get("baufi"))
    assert fields(await teams.do_save("baufi", TeamChanges())) == before


async def test_hours_chat_limit_topics_and_holidays_can_be_reset(teams: TeamService) -> None:
    saved = await teams.do_save(
        "baufi", TeamChanges(hours=DEFAULT_HOURS, chat_limit=None, topics=[], holidays=[])
    )
    assert fields(saved) == expected(
        dataclasses.replace(FULL, hours=DEFAULT_HOURS, chat_limit=None, topics=[], holidays=[])
    )


async def test_a_new_team_starts_with_the_defaults_where_nothing_is_given(
    teams: TeamService,
) -> None:
    saved = await teams.do_save("technik", TeamChanges(topics=["konto"]))
    assert fields(saved) == expected(
        TeamChanges(
            name="technik",
            topics=["konto"],
            languages=["de", "en"],
            timezone="Europe/Berlin",
            hours=DEFAULT_HOURS,
            holidays=[],
            chat_limit=None,
        )
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (TeamChanges(hours={"mon": [["10:00", "09:00"]]}), "ends before it starts"),
        (TeamChanges(timezone="Mars/Olympus"), "unknown time zone"),
        (TeamChanges(chat_limit=0), "not between 1 and 50"),
    ],
)
async def test_a_refused_change_changes_nothing(
    teams: TeamService, changes: TeamChanges, reason: str
) -> None:
    before = fields(teams.get("baufi"))
    with pytest.raises(VisavisError, match=reason) as err:
        await teams.do_save("baufi", changes)
    assert err.value.code == "bad_request"
    await teams.load()
    assert fields(teams.get("baufi")) == before


async def test_setting_one_field_of_a_profile_keeps_the_others(db: Database) -> None:
    auth = AuthService(db, 3, 3600, 5)
    anna = (await auth.do_add_adviser("anna@bank.example", "long-enough-pw", "Anna")).id
    profiles = ProfileService(db)
    await profiles.do_set_profile(anna, ["de"], ["kredit"], "Baufinanzierung.", False)
    await profiles.do_set_profile(anna, listed=True)
    await profiles.do_set_profile(anna, bio=" Konto und Karte. ")
    assert await profiles.profile(anna) == {
        "id": anna,
        "name": "Anna",
        "photo_url": None,
        "languages": ["de"],
        "topics": ["kredit"],
        "bio": "Konto und Karte.",
        "listed": True,
    }
    await profiles.do_set_profile(anna, [], [], "", False)  # everything given: all of it
    profile = await profiles.profile(anna)
    assert [profile[k] for k in ("languages", "topics", "bio", "listed")] == [[], [], "", False]
