"""Queue visibility, offer candidates, capacity, positions and availability: rules
over presence, teams and queue entries, without sockets or a database."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visavis.errors import VisavisError
from visavis.routing import queueing
from visavis.routing.estimate import Capacity
from visavis.routing.hours import BusinessHours
from visavis.routing.presence import Presence

# Tuesday 2026-11-24, 10:00 Berlin (CET): inside office hours
TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
# Sunday 2026-11-29, 23:00 Berlin: closed
SUNDAY_NIGHT = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)
OFFICE = BusinessHours.parse(
    "Europe/Berlin", {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}, []
)


@dataclass
class Teams:
    members: dict[str, set[str]] = field(default_factory=dict)  # team -> advisers
    limits: dict[str, int] = field(default_factory=dict)
    languages: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def serves(self, adviser_id: str, team_id: str | None) -> bool:
        if team_id is None:
            return True
        return adviser_id in self.members.get(team_id, set())

    def chat_limit_of(self, team_id: str | None) -> int | None:
        return self.limits.get(team_id) if team_id else None

    def languages_of(self, adviser_id: str) -> tuple[str, ...]:
        return self.languages.get(adviser_id, ())


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    hours: BusinessHours


def entry(cid: str, team: str | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "team_id": team,
        "queued_at": kw.get("queued_at", "2026-11-24T09:00:00Z"),
        "requested_adviser_id": kw.get("asked"),
        "language": kw.get("language"),
    }


def presence(*advisers: tuple[str, str, int, int]) -> Presence:
    p = Presence()
    for aid, status, active, max_chats in advisers:
        p.connect(aid, status, active, max_chats)
    return p


TEAMS = Teams(members={"baufi": {"anna", "ben"}, "konto": {"carl"}})


def test_advisers_see_their_teams_and_portal_requests_after_the_fallback() -> None:
    cutoff = "2026-11-24T09:00:00Z"
    assert queueing.visible_to(entry("c", "baufi"), "anna", False, TEAMS, cutoff)
    assert not queueing.visible_to(entry("c", "konto"), "anna", False, TEAMS, cutoff)
    assert queueing.visible_to(entry("c", "konto"), "boss", True, TEAMS, cutoff)
    # asked for Ben in the portal: Anna sees it only once the fallback time has passed
    fresh = entry("c", "baufi", asked="ben", queued_at="2026-11-24T09:05:00Z")
    old = entry("c", "baufi", asked="ben", queued_at="2026-11-24T08:55:00Z")
    assert not queueing.visible_to(fresh, "anna", False, TEAMS, cutoff)
    assert queueing.visible_to(fresh, "ben", False, TEAMS, cutoff)
    assert queueing.visible_to(old, "anna", False, TEAMS, cutoff)


def test_capacity_counts_each_available_adviser_with_their_limit_for_the_team() -> None:
    p = presence(("anna", "available", 1, 3), ("ben", "available", 3, 3), ("carl", "away", 0, 3))
    teams = Teams(members=TEAMS.members, limits={"baufi": 2})
    # team limit 2: Anna (1 active) has 1 free, Ben (3 active) none
    assert queueing.capacity(p, teams, "baufi") == Capacity(slots=4, free=1)
    assert set(queueing.available_for(p, teams, None)) == {"anna", "ben"}
    assert queueing.available_for(p, teams, "konto") == {}


def test_offer_candidates_rank_by_language_and_load_and_respect_portal_requests() -> None:
    p = presence(("anna", "available", 2, 3), ("ben", "available", 0, 3))
    teams = Teams(members=TEAMS.members, languages={"anna": ("tr",), "ben": ("de",)})
    cutoff = "2026-11-24T09:00:00Z"
    e = entry("c", "baufi", language="tr", queued_at="2026-11-24T09:05:00Z")
    assert [a for a, _ in queueing.offer_candidates(e, p, teams, cutoff)] == ["anna", "ben"]
    e = entry("c", "baufi", language="de", queued_at="2026-11-24T09:05:00Z")
    assert queueing.offer_candidates(e, p, teams, cutoff)[0] == ("ben", 3)
    asked = entry("c", "baufi", asked="anna", queued_at="2026-11-24T09:05:00Z")
    assert [a for a, _ in queueing.offer_candidates(asked, p, teams, cutoff)] == ["anna"]


def test_positions_are_per_team_with_an_estimate() -> None:
    p = presence(("anna", "available", 0, 1))
    entries = [entry("a", "baufi"), entry("b", "konto"), entry("c", "baufi")]
    places = queueing.positions(entries, p, TEAMS, {"baufi": ([300.0], [60.0])})
    assert (places["a"].position, places["a"].waiting) == (1, 2)
    assert (places["c"].position, places["c"].waiting) == (2, 2)
    assert (places["b"].position, places["b"].advisers_available) == (1, 0)
    assert places["a"].estimate_s is not None and places["c"].estimate_s is not None
    assert places["a"].estimate_s < places["c"].estimate_s


def test_availability_of_a_team_open_and_closed() -> None:
    p = presence(("anna", "available", 0, 2))
    baufi = Team("baufi", "Baufinanzierung", OFFICE)
    entries = [entry("a", "baufi")]
    now = queueing.availability(baufi, [baufi], entries, p, TEAMS, {}, TUESDAY_10)
    assert now["available"] and now["open"] and now["waiting"] == 1
    assert now["free"]  # two slots, one customer waiting: a new one is served at once
    closed = queueing.availability(baufi, [baufi], entries, p, TEAMS, {}, SUNDAY_NIGHT)
    assert not closed["available"] and not closed["open"] and closed["estimate_s"] is None
    assert closed["next_opening"] == "2026-11-30T08:00:00+01:00"


def test_a_closed_team_refuses_a_chat_and_says_when_it_opens() -> None:
    baufi = Team("baufi", "Baufinanzierung", OFFICE)
    queueing.check_open(baufi, TUESDAY_10)
    queueing.check_open(None, SUNDAY_NIGHT)  # no team: always reachable
    with pytest.raises(VisavisError) as err:
        queueing.check_open(baufi, SUNDAY_NIGHT)
    assert err.value.code == "closed" and "2026-11-30T08:00:00+01:00" in err.value.message


# A recompute filters and ranks once per key (web/queue_push.py): advisers with the same
# view_key must see exactly the same, and entries with the same offer_key must be
# offered the same advisers. Checked on random queues, teams and portal requests.
ADVISERS = ("anna", "ben", "carl", "dora")
CUTOFF = "2026-11-24T09:00:00Z"
entries_st = st.lists(
    st.builds(
        lambda i, team, asked, late, lang: entry(
            f"c{i}",
            team,
            asked=asked,
            queued_at="2026-11-24T09:05:00Z" if late else "2026-11-24T08:55:00Z",
            language=lang,
        ),
        st.integers(0, 10**6),
        st.sampled_from([None, "baufi", "konto", "kredit"]),
        st.sampled_from([None, *ADVISERS]),
        st.booleans(),
        st.sampled_from([None, "de", "tr"]),
    ),
    max_size=12,
)
members_st = st.fixed_dictionaries(
    {t: st.sets(st.sampled_from(ADVISERS)) for t in ("baufi", "konto", "kredit")}
)


@settings(max_examples=200, deadline=None)
@given(
    entries=entries_st,
    members=members_st,
    sees_all=st.sets(st.sampled_from(ADVISERS)),
    cutoff=st.sampled_from([None, CUTOFF]),
)
def test_advisers_with_the_same_view_key_see_the_same_entries(
    entries: list[dict[str, Any]],
    members: dict[str, set[str]],
    sees_all: set[str],
    cutoff: str | None,
) -> None:
    teams = Teams(members=members)
    team_ids = {e["team_id"] for e in entries}
    asked = queueing.asked_advisers(entries, cutoff)
    seen: dict[Hashable, list[str]] = {}
    for aid in ADVISERS:
        everything = aid in sees_all
        mine = [
            e["conversation_id"]
            for e in entries
            if queueing.visible_to(e, aid, everything, teams, cutoff)
        ]
        key = queueing.view_key(aid, everything, teams, team_ids, asked)
        assert seen.setdefault(key, mine) == mine


@settings(max_examples=200, deadline=None)
@given(
    entries=entries_st,
    members=members_st,
    loads=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 3)), min_size=4, max_size=4),
    cutoff=st.sampled_from([None, CUTOFF]),
)
def test_entries_with_the_same_offer_key_get_the_same_candidates(
    entries: list[dict[str, Any]],
    members: dict[str, set[str]],
    loads: list[tuple[int, int]],
    cutoff: str | None,
) -> None:
    p = presence(*((aid, "available", a, m) for aid, (a, m) in zip(ADVISERS, loads, strict=True)))
    teams = Teams(members=members, languages={"anna": ("tr",), "ben": ("de", "tr")})
    ranked: dict[Hashable, list[tuple[str, int]]] = {}
    for e in entries:
        got = queueing.offer_candidates(e, p, teams, cutoff)
        assert ranked.setdefault(queueing.offer_key(e, cutoff), got) == got
