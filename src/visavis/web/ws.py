"""The WebSocket gateway: authenticate, validate every frame, check who may do
what, act, answer. Protocol: docs/protocol.md."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from visavis.auth.service import AdviserView, AuthService
from visavis.auth.tokens import CustomerTokens
from visavis.conversations.calls import CallService
from visavis.conversations.service import Author, ConversationService
from visavis.conversations.transfers import TransferService
from visavis.errors import VisavisError
from visavis.media.ice import IceConfig, ice_servers
from visavis.protocol import MAX_FRAME_BYTES, parse_client_frame
from visavis.protocol import messages as m
from visavis.protocol.messages import frame_id_of
from visavis.routing.teams import TeamService
from visavis.web.callpeers import CallPeers
from visavis.web.connection import Connection, dumps
from visavis.web.hub import Hub

log = logging.getLogger(__name__)

SESSION_COOKIE = "visavis_session"
HELLO_TIMEOUT_S = 10
MAX_REFUSALS = 50


class Gateway:
    def __init__(
        self,
        hub: Hub,
        auth: AuthService,
        tokens: CustomerTokens,
        conversations: ConversationService,
        origin: str,
        frames_per_s: float,
        burst: float,
        calls: CallService,
        transfers: TransferService,
        teams: TeamService,
        ice: IceConfig,
    ) -> None:
        self.hub = hub
        self.auth = auth
        self.tokens = tokens
        self.conversations = conversations
        self.origin = origin
        self.rate = frames_per_s
        self.burst = burst
        self.calls = calls
        self.transfers = transfers
        self.teams = teams
        self.ice = ice

    async def endpoint(self, ws: WebSocket) -> None:
        origin = ws.headers.get("origin")
        if origin is not None and origin != self.origin:
            # Cross-site WebSocket hijacking: a foreign page must not ride an
            # adviser's cookie. Non-browser clients send no Origin and no cookie.
            log.warning("websocket from foreign origin %r refused", origin)
            await ws.close(4403)
            return
        await ws.accept()
        conn = Connection(ws, self.conversations, self.rate, self.burst)
        self.hub.add(conn)
        try:
            await self._serve(conn)
        except WebSocketDisconnect:
            pass
        finally:
            conn.closed = True
            self.hub.remove(conn)

    async def _receive(self, ws: WebSocket) -> str | bytes:
        msg = await ws.receive()
        if msg["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(msg.get("code", 1000))
        data: str | bytes | None = msg.get("text")
        if data is None:
            data = msg.get("bytes") or b""
        return data

    async def _serve(self, conn: Connection) -> None:
        ws = conn.ws
        try:
            raw = await asyncio.wait_for(self._receive(ws), HELLO_TIMEOUT_S)
        except TimeoutError:
            await self._refuse_and_close(conn, None, "not_hello", "no hello within 10 s", 4401)
            return
        try:
            hello = parse_client_frame(raw)
            if not isinstance(hello, m.Hello):
                raise VisavisError("not_hello", f"first frame must be hello, not {hello.type}")
            await self._do_hello(conn, hello)
        except VisavisError as err:
            code = 1009 if err.code == "frame_too_large" else 4401
            await self._refuse_and_close(conn, frame_id_of(raw), err.code, err.message, code)
            return
        while not conn.closed:
            raw = await self._receive(ws)
            conn.last_seen = time.monotonic()
            if not conn.bucket.take():
                conn.refusals += 1
                if conn.refusals > MAX_REFUSALS:
                    log.warning("closing flooding socket (role %s)", conn.role)
                    await self._refuse_and_close(
                        conn, None, "rate_limited", "too many frames; closing", 1008
                    )
                    return
                self._error(conn, frame_id_of(raw), "rate_limited", "slow down: too many frames")
                continue
            fid: str | None = None
            try:
                msg = parse_client_frame(raw)
                fid = msg.id
                await self._dispatch(conn, msg)
            except VisavisError as err:
                if fid is None:
                    fid = frame_id_of(raw)
                log.info("refused frame %s from %s: %s %s", fid, conn.role, err.code, err.message)
                if err.code == "frame_too_large":
                    await self._refuse_and_close(conn, fid, err.code, err.message, 1009)
                    return
                self._error(conn, fid, err.code, err.message)
            except Exception:
                log.exception("internal error on frame %s", fid)
                self._error(conn, fid, "internal", "internal error; the frame was not applied")

    def _error(self, conn: Connection, fid: str | None, code: str, message: str) -> None:
        conn.push_frame({"v": 1, "type": "error", "id": fid, "code": code, "message": message})

    async def _refuse_and_close(
        self, conn: Connection, fid: str | None, code: str, message: str, close_code: int
    ) -> None:
        try:
            await conn.ws.send_json(
                {"v": 1, "type": "error", "id": fid, "code": code, "message": message}
            )
            await conn.ws.close(close_code)
        except Exception:
            pass
        conn.closed = True

    # ------------------------------------------------------------ hello
    async def _do_hello(self, conn: Connection, hello: m.Hello) -> None:
        if hello.token is not None:
            cid = self.tokens.check(hello.token)
            conv = await self.conversations.get(cid)
            conn.role = "customer"
            conn.conversation_id = cid
            conn.customer_name = conv["customer_name"]
            conn.push_frame(
                {
                    "v": 1,
                    "type": "welcome",
                    "id": hello.id,
                    "role": "customer",
                    "conversation": conv,
                    "heartbeat_s": self.hub.heartbeat_s,
                }
            )
            if conv["status"] == "queued":
                self.hub.set_waiting(conn, True)
                await self.hub.queue_changed()
            return
        adviser, _csrf = await self.auth.check_session(conn.ws.cookies.get(SESSION_COOKIE))
        conn.role = "adviser"
        conn.adviser = adviser
        self.hub.add_adviser(conn)
        active = await self.conversations.for_adviser(adviser.id)
        active += await self.conversations.for_consultant(adviser.id)
        self.hub.presence.set_load(adviser.id, len(active), adviser.max_chats)
        conn.push_frame(
            {
                "v": 1,
                "type": "welcome",
                "id": hello.id,
                "role": "adviser",
                "adviser": _adviser_info(adviser, self.hub.presence.status(adviser.id)),
                "conversations": active,
                "heartbeat_s": self.hub.heartbeat_s,
            }
        )
        conn.push_frame(self._status_frame(adviser, len(active)))
        if adviser.sees_all:
            self.hub.send_overview(conn)
        await self.hub.queue_changed()

    def _status_frame(self, adviser: AdviserView, active: int) -> dict[str, Any]:
        return {
            "v": 1,
            "type": "adviser.status",
            "status": self.hub.presence.status(adviser.id),
            "active": active,
            "max_chats": adviser.max_chats,
        }

    # ------------------------------------------------------------ dispatch
    async def _dispatch(self, conn: Connection, msg: m.ClientMessage) -> None:
        if isinstance(msg, m.Ping):
            conn.push_frame({"v": 1, "type": "pong", "id": msg.id})
        elif isinstance(msg, m.Hello):
            raise VisavisError("invalid_state", "hello was already said on this socket")
        elif isinstance(msg, m.Subscribe):
            await self._do_subscribe(conn, msg)
        elif isinstance(msg, m.ChatSend):
            await self._do_chat(conn, msg)
        elif isinstance(msg, m.Typing):
            await self._do_typing(conn, msg)
        elif isinstance(msg, m.Receipt):
            await self._do_receipt(conn, msg)
        elif isinstance(msg, m.ConversationEnd):
            await self._do_end(conn, msg)
        elif isinstance(msg, m.ConversationAccept | m.QueueNext):
            await self._do_accept(conn, msg)
        elif isinstance(msg, m.StatusSet):
            await self._do_status(conn, msg)
        elif isinstance(msg, m.RtcSignal):
            await self._do_signal(conn, msg)
        elif isinstance(msg, m.CallTake):
            await self._do_take(conn, msg)
        elif isinstance(msg, m.CallRequest | m.CallAnswer | m.CallHangup | m.CallMedia):
            await self._do_call(conn, msg)
        elif isinstance(msg, m.IceRequest):
            await self._do_ice(conn, msg)
        elif isinstance(msg, m.TransferStart | m.TransferFinish):
            await self._do_transfer(conn, msg)
        elif isinstance(msg, m.NoteSend):
            await self._do_note(conn, msg)
        elif isinstance(msg, m.OfferDecline):
            me = self._me(conn)
            if self.hub.offers is None or not self.hub.offers.decline(msg.conversation_id, me.id):
                raise VisavisError("invalid_state", "no such offer to you (taken or expired?)")
            conn.push_frame(
                {"v": 1, "type": "ack", "id": msg.id, "conversation_id": msg.conversation_id}
            )
            conn.push_frame(
                {"v": 1, "type": "offer.withdrawn", "conversation_id": msg.conversation_id}
            )
            await self.hub.queue_changed()

    # ------------------------------------------------------------ permission checks
    def _check_customer_owns(self, conn: Connection, cid: str) -> None:
        if conn.conversation_id != cid:
            raise VisavisError("forbidden", "your token does not grant this conversation")

    def _me(self, conn: Connection) -> AdviserView:
        if conn.adviser is None:
            raise VisavisError("forbidden", "only advisers may do this")
        return conn.adviser

    async def _check_participant(self, conn: Connection, cid: str) -> dict[str, Any]:
        """The conversation, if the socket is its customer or its assigned adviser."""
        if conn.role == "customer":
            self._check_customer_owns(conn, cid)
            return await self.conversations.get(cid)
        me = self._me(conn)
        conv = await self.conversations.get(cid)
        if me.id not in _advisers_of(conv):
            raise VisavisError("forbidden", "this conversation is not assigned to you")
        return conv

    def _author(self, conn: Connection) -> Author:
        if conn.adviser is not None:
            return Author("adviser", conn.adviser.id, conn.adviser.name)
        return Author("customer", None, conn.customer_name)

    # ------------------------------------------------------------ commands
    async def _do_subscribe(self, conn: Connection, msg: m.Subscribe) -> None:
        cid = msg.conversation_id
        if conn.role == "customer":
            self._check_customer_owns(conn, cid)
        else:
            me = self._me(conn)
            conv = await self.conversations.get(cid)
            mine = me.id in _advisers_of(conv)
            waiting = conv["status"] in ("queued", "offline")
            if not (mine or me.sees_all or (waiting and self.teams.serves(me.id, conv["team_id"]))):
                raise VisavisError("forbidden", "this conversation is not assigned to you")
        self.hub.follow(conn, cid)
        conn.push_replay(cid, msg.after_seq, msg.id, lambda: self.conversations.get(cid))

    async def _do_chat(self, conn: Connection, msg: m.ChatSend) -> None:
        cid = msg.conversation_id
        if conn.role == "customer":
            self._check_customer_owns(conn, cid)
            author = self._author(conn)
        else:
            conv = await self._check_participant(conn, cid)
            if conv["status"] != "active":
                raise VisavisError("invalid_state", f"conversation is {conv['status']!r}")
            author = self._author(conn)
        text = msg.text.strip()
        if not text:
            raise VisavisError("bad_request", "chat.send: text is blank")
        result = await self.conversations.do_chat(cid, author, msg.client_id, text)
        conn.push_frame(
            {
                "v": 1,
                "type": "ack",
                "id": msg.id,
                "conversation_id": cid,
                "seq": result.frame["seq"],
            }
        )
        if result.created:
            await self.hub.publish_conv(cid, result.frame)
        elif cid in conn.subs:
            # A resend: the original event may not have reached this socket yet.
            conn.push_event(cid, result.frame["seq"], dumps(result.frame))

    async def _do_typing(self, conn: Connection, msg: m.Typing) -> None:
        conv = await self._check_participant(conn, msg.conversation_id)
        if conv["status"] == "ended":
            return
        a = self._author(conn)
        await self.hub.publish_conv(
            msg.conversation_id,
            {
                "v": 1,
                "type": "typing",
                "conversation_id": msg.conversation_id,
                "author": {"role": a.role, "id": a.id, "name": a.name},
                "active": msg.active,
            },
        )

    async def _do_receipt(self, conn: Connection, msg: m.Receipt) -> None:
        await self._check_participant(conn, msg.conversation_id)
        role = conn.role or "customer"
        delivered, read = await self.conversations.do_receipt(
            msg.conversation_id, role, msg.delivered_seq, msg.read_seq
        )
        await self.hub.publish_conv(
            msg.conversation_id,
            {
                "v": 1,
                "type": "receipt",
                "conversation_id": msg.conversation_id,
                "role": role,
                "delivered_seq": delivered,
                "read_seq": read,
            },
        )

    async def _do_end(self, conn: Connection, msg: m.ConversationEnd) -> None:
        cid = msg.conversation_id
        if conn.role == "customer":
            self._check_customer_owns(conn, cid)
        else:
            me = self._me(conn)
            if not me.sees_all:
                await self._check_participant(conn, cid)
        before = await self.conversations.get(cid)
        conv, events = await self.conversations.do_end(cid, self._author(conn))
        conn.push_frame({"v": 1, "type": "ack", "id": msg.id, "conversation_id": cid})
        for event in events:
            await self.hub.publish_conv(cid, event)
        await self.hub.publish_conv(
            cid, {"v": 1, "type": "conversation.update", "conversation": conv}
        )
        if before["status"] == "queued":
            await self.hub.queue_changed()
        if conv["adviser"] is not None:
            await self._publish_status(conv["adviser"]["id"])

    async def _do_accept(self, conn: Connection, msg: m.ConversationAccept | m.QueueNext) -> None:
        me = self._me(conn)
        cid = msg.conversation_id if isinstance(msg, m.ConversationAccept) else None
        team_ids = None if me.sees_all else self.teams.teams_of(me.id)
        cutoff = None if me.sees_all else self.hub.requested_cutoff()
        conv, event = await self.conversations.do_accept(
            cid, me.id, me.name, self.teams.limits_for(me), team_ids or None, cutoff
        )
        cid = conv["id"]
        conn.push_frame({"v": 1, "type": "ack", "id": msg.id, "conversation_id": cid})
        await self.hub.publish_conv(cid, event)
        await self.hub.publish_conv(
            cid, {"v": 1, "type": "conversation.update", "conversation": conv}
        )
        await self.hub.publish_adviser(
            me.id, {"v": 1, "type": "conversation.assigned", "conversation": conv}
        )
        await self.hub.queue_changed()
        await self._publish_status(me.id)

    # ------------------------------------------------------------ calls
    async def _do_call(
        self, conn: Connection, msg: m.CallRequest | m.CallAnswer | m.CallHangup | m.CallMedia
    ) -> None:
        cid = msg.conversation_id
        before = await self._check_participant(conn, cid)
        _check_call_adviser(conn, (before["adviser"] or {}).get("id"))
        author = self._author(conn)
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
        conn.push_frame(
            {"v": 1, "type": "ack", "id": msg.id, "conversation_id": cid, "seq": events[-1]["seq"]}
        )
        for event in events:
            await self.hub.publish_conv(cid, event)
        if isinstance(msg, m.CallRequest | m.CallAnswer):
            # The socket that asks or accepts holds its side of the call.
            entry = self.hub.calls.remember(cid, conv)
            if entry is not None:
                entry.holders[author.role] = conn.peer_id
        if not isinstance(msg, m.CallMedia):
            await self.hub.publish_conv(
                cid, {"v": 1, "type": "conversation.update", "conversation": conv}
            )

    # ------------------------------------------------------------ transfers
    async def _do_transfer(self, conn: Connection, msg: m.TransferStart | m.TransferFinish) -> None:
        me = self._me(conn)
        cid = msg.conversation_id
        author = self._author(conn)
        before = await self.conversations.get(cid)
        if isinstance(msg, m.TransferFinish):
            conv, events = await self.transfers.do_consult_finish(cid, author, msg.complete)
        elif (msg.to_adviser_id is None) == (msg.to_team_id is None):
            raise VisavisError("bad_request", "transfer.start: give to_adviser_id or to_team_id")
        elif msg.to_team_id is not None:
            if msg.mode != "blind":
                raise VisavisError("bad_request", "transfer.start: a team is reached blind")
            self.teams.get(msg.to_team_id)  # not_found for an unknown team
            conv, events = await self.transfers.do_blind_to_team(cid, author, msg.to_team_id)
        else:
            assert msg.to_adviser_id is not None
            target = await self.auth.get_adviser(msg.to_adviser_id)
            conv, events = await self.transfers.do_to_adviser(
                cid, author, target.id, self.teams.limits_for(target), msg.mode == "consultative"
            )
        conn.push_frame(
            {"v": 1, "type": "ack", "id": msg.id, "conversation_id": cid, "seq": events[-1]["seq"]}
        )
        for event in events:
            await self.hub.publish_conv(cid, event)
        await self.hub.publish_conv(
            cid, {"v": 1, "type": "conversation.update", "conversation": conv}
        )
        # whoever is newly with the conversation gets it on their console
        newcomers = _advisers_of(conv) - _advisers_of(before)
        for adviser_id in newcomers:
            await self.hub.publish_adviser(
                adviser_id, {"v": 1, "type": "conversation.assigned", "conversation": conv}
            )
        for adviser_id in _advisers_of(conv) | _advisers_of(before) | {me.id}:
            await self._publish_status(adviser_id)
        if conv["status"] == "queued":
            await self.hub.queue_changed()

    async def _do_note(self, conn: Connection, msg: m.NoteSend) -> None:
        self._me(conn)
        text = msg.text.strip()
        if not text:
            raise VisavisError("bad_request", "note.send: text is blank")
        frame = await self.transfers.do_note(
            msg.conversation_id, self._author(conn), msg.client_id, text
        )
        conn.push_frame(
            {"v": 1, "type": "ack", "id": msg.id, "conversation_id": msg.conversation_id,
             "seq": frame["seq"]}
        )  # fmt: skip
        await self.hub.publish_conv(msg.conversation_id, frame)

    async def _call_peers(self, conn: Connection, cid: str, call_id: str) -> CallPeers:
        """The call's participants, checked against the socket, from memory when it is
        known (rtc.signal is frequent and on the critical path of a call set-up)."""
        entry = self.hub.calls.get(cid, call_id)
        if entry is None:
            conv = await self._check_participant(conn, cid)
            if conv["call"] is None or conv["call"]["id"] != call_id:
                raise VisavisError("invalid_state", f"call {call_id!r} is not the current call")
            entry = self.hub.calls.remember(cid, conv)
            assert entry is not None
        elif conn.role == "customer":
            self._check_customer_owns(conn, cid)
        _check_call_adviser(conn, entry.adviser_id)
        return entry

    async def _send_call_frame(
        self, cid: str, entry: CallPeers, to_role: str, to_peer: str | None, frame: dict[str, Any]
    ) -> None:
        """To one side of the call: its socket `to_peer`, or while none holds it, all of
        that side's sockets (Hub._to_call_peer)."""
        frame.update(to_peer=to_peer, to_role=to_role, to_adviser=entry.adviser_id)
        await self.hub.publish_conv(cid, frame)

    async def _do_signal(self, conn: Connection, msg: m.RtcSignal) -> None:
        if (msg.description is None) == (msg.candidate is None):
            raise VisavisError(
                "bad_request", "rtc.signal: give exactly one of description, candidate"
            )
        cid = msg.conversation_id
        entry = await self._call_peers(conn, cid, msg.call_id)
        role = conn.role or "customer"
        holder = entry.holders.setdefault(role, conn.peer_id)
        if holder != conn.peer_id:
            conn.push_frame(_moved(cid, msg.call_id))
            raise VisavisError(
                "call_elsewhere",
                "rtc.signal: another tab or device of yours holds this call; send call.take "
                "to move it here",
            )
        frame: dict[str, Any] = {
            "v": 1,
            "type": "rtc.signal",
            "conversation_id": cid,
            "call_id": msg.call_id,
            "from_role": role,
        }
        if msg.description is not None:
            frame["description"] = msg.description.model_dump()
        else:
            assert msg.candidate is not None
            frame["candidate"] = msg.candidate.model_dump(exclude_none=True)
        other = "customer" if role == "adviser" else "adviser"
        await self._send_call_frame(cid, entry, other, entry.holders.get(other), frame)

    async def _do_take(self, conn: Connection, msg: m.CallTake) -> None:
        cid = msg.conversation_id
        entry = await self._call_peers(conn, cid, msg.call_id)
        role = conn.role or "customer"
        before = entry.holders.get(role)
        entry.holders[role] = conn.peer_id
        conn.push_frame({"v": 1, "type": "ack", "id": msg.id, "conversation_id": cid})
        if before is not None and before != conn.peer_id:
            await self._send_call_frame(cid, entry, role, before, _moved(cid, msg.call_id))

    async def _do_ice(self, conn: Connection, msg: m.IceRequest) -> None:
        await self._check_participant(conn, msg.conversation_id)
        label = f"{msg.conversation_id}-{conn.role}"
        conn.push_frame(
            {
                "v": 1,
                "type": "ice.servers",
                "id": msg.id,
                "conversation_id": msg.conversation_id,
                **ice_servers(self.ice, label),
            }
        )

    async def _do_status(self, conn: Connection, msg: m.StatusSet) -> None:
        me = self._me(conn)
        await self.auth.do_set_status(me.id, msg.status)
        self.hub.presence.set_status(me.id, msg.status)
        await self._publish_status(me.id, msg.status)
        await self.hub.queue_changed()
        conn.push_frame({"v": 1, "type": "ack", "id": msg.id})

    async def _publish_status(self, adviser_id: str, status: str | None = None) -> None:
        active = await self.conversations.active_count(adviser_id)
        max_chats = (await self.auth.get_adviser(adviser_id)).max_chats
        await self.hub.publish_status(
            adviser_id, status or self.hub.presence.status(adviser_id), active, max_chats
        )


def _check_call_adviser(conn: Connection, adviser_id: str | None) -> None:
    """Of the advisers, only the conversation's own takes part in its call: not a
    consulting colleague nor a supervisor who follows the chat (nor anyone while
    nobody has taken the conversation)."""
    if conn.adviser is not None and conn.adviser.id != adviser_id:
        raise VisavisError("forbidden", "only the conversation's adviser takes part in its call")


def _moved(cid: str, call_id: str) -> dict[str, Any]:
    return {"v": 1, "type": "call.moved", "conversation_id": cid, "call_id": call_id}


def _advisers_of(conv: dict[str, Any]) -> set[str]:
    """The advisers with a conversation: its adviser and, during a consultative
    transfer, the consulting colleague."""
    return {p["id"] for p in (conv["adviser"], conv.get("consultant")) if p is not None}


def _adviser_info(a: AdviserView, status: str) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "email": a.email,
        "role": a.role,
        "status": status,
        "max_chats": a.max_chats,
    }


__all__ = ["MAX_FRAME_BYTES", "SESSION_COOKIE", "Gateway"]
