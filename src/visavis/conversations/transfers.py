"""Handing a conversation on (R4.3) without the customer noticing a break.

- blind to an adviser: the colleague becomes the conversation's adviser at once;
- blind to a team: the conversation goes back to that team's queue, at the front
  (it keeps its original waiting time);
- consultative: the colleague joins as consultant; the two advisers can exchange
  internal notes (`note.internal`, never shown to the customer); then the first
  adviser completes the hand-over (the consultant becomes the adviser) or cancels it.
The history stays one log, so whoever takes over sees all of it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.conversations.cobrowsing import end_running
from visavis.conversations.recordingstate import stop_running
from visavis.conversations.service import ConversationService
from visavis.conversations.state import Status, check_transition
from visavis.conversations.writes import Author, Result, count_active
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.routing.decide import ChatLimits
from visavis.storage.models import Adviser, Conversation

INTERNAL_KINDS = frozenset({"note.internal"})


class TransferService:
    def __init__(self, conversations: ConversationService) -> None:
        self.c = conversations

    async def _target(
        self, db: AsyncSession, adviser_id: str, limits: ChatLimits, team_id: str | None
    ) -> Adviser:
        target = await db.scalar(select(Adviser).where(Adviser.id == adviser_id).with_for_update())
        if target is None:
            raise VisavisError("not_found", f"no adviser {adviser_id}")
        active = await count_active(db, adviser_id)
        limit = limits.for_team(team_id)
        if active >= limit:
            raise VisavisError(
                "limit_reached",
                f"{target.name} already serves {active} conversations; their limit"
                + (f" for {team_id}" if team_id else "")
                + f" is {limit}",
            )
        return target

    @staticmethod
    def _check_owner(conv: Conversation, me: Author) -> None:
        if conv.status != Status.ACTIVE:
            raise VisavisError(
                "invalid_state", f"conversation is {conv.status!r}, expected 'active'"
            )
        if conv.adviser_id != me.id:
            raise VisavisError("forbidden", "only the conversation's adviser can hand it on")
        if conv.consultant_id is not None:
            raise VisavisError("invalid_state", "a consultative transfer is under way")

    async def do_to_adviser(
        self, cid: str, me: Author, to_adviser_id: str, limits: ChatLimits, consultative: bool
    ) -> Result:
        """Blind: the colleague becomes the adviser now. Consultative: they join first.
        `limits`: the colleague's chat limits (the conversation's team decides which)."""
        if to_adviser_id == me.id:
            raise VisavisError("bad_request", "to_adviser_id: that is you")
        async with self.c.write() as w:
            conv = await w.lock(cid)
            self._check_owner(conv, me)
            target = await self._target(w.db, to_adviser_id, limits, conv.team_id)
            if consultative:
                conv.consultant_id = target.id
                kind = "consultant.joined"
                body: dict[str, Any] = {"adviser_id": target.id, "adviser_name": target.name}
            else:
                # the customer consented to co-browse with this adviser, not the next one
                await end_running(w, cid, me, "transferred")
                await stop_running(w, cid, me, "transferred")  # the new adviser never consented
                conv.adviser_id = target.id
                kind = "conversation.transferred"
                body = {"mode": "blind", "from_adviser_id": me.id, "to_adviser_id": target.id,
                        "to_adviser_name": target.name, "to_team_id": None}  # fmt: skip
            await w.append(cid, kind, me, body)
        return w.summary(cid), w.events(cid)

    async def do_blind_to_team(self, cid: str, me: Author, team_id: str) -> Result:
        async with self.c.write() as w:
            conv = await w.lock(cid)
            self._check_owner(conv, me)
            conv.status = check_transition(conv.status, "requeue")
            await end_running(w, cid, me, "transferred")
            await stop_running(w, cid, me, "transferred")
            conv.adviser_id = None
            conv.team_id = team_id
            conv.accepted_at = None
            # queued_at stays: the customer keeps the place their waiting time earned
            await w.append(
                cid,
                "conversation.transferred",
                me,
                {"mode": "blind", "from_adviser_id": me.id, "to_adviser_id": None,
                 "to_adviser_name": None, "to_team_id": team_id},
            )  # fmt: skip
        return w.summary(cid), w.events(cid)

    async def do_consult_finish(self, cid: str, me: Author, complete: bool) -> Result:
        """complete: the consultant takes over; else the consultant leaves."""
        async with self.c.write() as w:
            conv = await w.lock(cid)
            if conv.consultant_id is None:
                raise VisavisError("invalid_state", "no consultative transfer is under way")
            if me.id not in (conv.adviser_id, conv.consultant_id):
                raise VisavisError("forbidden", "not your conversation")
            if complete and me.id != conv.adviser_id:
                raise VisavisError("forbidden", "the handing-over adviser completes the transfer")
            consultant = await w.db.get(Adviser, conv.consultant_id)
            name = consultant.name if consultant else None
            if complete:
                body = {"mode": "consultative", "from_adviser_id": conv.adviser_id,
                        "to_adviser_id": conv.consultant_id, "to_adviser_name": name,
                        "to_team_id": None}  # fmt: skip
                await stop_running(w, cid, me, "transferred")
                conv.adviser_id, conv.consultant_id = conv.consultant_id, None
                await w.append(cid, "conversation.transferred", me, body)
            else:
                body = {"adviser_id": conv.consultant_id, "adviser_name": name}
                conv.consultant_id = None
                await w.append(cid, "consultant.left", me, body)
        return w.summary(cid), w.events(cid)

    async def do_note(self, cid: str, me: Author, client_id: str, text: str) -> f.EventFrame:
        """An internal note between the advisers of a conversation."""
        async with self.c.write(summaries=False) as w:
            existing = await w.by_client_id(cid, client_id)
            if existing is not None:
                return existing
            conv = await w.lock(cid)
            if me.id not in (conv.adviser_id, conv.consultant_id):
                raise VisavisError("forbidden", "not your conversation")
            frame = await w.append(cid, "note.internal", me, {"text": text}, client_id)
        return frame
