"""Who sees whom waiting, who is offered whom, and what a customer is told.

Pure functions over the live state — presence (who is online, available, with what
load), teams (who serves which team, limits, hours) and the queue entries — so they
are tested without sockets or a database. The Hub only pushes what these compute.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from visavis.errors import VisavisError
from visavis.routing.decide import AdviserLoad, rank_advisers
from visavis.routing.estimate import Capacity, Medians, estimate_wait_s
from visavis.routing.hours import BusinessHours
from visavis.routing.presence import Presence

QueueEntry = Mapping[str, Any]  # one waiting conversation, as ConversationReads.queue gives
History = Mapping[str | None, tuple[list[float], list[float]]]  # per team: handle, pick-up


class TeamRules(Protocol):
    """What the rules need to know of teams (TeamService has it)."""

    def serves(self, adviser_id: str, team_id: str | None) -> bool: ...
    def chat_limit_of(self, team_id: str | None) -> int | None: ...
    def languages_of(self, adviser_id: str) -> tuple[str, ...]: ...


class Team(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def hours(self) -> BusinessHours: ...


def requested_cutoff(now: datetime, fallback_s: int) -> datetime:
    """Customers who asked for one adviser in the portal and were queued before this
    may be taken by anyone of their team."""
    return now - timedelta(seconds=fallback_s)


def visible_to(
    entry: QueueEntry, adviser_id: str, sees_all: bool, teams: TeamRules, cutoff: str | None
) -> bool:
    """Advisers see the queues of their teams (supervisors and advisers in no team:
    all), and customers who picked a colleague in the portal only after the fallback
    time (`cutoff`, ISO)."""
    if sees_all:
        return True
    if not teams.serves(adviser_id, entry["team_id"]):
        return False
    return still_asked(entry, cutoff) in (None, adviser_id)


def still_asked(entry: QueueEntry, cutoff: str | None) -> str | None:
    """The adviser the customer asked for in the portal, while only they may take it
    (queued at or after the fallback `cutoff`); None: anyone of the team."""
    asked: str | None = entry.get("requested_adviser_id")
    if asked is not None and cutoff is not None and entry["queued_at"] < cutoff:
        return None
    return asked


def asked_advisers(entries: Iterable[QueueEntry], cutoff: str | None) -> set[str]:
    """The advisers customers asked for in the portal and only they see yet."""
    return {asked for e in entries if (asked := still_asked(e, cutoff)) is not None}


def view_key(
    adviser_id: str,
    sees_all: bool,
    teams: TeamRules,
    team_ids: Iterable[str | None],
    asked: AbstractSet[str],
) -> Hashable:
    """Advisers with the same key see the same entries (`visible_to`), so a recompute
    filters and encodes the queue once per key, not once per console. `team_ids`: the
    teams of the entries; `asked`: `asked_advisers` of the entries. Everything
    `visible_to` reads of the adviser is in the key: whether they see all, which of
    those teams they serve, and their id only if someone asked for them."""
    if sees_all:
        return (True,)
    served = frozenset(t for t in team_ids if teams.serves(adviser_id, t))
    return (False, served, adviser_id if adviser_id in asked else None)


def offer_key(entry: QueueEntry, cutoff: str | None) -> Hashable:
    """Entries with the same key have the same `offer_candidates` (a recompute ranks
    the advisers once per key, not once per waiting customer): everything it reads
    of the entry."""
    return (entry["team_id"], entry["language"], still_asked(entry, cutoff))


def available_for(
    presence: Presence, teams: TeamRules, team_id: str | None
) -> dict[str, tuple[int, int]]:
    """Available advisers (id → active, limit) who serve the team; None: everyone."""
    return {
        aid: load
        for aid, load in presence.available().items()
        if team_id is None or teams.serves(aid, team_id)
    }


def capacity(presence: Presence, teams: TeamRules, team_id: str | None) -> Capacity:
    """Chat slots of the team's available advisers, each counted with their limit for
    that team."""
    team_limit = teams.chat_limit_of(team_id)
    loads = [
        (active, presence.limit_for(aid, team_limit))
        for aid, (active, _max) in available_for(presence, teams, team_id).items()
    ]
    return Capacity(slots=sum(m for _, m in loads), free=sum(max(0, m - a) for a, m in loads))


def offer_candidates(
    entry: QueueEntry, presence: Presence, teams: TeamRules, cutoff: str | None
) -> list[tuple[str, int]]:
    """Whom to offer a waiting customer, best first, with their free slots: available
    advisers of the team (the one asked for in the portal until the fallback time),
    ranked by language and load."""
    asked = still_asked(entry, cutoff)
    team_limit = teams.chat_limit_of(entry["team_id"])
    loads = [
        AdviserLoad(aid, active, presence.limit_for(aid, team_limit), teams.languages_of(aid))
        for aid, (active, _max) in presence.available().items()
        if teams.serves(aid, entry["team_id"]) and asked in (None, aid)
    ]
    return [(a.id, a.free) for a in rank_advisers(loads, entry["language"])]


@dataclass(frozen=True)
class Position:
    position: int
    waiting: int
    advisers_available: int
    estimate_s: float | None


def positions(
    entries: Sequence[QueueEntry], presence: Presence, teams: TeamRules, history: History
) -> dict[str, Position]:
    """Each waiting customer's place in their team's queue, and an estimate."""
    by_team: dict[str | None, list[QueueEntry]] = {}
    for entry in entries:
        by_team.setdefault(entry["team_id"], []).append(entry)
    out = {}
    for team_id, team_entries in by_team.items():
        cap = capacity(presence, teams, team_id)
        available = len(available_for(presence, teams, team_id))
        typical = Medians.of(*history.get(team_id, ([], [])))
        for pos, entry in enumerate(team_entries, start=1):
            estimate = _round(typical.wait_s(pos, cap))
            out[entry["conversation_id"]] = Position(pos, len(team_entries), available, estimate)
    return out


def availability(
    team: Team | None,
    all_teams: Sequence[Team],
    entries: Sequence[QueueEntry],
    presence: Presence,
    teams: TeamRules,
    history: History,
    now: datetime,
) -> dict[str, Any]:
    """What the widget shows for `team` (None: across all teams): can I get an adviser
    now, how many wait, how long, and when it opens if closed."""
    team_id = team.id if team else None
    if team is not None:
        waiting = sum(1 for e in entries if e["team_id"] == team_id)
        is_open = team.hours.is_open(now)
        nxt = team.hours.next_opening(now)
    else:
        waiting = len(entries)
        is_open = not all_teams or any(t.hours.is_open(now) for t in all_teams)
        openings = [o for t in all_teams if (o := t.hours.next_opening(now)) is not None]
        nxt = min(openings) if openings else None
    available = len(available_for(presence, teams, team_id))
    cap = capacity(presence, teams, team_id)
    handle, pickup = history.get(team_id, ([], []))
    estimate = estimate_wait_s(waiting + 1, cap, handle, pickup)
    return {
        "available": available > 0 and is_open,
        # a chat slot nobody waiting will take: a new customer is served at once
        # (proactive invitations wait for this, not just for someone online)
        "free": is_open and cap.free > waiting,
        "advisers_available": available,
        "waiting": waiting,
        "open": is_open,
        "estimate_s": _round(estimate) if is_open else None,
        "next_opening": nxt.isoformat() if nxt and not is_open else None,
    }


def check_open(team: Team | None, now: datetime) -> None:
    """A chat needs its team open; outside the hours the customer can leave a message
    or ask for a call-back instead."""
    if team is None or team.hours.is_open(now):
        return
    nxt = team.hours.next_opening(now)
    raise VisavisError(
        "closed",
        f"{team.name} is closed"
        + (f"; opens {nxt.isoformat()}" if nxt else "")
        + ". Leave a message or ask for a call-back.",
    )


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)
