"""The gateway's conversation commands of the adviser's console: taking a
conversation from the queue, transferring it, internal notes, declining an offer,
available/away, and ending a conversation (which a customer may do too); and
`adviser_info`, who an adviser is, for `welcome` and the session API."""

from __future__ import annotations

from typing import cast

from visavis.auth.service import AdviserView, AuthService
from visavis.conversations.service import ConversationService
from visavis.conversations.transfers import TransferService
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol import messages as m
from visavis.protocol.replies import ack
from visavis.routing.teams import TeamService
from visavis.web.connection import Connection
from visavis.web.hub import Hub
from visavis.web.permissions import (
    author_of,
    check_adviser,
    check_customer_owns,
    check_participant,
)


class AdviserCommands:
    def __init__(
        self,
        hub: Hub,
        auth: AuthService,
        conversations: ConversationService,
        transfers: TransferService,
        teams: TeamService,
    ) -> None:
        self.hub = hub
        self.auth = auth
        self.conversations = conversations
        self.transfers = transfers
        self.teams = teams

    async def do_end(self, conn: Connection, msg: m.ConversationEnd) -> None:
        cid = msg.conversation_id
        if conn.role == "customer":
            check_customer_owns(conn, cid)
        elif not check_adviser(conn).sees_all:
            await check_participant(conn, self.conversations, cid)
        await self.conversations.do_end(cid, author_of(conn))
        conn.push_frame(ack(msg.id, cid))

    async def do_accept(self, conn: Connection, msg: m.ConversationAccept | m.QueueNext) -> None:
        me = check_adviser(conn)
        cid = msg.conversation_id if isinstance(msg, m.ConversationAccept) else None
        team_ids = None if me.sees_all else self.teams.teams_of(me.id)
        cutoff = None if me.sees_all else self.hub.requested_cutoff()
        conv, _events = await self.conversations.do_accept(
            cid, me.id, me.name, self.teams.limits_for(me), team_ids or None, cutoff
        )
        conn.push_frame(ack(msg.id, conv["id"]))

    async def do_transfer(self, conn: Connection, msg: m.TransferStart | m.TransferFinish) -> None:
        check_adviser(conn)
        cid = msg.conversation_id
        author = author_of(conn)
        if isinstance(msg, m.TransferFinish):
            _conv, events = await self.transfers.do_consult_finish(cid, author, msg.complete)
        elif (msg.to_adviser_id is None) == (msg.to_team_id is None):
            raise VisavisError("bad_request", "transfer.start: give to_adviser_id or to_team_id")
        elif msg.to_team_id is not None:
            if msg.mode != "blind":
                raise VisavisError("bad_request", "transfer.start: a team is reached blind")
            self.teams.get(msg.to_team_id)  # not_found for an unknown team
            _conv, events = await self.transfers.do_blind_to_team(cid, author, msg.to_team_id)
        else:
            assert msg.to_adviser_id is not None
            target = await self.auth.get_adviser(msg.to_adviser_id)
            _conv, events = await self.transfers.do_to_adviser(
                cid, author, target.id, self.teams.limits_for(target), msg.mode == "consultative"
            )
        conn.push_frame(ack(msg.id, cid, events[-1]["seq"]))

    async def do_note(self, conn: Connection, msg: m.NoteSend) -> None:
        check_adviser(conn)
        text = msg.text.strip()
        if not text:
            raise VisavisError("bad_request", "note.send: text is blank")
        cid = msg.conversation_id
        frame = await self.transfers.do_note(cid, author_of(conn), msg.client_id, text)
        conn.push_frame(ack(msg.id, cid, frame["seq"]))

    async def do_offer_decline(self, conn: Connection, msg: m.OfferDecline) -> None:
        me = check_adviser(conn)
        if self.hub.offers is None or not self.hub.offers.decline(msg.conversation_id, me.id):
            raise VisavisError("invalid_state", "no such offer to you (taken or expired?)")
        await self.hub.claims.release(msg.conversation_id, me.id)
        conn.push_frame(ack(msg.id, msg.conversation_id))
        conn.push_frame({"v": 1, "type": "offer.withdrawn", "conversation_id": msg.conversation_id})
        await self.hub.queue_changed()

    async def do_status(self, conn: Connection, msg: m.StatusSet) -> None:
        """Available/away is not a conversation write: stored with the adviser, and
        announced like a load change."""
        me = check_adviser(conn)
        await self.auth.do_set_status(me.id, msg.status)
        self.hub.presence.set_status(me.id, msg.status)
        active = await self.conversations.active_count(me.id)
        await self.hub.announcer.announce_status(me.id, active, msg.status)
        await self.hub.queue_changed()
        conn.push_frame(ack(msg.id))


def adviser_info(a: AdviserView, status: str) -> f.AdviserInfo:
    """Who an adviser is, for `welcome` and the session API (`status`: stored or live)."""
    return {
        "id": a.id,
        "name": a.name,
        "email": a.email,
        "role": cast(f.AdviserRole, a.role),
        "status": cast(f.PresenceStatus, status),
        "max_chats": a.max_chats,
    }
