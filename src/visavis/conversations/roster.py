"""Every adviser with live status and load, and the conversations running now.

One place computes what `GET /api/v1/advisers` answers (whom to hand a customer to,
R4.3) and what supervisors are pushed in `overview.snapshot` (R12.1), so the two can
never disagree about an adviser.
"""

from __future__ import annotations

from typing import cast

from visavis.auth.service import AuthService
from visavis.conversations.service import ConversationService
from visavis.protocol import frames as f
from visavis.routing.presence import Presence
from visavis.routing.teams import TeamService

# The overview lists this many running conversations (newest first), as its HTTP
# fetch did before they were pushed.
LIVE_LIMIT = 100


class Roster:
    def __init__(
        self,
        auth: AuthService,
        conversations: ConversationService,
        presence: Presence,
        teams: TeamService,
    ) -> None:
        self.auth = auth
        self.conversations = conversations
        self.presence = presence
        self.teams = teams

    async def advisers(self) -> list[f.AdviserState]:
        """`{id, name, role, status, active, max_chats, teams}` of every adviser."""
        load = await self.conversations.active_counts()
        return [
            {
                "id": a.id,
                "name": a.name,
                "role": cast(f.AdviserRole, a.role),
                "status": cast(f.PresenceStatus, self.presence.status(a.id)),
                "active": load.get(a.id, 0),
                "max_chats": a.max_chats,
                "teams": sorted(self.teams.teams_of(a.id)),
            }
            for a in await self.auth.list_advisers()
        ]

    async def live(self) -> list[f.ConversationSummary]:
        """Active conversations of all advisers, newest first."""
        return await self.conversations.search(None, "active", None, LIVE_LIMIT, None)
