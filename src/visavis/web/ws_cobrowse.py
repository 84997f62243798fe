"""The gateway's co-browsing commands: the steps (each one write of `CobrowseService`,
answered with `ack`) and the relays — the customer's mirror batches to the
conversation's advisers, the adviser's pointer, control inputs and snapshot requests to
the customer. Relays are never stored and never logged, refused ones neither: they
show what is on the customer's screen.

Who: advisers (the conversation's adviser or consultant) ask, point, act and ask for
a snapshot; the customer answers, grants, revokes and sends the mirror; either ends.
What: the state in memory (`CobrowseService.state`) — batches, pointers and snapshot
requests only while co-browsing runs, inputs only while control is granted
(`cobrowse_no_control` otherwise).
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from visavis.collab.cobrowse import CobrowseService, MirrorStream
from visavis.conversations.announcer import Announcer
from visavis.conversations.cobrowsing import CobrowseState, Command
from visavis.conversations.reads import ConversationReads
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol import messages as m
from visavis.protocol.replies import ack
from visavis.web.connection import Connection
from visavis.web.ephemeral import RelayState
from visavis.web.permissions import (
    advisers_of,
    author_of,
    check_adviser,
    check_customer,
    check_customer_owns,
    check_participant,
)

StepMessage = (
    m.CobrowseRequest
    | m.CobrowseAnswer
    | m.CobrowseControlRequest
    | m.CobrowseControlAnswer
    | m.CobrowseControlRevoke
    | m.CobrowseEnd
)
RelayMessage = m.CobrowseBatch | m.CobrowsePointer | m.CobrowseInput | m.CobrowseResync


def _command(msg: StepMessage) -> Command:
    if isinstance(msg, m.CobrowseRequest):
        return "request"
    if isinstance(msg, m.CobrowseAnswer):
        return "accept" if msg.accept else "decline"
    if isinstance(msg, m.CobrowseControlRequest):
        return "control_request"
    if isinstance(msg, m.CobrowseControlAnswer):
        return "control_grant" if msg.accept else "control_decline"
    if isinstance(msg, m.CobrowseControlRevoke):
        return "control_revoke"
    return "end"


class CobrowseCommands:
    def __init__(
        self,
        cobrowse: CobrowseService,
        conversations: ConversationReads,
        announcer: Announcer,
        followed: Callable[[str], bool],
    ) -> None:
        self.cobrowse = cobrowse
        self.conversations = conversations
        self.announcer = announcer
        self.followed = followed  # does this node follow the conversation (Hub)?

    # ------------------------------------------------------------ logged steps
    async def do_step(self, conn: Connection, msg: StepMessage) -> None:
        cid = msg.conversation_id
        if isinstance(msg, m.CobrowseRequest | m.CobrowseControlRequest):
            check_adviser(conn)
        elif not isinstance(msg, m.CobrowseEnd):
            check_customer(conn)
        await check_participant(conn, self.conversations, cid)
        event = await self.cobrowse.do_step(cid, author_of(conn), _command(msg))
        conn.push_frame(ack(msg.id, cid, event["seq"]))

    # ------------------------------------------------------------ ephemeral relays
    async def do_relay(self, conn: Connection, msg: RelayMessage) -> None:
        relay = conn.relay
        if relay is None:
            relay = conn.relay = RelayState()
        cid = msg.conversation_id
        if isinstance(msg, m.CobrowseBatch):
            check_customer(conn)
            check_customer_owns(conn, cid)
        else:
            check_adviser(conn)
        advisers = await self._advisers(conn, relay, cid)
        state = await self.cobrowse.state(cid, self.followed)
        if isinstance(msg, m.CobrowseInput):
            _check_control(state)
        elif state.phase != "started":
            raise VisavisError("invalid_state", f"co-browsing is {state.phase}, expected started")
        if isinstance(msg, m.CobrowseBatch):
            relay.mirrors.setdefault(cid, MirrorStream()).check_chunk(msg.stream, msg.n, msg.data)
            batch: f.CobrowseBatchOutFrame = {
                "v": 1,
                "type": "cobrowse.batch",
                "conversation_id": cid,
                "sent_at": msg.sent_at,
                "stream": msg.stream,
                "n": msg.n,
                "data": base64.b64encode(msg.data).decode("ascii"),
            }
            # in order and every one (a lost mutation breaks the mirror): not coalesced
            await self.announcer.send_ephemeral(cid, batch, {"to_advisers": sorted(advisers)})
            return
        a = author_of(conn)
        sender: f.FromAuthor = {"role": "adviser", "id": a.id, "name": a.name}
        if isinstance(msg, m.CobrowseInput):
            act: f.CobrowseInputOutFrame = {
                "v": 1, "type": "cobrowse.input", "conversation_id": cid, "from": sender,
                "action": msg.action, "target": msg.target, "x": msg.x, "y": msg.y,
                "dx": msg.dx, "dy": msg.dy, "text": msg.text, "key": msg.key,
            }  # fmt: skip
            await self.announcer.send_ephemeral(cid, act)
            return
        frame: f.CobrowsePointerOutFrame | f.CobrowseResyncOutFrame
        if isinstance(msg, m.CobrowsePointer):
            frame = {"v": 1, "type": "cobrowse.pointer", "conversation_id": cid,
                     "from": sender, "x": msg.x, "y": msg.y, "visible": msg.visible}  # fmt: skip
        else:
            frame = {"v": 1, "type": "cobrowse.resync", "conversation_id": cid}

        async def send() -> None:
            await self.announcer.send_ephemeral(cid, frame)

        relay.offer((msg.type, cid), send)  # latest wins

    async def _advisers(self, conn: Connection, relay: RelayState, cid: str) -> frozenset[str]:
        """The conversation's advisers, with the sender checked as its participant;
        remembered for a few seconds (web/ephemeral.py)."""
        advisers = relay.advisers_for(cid)
        if advisers is None:
            conv = await check_participant(conn, self.conversations, cid)
            advisers = frozenset(advisers_of(conv))
            relay.remember_advisers(cid, advisers)
        elif conn.adviser is not None and conn.adviser.id not in advisers:
            raise VisavisError("forbidden", "this conversation is not assigned to you")
        return advisers


def _check_control(state: CobrowseState) -> None:
    if state.phase != "started" or state.control != "granted":
        now = state.phase if state.phase != "started" else f"started, control {state.control}"
        raise VisavisError(
            "cobrowse_no_control", f"co-browsing is {now}; input needs control granted"
        )
