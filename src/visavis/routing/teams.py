"""Teams: which topics and languages they serve, when they are open, who is in them,
and how many chats each of their advisers may hold."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from visavis.auth.service import AdviserView
from visavis.errors import VisavisError
from visavis.routing.decide import ChatLimits, choose_team, effective_chat_limit
from visavis.routing.hours import BusinessHours
from visavis.storage.engine import Database
from visavis.storage.models import Adviser, Team, TeamMember

TEAM_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


@dataclass(frozen=True)
class TeamView:
    id: str
    name: str
    topics: tuple[str, ...]
    languages: tuple[str, ...]
    hours: BusinessHours
    members: frozenset[str]
    chat_limit: int | None = None  # per adviser; None: their own or the server default

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(UTC)
        nxt = self.hours.next_opening(now)
        return {
            "id": self.id,
            "name": self.name,
            "topics": list(self.topics),
            "languages": list(self.languages),
            "timezone": self.hours.timezone,
            "chat_limit": self.chat_limit,
            "open": self.hours.is_open(now),
            "next_opening": nxt.isoformat() if nxt else None,
        }


class Keep(Enum):
    """`TeamChanges.chat_limit` not given: None there means "no limit of the team"."""

    KEEP = "keep"


@dataclass(frozen=True)
class TeamChanges:
    """The fields of a team to set; None (`Keep.KEEP` for the chat limit) leaves one
    as it is."""

    name: str | None = None
    topics: list[str] | None = None  # []: a catch-all team
    languages: list[str] | None = None
    timezone: str | None = None
    hours: dict[str, Any] | None = None  # see routing/hours.py
    holidays: list[str] | None = None  # YYYY-MM-DD
    chat_limit: int | Keep | None = Keep.KEEP  # None: each adviser's own limit


# Mon-Fri 08:00-20:00, Sat 09:00-14:00: a bank's service hours.
DEFAULT_HOURS: dict[str, Any] = {
    **{d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "sat": [["09:00", "14:00"]],
}
# What a new team starts with where its first save leaves a field out.
NEW_TEAM = TeamChanges(
    name="",  # the team's id
    topics=[],
    languages=["de", "en"],
    timezone="Europe/Berlin",
    hours=DEFAULT_HOURS,
    holidays=[],
    chat_limit=None,
)


def check_chat_limit(chat_limit: int | Keep | None) -> None:
    if isinstance(chat_limit, int) and not 1 <= chat_limit <= 50:
        raise VisavisError("bad_request", f"chat limit: {chat_limit} is not between 1 and 50")


def _write(team: Team, changes: TeamChanges, team_id: str) -> None:
    """Copy the given fields of `changes` onto the row."""
    if changes.name is not None:
        team.name = changes.name.strip() or team_id
    if changes.topics is not None:
        team.topics = json.dumps(changes.topics)
    if changes.languages is not None:
        team.languages = json.dumps(changes.languages)
    if changes.timezone is not None:
        team.timezone = changes.timezone
    if changes.hours is not None:
        team.hours = json.dumps(changes.hours)
    if changes.holidays is not None:
        team.holidays = json.dumps(changes.holidays)
    if changes.chat_limit is not Keep.KEEP:
        team.chat_limit = changes.chat_limit


def _view(team: Team, members: frozenset[str]) -> TeamView:
    return TeamView(
        id=team.id,
        name=team.name,
        topics=tuple(json.loads(team.topics)),
        languages=tuple(json.loads(team.languages)),
        hours=BusinessHours.parse(team.timezone, json.loads(team.hours), json.loads(team.holidays)),
        members=members,
        chat_limit=team.chat_limit,
    )


class TeamService:
    """Teams are few and change rarely: kept in memory, reloaded after each change."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._teams: dict[str, TeamView] = {}
        # adviser id -> their teams, made with `_teams`: the queue's pushes ask for
        # every adviser and every waiting customer (web/queue_push.py), a walk over
        # all teams each time was what a long queue's recompute spent most on
        self._teams_of: dict[str, frozenset[str]] = {}
        # advisers' languages from their portal profiles: who speaks the customer's
        self._languages: dict[str, tuple[str, ...]] = {}

    async def load(self) -> None:
        async with self._db.sessions() as db:
            teams = list(await db.scalars(select(Team).order_by(Team.created_at, Team.id)))
            members: dict[str, set[str]] = {}
            for m in await db.scalars(select(TeamMember)):
                members.setdefault(m.team_id, set()).add(m.adviser_id)
            spoken = (await db.execute(select(Adviser.id, Adviser.languages))).all()
        self._teams = {t.id: _view(t, frozenset(members.get(t.id, ()))) for t in teams}
        teams_of: dict[str, set[str]] = {}
        for team in self._teams.values():
            for adviser_id in team.members:
                teams_of.setdefault(adviser_id, set()).add(team.id)
        self._teams_of = {aid: frozenset(ids) for aid, ids in teams_of.items()}
        self._languages = {aid: tuple(json.loads(langs or "[]")) for aid, langs in spoken}

    # ------------------------------------------------------------ reads
    def all(self) -> list[TeamView]:
        return list(self._teams.values())

    def get(self, team_id: str) -> TeamView:
        try:
            return self._teams[team_id]
        except KeyError:
            raise VisavisError("not_found", f"no team {team_id!r}") from None

    def for_topic(self, topic: str | None, language: str | None = None) -> TeamView | None:
        """The team a customer of that topic (and language) waits for: see
        `routing.decide.choose_team`."""
        return choose_team(list(self._teams.values()), topic, language)

    def chat_limit_of(self, team_id: str | None) -> int | None:
        """The team's own per-adviser limit; None for no team, no limit or a team that
        is gone (removed while its customers still wait)."""
        team = self._teams.get(team_id) if team_id else None
        return team.chat_limit if team else None

    def languages_of(self, adviser_id: str) -> tuple[str, ...]:
        return self._languages.get(adviser_id, ())

    def limits_for(self, adviser: AdviserView) -> ChatLimits:
        """The adviser's chat limit for a conversation of each team. `max_chats` is the
        server default wherever the adviser has no limit of their own."""
        return ChatLimits(
            adviser.max_chats,
            {
                t.id: effective_chat_limit(adviser.own_max_chats, t.chat_limit, adviser.max_chats)
                for t in self._teams.values()
                if t.chat_limit is not None
            },
        )

    def teams_of(self, adviser_id: str) -> frozenset[str]:
        return self._teams_of.get(adviser_id, frozenset())

    def serves(self, adviser_id: str, team_id: str | None) -> bool:
        """May this adviser take customers of that team? Advisers in no team serve all."""
        mine = self.teams_of(adviser_id)
        return not mine or team_id is None or team_id in mine

    # ------------------------------------------------------------ writes
    async def do_save(self, team_id: str, changes: TeamChanges) -> TeamView:
        """Create the team (what `changes` leaves out: `NEW_TEAM`) or change only the
        fields `changes` gives; the rest stays as it is."""
        if not TEAM_ID_RE.match(team_id):
            raise VisavisError("bad_request", "team id: 1-32 of a-z, 0-9, '-'")
        check_chat_limit(changes.chat_limit)
        async with self._db.writer() as db:
            team = await db.get(Team, team_id)
            if team is None:
                team = Team(id=team_id, created_at=datetime.now(UTC))
                _write(team, NEW_TEAM, team_id)
                db.add(team)
            _write(team, changes, team_id)
            try:
                BusinessHours.parse(
                    team.timezone, json.loads(team.hours), json.loads(team.holidays)
                )
            except ValueError as exc:
                raise VisavisError("bad_request", f"business hours: {exc}") from None
            await db.commit()
        await self.load()
        return self.get(team_id)

    async def do_add_member(self, team_id: str, email: str) -> None:
        async with self._db.writer() as db:
            adviser_id = await db.scalar(select(Adviser.id).where(Adviser.email == email.lower()))
            if adviser_id is None:
                raise VisavisError("not_found", f"no adviser {email}")
            if await db.get(Team, team_id) is None:
                raise VisavisError("not_found", f"no team {team_id!r}")
            db.add(TeamMember(team_id=team_id, adviser_id=adviser_id))
            try:
                await db.commit()
            except IntegrityError:
                await db.rollback()
        await self.load()

    async def do_remove_member(self, team_id: str, email: str) -> None:
        async with self._db.writer() as db:
            adviser_id = await db.scalar(select(Adviser.id).where(Adviser.email == email.lower()))
            await db.execute(
                delete(TeamMember).where(
                    TeamMember.team_id == team_id, TeamMember.adviser_id == adviser_id
                )
            )
            await db.commit()
        await self.load()
