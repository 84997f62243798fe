"""The gateway's call commands: asking, answering, hanging up, media flags, WebRTC
signalling between the two sides, moving a call to another tab, ICE servers.

A call is negotiated browser to browser; the server relays `rtc.signal` between the
customer and the conversation's adviser. Each side of a call is *held* by one socket
(`web/callpeers.py`); signals go to the holder of the other side only.
"""

from __future__ import annotations

from typing import cast

from visavis.conversations.announcer import Announcer, CallRoute
from visavis.conversations.calls import CallService
from visavis.conversations.reads import ConversationReads
from visavis.errors import VisavisError
from visavis.media.ice import IceConfig, ice_servers
from visavis.protocol import frames as f
from visavis.protocol import messages as m
from visavis.protocol.replies import ack
from visavis.web.callpeers import CallPeers, CallRegistry
from visavis.web.connection import Connection
from visavis.web.permissions import (
    author_of,
    check_call_adviser,
    check_customer_owns,
    check_participant,
)

CallCommand = m.CallRequest | m.CallAnswer | m.CallHangup | m.CallMedia


class CallCommands:
    def __init__(
        self,
        calls: CallService,
        conversations: ConversationReads,
        registry: CallRegistry,
        announcer: Announcer,
        ice: IceConfig,
    ) -> None:
        self.calls = calls
        self.conversations = conversations
        self.registry = registry
        self.announcer = announcer
        self.ice = ice

    async def do_call(self, conn: Connection, msg: CallCommand) -> None:
        cid = msg.conversation_id
        before = await check_participant(conn, self.conversations, cid)
        adviser = before["adviser"]
        check_call_adviser(conn, adviser.get("id") if adviser is not None else None)
        author = author_of(conn)
        if isinstance(msg, m.CallRequest):
            conv, events = await self.calls.do_request(cid, author, msg.media)
        elif isinstance(msg, m.CallAnswer):
            conv, events = await self.calls.do_answer(cid, author, msg.call_id, msg.accept)
        elif isinstance(msg, m.CallHangup):
            conv, events = await self.calls.do_hangup(cid, author, msg.call_id)
        else:
            conv, events = await self.calls.do_media(
                cid, author, msg.call_id, msg.audio, msg.video, msg.screen
            )
        conn.push_frame(ack(msg.id, cid, events[-1]["seq"]))
        if isinstance(msg, m.CallRequest | m.CallAnswer):
            # The socket that asks or accepts holds its side of the call.
            entry = self.registry.remember(cid, conv)
            if entry is not None:
                await self.registry.hold(entry, author.role, conn.peer_id)

    async def _call_peers(self, conn: Connection, cid: str, call_id: str) -> CallPeers:
        """The call's participants, checked against the socket, from memory when it is
        known (rtc.signal is frequent and on the critical path of a call set-up)."""
        entry = self.registry.get(cid, call_id)
        if entry is None:
            conv = await check_participant(conn, self.conversations, cid)
            if conv["call"] is None or conv["call"]["id"] != call_id:
                raise VisavisError("invalid_state", f"call {call_id!r} is not the current call")
            entry = self.registry.remember(cid, conv)
            assert entry is not None
        elif conn.role == "customer":
            check_customer_owns(conn, cid)
        check_call_adviser(conn, entry.adviser_id)
        return entry

    async def _send_call_frame(
        self,
        cid: str,
        entry: CallPeers,
        to_role: str,
        to_peer: str | None,
        frame: f.RtcSignalOutFrame | f.CallMovedFrame,
    ) -> None:
        """To one side of the call: its socket `to_peer`, or while none holds it, all of
        that side's sockets (Hub._to_call_peer)."""
        route: CallRoute = {"to_peer": to_peer, "to_role": to_role, "to_adviser": entry.adviser_id}
        await self.announcer.send_ephemeral(cid, frame, route)

    async def do_signal(self, conn: Connection, msg: m.RtcSignal) -> None:
        if (msg.description is None) == (msg.candidate is None):
            raise VisavisError(
                "bad_request", "rtc.signal: give exactly one of description, candidate"
            )
        cid = msg.conversation_id
        entry = await self._call_peers(conn, cid, msg.call_id)
        role = conn.role or "customer"
        holder = await self.registry.hold_if_free(entry, role, conn.peer_id)
        if holder != conn.peer_id:
            conn.push_frame(_moved(cid, msg.call_id))
            raise VisavisError(
                "call_elsewhere",
                "rtc.signal: another tab or device of yours holds this call; send call.take "
                "to move it here",
            )
        frame: f.RtcSignalOutFrame = {
            "v": 1,
            "type": "rtc.signal",
            "conversation_id": cid,
            "call_id": msg.call_id,
            "from_role": role,
        }
        # The client's own parts, passed on: the TypedDicts are generated from these
        # very models, so the dumps have their shape.
        if msg.description is not None:
            frame["description"] = cast(f.SessionDescription, msg.description.model_dump())
        else:
            assert msg.candidate is not None
            candidate = msg.candidate.model_dump(exclude_none=True)
            frame["candidate"] = cast(f.IceCandidate, candidate)
        other = "customer" if role == "adviser" else "adviser"
        to_peer = await self.registry.holder(entry, other)
        await self._send_call_frame(cid, entry, other, to_peer, frame)

    async def do_take(self, conn: Connection, msg: m.CallTake) -> None:
        cid = msg.conversation_id
        entry = await self._call_peers(conn, cid, msg.call_id)
        role = conn.role or "customer"
        before = await self.registry.hold(entry, role, conn.peer_id)
        conn.push_frame(ack(msg.id, cid))
        if before is not None and before != conn.peer_id:
            await self._send_call_frame(cid, entry, role, before, _moved(cid, msg.call_id))

    async def do_ice(self, conn: Connection, msg: m.IceRequest) -> None:
        conv = await check_participant(conn, self.conversations, msg.conversation_id)
        # TURN credentials only for who takes part in a call: not a consulting
        # colleague, who would relay under the conversation's adviser label.
        adviser = conv["adviser"]
        check_call_adviser(conn, adviser.get("id") if adviser is not None else None)
        label = f"{msg.conversation_id}-{conn.role}"
        ice = ice_servers(self.ice, label)  # free-form RTCIceServer dicts
        conn.push_frame(
            {
                "v": 1,
                "type": "ice.servers",
                "id": msg.id,
                "conversation_id": msg.conversation_id,
                "ice_servers": ice["ice_servers"],
                "ice_transport_policy": ice["ice_transport_policy"],
                "ttl_s": ice["ttl_s"],
            }
        )


def _moved(cid: str, call_id: str) -> f.CallMovedFrame:
    return {"v": 1, "type": "call.moved", "conversation_id": cid, "call_id": call_id}
