"""Routing decisions as pure functions: which team a customer waits for, how many chats
an adviser may hold while serving a team, and whom a waiting customer is offered to
first. The services and the hub feed them their in-memory state; the unit tests call
them directly. The rules are described in docs/architecture.md, "Teams and routing".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from visavis.errors import VisavisError


class Routable(Protocol):
    @property
    def topics(self) -> tuple[str, ...]: ...

    @property
    def languages(self) -> tuple[str, ...]: ...


R = TypeVar("R", bound=Routable)


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0].strip().lower()


def language_matches(wanted: str | None, served: Iterable[str]) -> bool:
    """Whether a team or adviser serves a customer's language. The primary subtag
    decides (`de-AT` is served by `de`): the UI sends what the browser prefers, teams
    list what they speak. A customer without a language, and a team or adviser that
    lists none, match anyone: nothing is known against them."""
    spoken = {_primary(s) for s in served}
    return not wanted or not spoken or _primary(wanted) in spoken


def choose_team(teams: Sequence[R], topic: str | None, language: str | None) -> R | None:
    """The team a customer waits for.

    The topic decides which teams qualify: those that list it, else the catch-alls
    (teams without topics), else none (one shared queue). Among those, the first (in
    the given order) that serves the customer's language; if none does, the first one
    anyway: a customer is never left without a queue because of their language."""
    qualified = [t for t in teams if topic and topic in t.topics]
    if not qualified:
        qualified = [t for t in teams if not t.topics]
    for team in qualified:
        if language_matches(language, team.languages):
            return team
    return qualified[0] if qualified else None


def effective_chat_limit(own: int | None, team: int | None, default: int) -> int:
    """How many conversations an adviser may hold while taking one of a team.

    The team's limit replaces the server default (`VISAVIS_MAX_CHATS`); an adviser's
    own limit (`--max-chats`) is kept where the team sets none and caps the team's
    where both are set, so a trainee limited to 1 stays at 1 in a team that allows 5."""
    if team is None:
        return own if own is not None else default
    return min(own, team) if own is not None else team


@dataclass(frozen=True)
class ChatLimits:
    """One adviser's limit per team of the conversation they would take."""

    default: int  # conversations of no team, and teams without a limit of their own
    teams: Mapping[str, int] = field(default_factory=dict)  # teams with a limit

    def for_team(self, team_id: str | None) -> int:
        if team_id is None:
            return self.default
        return self.teams.get(team_id, self.default)

    def highest(self) -> int:
        return max([self.default, *self.teams.values()])


def check_chat_limit(active: int, limit: int, team_name: str | None = None) -> None:
    """Refuse one more conversation for an adviser who already holds `limit`."""
    if active >= limit:
        where = f" for {team_name}" if team_name else ""
        raise VisavisError(
            "limit_reached",
            f"you already serve {active} conversations; the limit{where} is {limit}",
        )


@dataclass(frozen=True)
class AdviserLoad:
    """An available adviser as seen for one waiting conversation."""

    id: str
    active: int
    limit: int  # for that conversation's team (see effective_chat_limit)
    languages: tuple[str, ...] = ()

    @property
    def free(self) -> int:
        return max(0, self.limit - self.active)


def rank_advisers(advisers: Iterable[AdviserLoad], language: str | None) -> list[AdviserLoad]:
    """The advisers who can take the conversation now, best first: those with a free
    chat slot, speaking the customer's language before those who do not, then the
    least loaded (share of their limit in use), then by id so equal advisers are
    always in the same order. Empty: nobody is free."""
    free = [a for a in advisers if a.free > 0]
    return sorted(
        free,
        key=lambda a: (not language_matches(language, a.languages), a.active / a.limit, a.id),
    )
