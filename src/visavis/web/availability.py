"""The widget's availability: what it shows (can I get an adviser now, how many
wait, how long) and the server-sent streams that push it when it changes.

Each stream asks about one scope — a team, or the team of a topic and language, or
all teams — and is sent its state only when that differs from the last one it got:
a stream of team A must not follow team B's advisers (the widget's proactive
invitations). The rules are `routing.queueing.availability`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from visavis.conversations.reads import ConversationReads
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol.wire import dumps
from visavis.routing import queueing
from visavis.routing.presence import Presence
from visavis.routing.queueing import History
from visavis.routing.teams import TeamService

HISTORY_TTL_S = 60.0
# what an availability stream asks about: (topic, team id, customer's language);
# no topic and no team = all teams
Scope = tuple[str | None, str | None, str | None]
# put into a stream's queue when the node drains: the stream ends (the browser's
# EventSource reconnects by itself, through the proxy to another node)
_END = "\x00end"


class AvailabilityStreams:
    def __init__(
        self,
        conversations: ConversationReads,
        presence: Presence,
        teams: TeamService,
        heartbeat_s: int,
    ) -> None:
        self.conversations = conversations
        self.presence = presence
        self.teams = teams
        self.heartbeat_s = heartbeat_s
        # each stream: the scope it asked for and the last state it was sent
        self._listeners: dict[asyncio.Queue[str], tuple[Scope, str]] = {}
        self._history: History = {}
        self._history_at = 0.0

    async def team_history(self) -> History:
        """Recent handle and pick-up times per team, for the estimates; read at most
        once a minute (they change slowly, and every queue change asks)."""
        if time.monotonic() - self._history_at > HISTORY_TTL_S:
            self._history = await self.conversations.team_history()
            self._history_at = time.monotonic()
        return self._history

    async def current(
        self,
        topic: str | None = None,
        entries: list[f.QueueEntry] | None = None,
        team_id: str | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:  # an HTTP/SSE body, shaped by queueing.availability
        """What the widget shows (`queueing.availability`) for `team_id`, else the team
        a customer of `topic` and `language` would wait for, else across all teams."""
        if entries is None:
            entries = await self.conversations.queue()
        team = (
            self.teams.get(team_id)
            if team_id
            else self.teams.for_topic(topic, language)
            if topic
            else None
        )
        return queueing.availability(
            team,
            self.teams.all(),
            entries,
            self.presence,
            self.teams,
            await self.team_history(),
            datetime.now(UTC),
        )

    async def notify(self, entries: list[f.QueueEntry]) -> None:
        """Push each stream the state of its own scope when that changed: a stream of
        team A must not follow team B's advisers (the widget's proactive invitations)."""
        states: dict[Scope, str | None] = {}
        for q, (scope, last) in tuple(self._listeners.items()):
            if scope not in states:
                try:
                    states[scope] = dumps(
                        await self.current(scope[0], entries, team_id=scope[1], language=scope[2])
                    )
                except VisavisError:
                    states[scope] = None  # the team was removed since the stream opened
            text = states[scope]
            # A stream that stopped reading (10 states behind) is not sent more, and
            # keeps its last state: the next notify tries again.
            if text is None or text == last or q not in self._listeners or q.qsize() >= 10:
                continue
            self._listeners[q] = (scope, text)
            q.put_nowait(text)

    async def stream(
        self, topic: str | None = None, team_id: str | None = None, language: str | None = None
    ) -> AsyncIterator[str]:
        """The availability of one team (by id, or by topic and language; neither: all
        teams) as it changes. The caller checks the team exists; the first item is the
        state now."""
        q: asyncio.Queue[str] = asyncio.Queue()
        scope: Scope = (topic, team_id, language)
        # registered before the first read, so a change during it is not lost
        self._listeners[q] = (scope, "")
        try:
            first = dumps(await self.current(topic, team_id=team_id, language=language))
            if self._listeners[q][1] == "":
                self._listeners[q] = (scope, first)
            yield first
            while True:
                try:
                    item = await asyncio.wait_for(q.get(), timeout=self.heartbeat_s)
                except TimeoutError:
                    yield ""  # keep-alive comment through proxies
                    continue
                if item == _END:
                    return
                yield item
        finally:
            self._listeners.pop(q, None)

    def end_all(self) -> int:
        """End every stream (the node drains); returns how many there were."""
        for q in self._listeners:
            q.put_nowait(_END)
        return len(self._listeners)
