"""The WebSocket gateway: authenticate, validate every frame, check who may do
what, act, answer. Protocol: docs/protocol.md."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, cast

from starlette.websockets import WebSocket, WebSocketDisconnect

from visavis.auth.service import AdviserView, AuthService
from visavis.auth.tokens import CustomerTokens
from visavis.collab.cobrowse import CobrowseService
from visavis.collab.documents import DocumentService
from visavis.collab.recording import RecordingService
from visavis.collab.signing import SigningService
from visavis.conversations.calls import CallService
from visavis.conversations.chat_write import Appended
from visavis.conversations.commits import MIN_RETRY_MS
from visavis.conversations.service import ConversationService
from visavis.conversations.transfers import TransferService
from visavis.errors import VisavisError
from visavis.forms.service import FormService
from visavis.media.ice import IceConfig
from visavis.protocol import MAX_FRAME_BYTES, parse_client_frame
from visavis.protocol import frames as f
from visavis.protocol import messages as m
from visavis.protocol.client import decode_client_frame, validate_client_frame
from visavis.protocol.messages import frame_id_of
from visavis.protocol.mirror_frame import check_mirror_frame, is_mirror_frame
from visavis.protocol.replies import chat_ack_text, error
from visavis.protocol.wire import dumps
from visavis.routing.teams import TeamService
from visavis.web.connection import Connection
from visavis.web.ephemeral import RelayState
from visavis.web.handoff import HomeWorkers
from visavis.web.hub import Hub
from visavis.web.lanes import Lanes
from visavis.web.leanws import PEEK, RECEIVE, Receiver, next_frame
from visavis.web.metrics import FRAMES_IN, FRAMES_REFUSED, SOCKETS
from visavis.web.permissions import (
    advisers_of,
    author_of,
    check_adviser,
    check_customer_owns,
    check_participant,
)
from visavis.web.ws_advisers import AdviserCommands, adviser_info
from visavis.web.ws_calls import CallCommands
from visavis.web.ws_cobrowse import CobrowseCommands
from visavis.web.ws_collab import EPHEMERAL_TYPES, CollabCommands
from visavis.web.ws_forms import FORM_EPHEMERAL_TYPES, FormCommands
from visavis.web.ws_recording import RecordingCommands
from visavis.web.ws_signing import SigningCommands

log = logging.getLogger(__name__)

Handler = Callable[[Connection, Any], Awaitable[None]]  # Any: each takes its own message

SESSION_COOKIE = "visavis_session"
HELLO_TIMEOUT_S = 10
RELAYED_TYPES = EPHEMERAL_TYPES | FORM_EPHEMERAL_TYPES  # own rate budget, never logged
MAX_REFUSALS = 50
# chat messages of one socket awaiting their commit (an adviser's console serves up to
# 50 conversations); beyond: `overloaded`
MAX_CHATS_IN_FLIGHT = 64


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
        documents: DocumentService,
        cobrowse: CobrowseService,
        forms: FormService,
        recording: RecordingService,
        signing: SigningService,
    ) -> None:
        self.hub = hub
        self.auth = auth
        self.tokens = tokens
        self.conversations = conversations
        self.origin = origin
        self.rate = frames_per_s
        self.burst = burst
        self.announcer = hub.announcer
        self.teams = teams
        self.homes = HomeWorkers(tokens, conversations, auth, SESSION_COOKIE)
        call_commands = CallCommands(calls, conversations, hub.calls, hub.announcer, ice)
        room = CollabCommands(documents, conversations, hub.announcer)
        hub.watch(cobrowse)  # its state follows the announced events
        cob = CobrowseCommands(cobrowse, conversations, hub.announcer, hub.follows)
        form = FormCommands(forms, conversations, hub.announcer)
        hub.watch(recording)  # a stop closes the recorder's room at once
        rec = RecordingCommands(recording, conversations)
        sign = SigningCommands(signing, documents, forms, conversations)
        console = AdviserCommands(hub, auth, conversations, transfers, teams)
        # One handler per client message type (parse_client_frame gives exactly one).
        self._handlers: dict[type[m.InboundMessage], Handler] = {
            m.Ping: self._do_ping,
            m.Hello: self._do_hello_again,
            m.Subscribe: self._do_subscribe,
            m.ChatSend: self._do_chat,
            m.Typing: self._do_typing,
            m.Receipt: self._do_receipt,
            m.ConversationEnd: console.do_end,
            m.ConversationAccept: console.do_accept,
            m.QueueNext: console.do_accept,
            m.StatusSet: console.do_status,
            m.RtcSignal: call_commands.do_signal,
            m.CallTake: call_commands.do_take,
            m.CallRequest: call_commands.do_call,
            m.CallAnswer: call_commands.do_call,
            m.CallHangup: call_commands.do_call,
            m.CallMedia: call_commands.do_call,
            m.IceRequest: call_commands.do_ice,
            m.TransferStart: console.do_transfer,
            m.TransferFinish: console.do_transfer,
            m.NoteSend: console.do_note,
            m.OfferDecline: console.do_offer_decline,
            m.DocShare: room.do_share,
            m.DocRights: room.do_rights,
            m.DocPresent: room.do_stage,
            m.StageClear: room.do_stage,
            m.AnnotationAdd: room.do_stage,
            m.AnnotationClear: room.do_stage,
            m.VideoControl: room.do_stage,
            m.SnapshotRequest: room.do_snapshot,
            m.SnapshotDecline: room.do_snapshot,
            m.Pointer: room.do_relay,
            m.DocView: room.do_relay,
            m.CobrowseRequest: cob.do_step,
            m.CobrowseAnswer: cob.do_step,
            m.CobrowseControlRequest: cob.do_step,
            m.CobrowseControlAnswer: cob.do_step,
            m.CobrowseControlRevoke: cob.do_step,
            m.CobrowseEnd: cob.do_step,
            m.CobrowseBatch: cob.do_relay,
            m.CobrowsePointer: cob.do_relay,
            m.CobrowseInput: cob.do_relay,
            m.CobrowseResync: cob.do_relay,
            m.FormOpen: form.do_open,
            m.FormChange: form.do_change,
            m.FormFocus: form.do_focus,
            m.FormSubmit: form.do_step,
            m.FormConfirm: form.do_step,
            m.FormCancel: form.do_step,
            m.RecordingRequest: rec.do_step,
            m.RecordingConsent: rec.do_step,
            m.RecordingDecline: rec.do_step,
            m.RecordingWithdraw: rec.do_step,
            m.RecordingStop: rec.do_step,
            m.RecordingOffer: rec.do_offer,
            m.SignatureRequest: sign.do_request,
            m.SignatureSign: sign.do_sign,
            m.SignatureDecline: sign.do_close,
            m.SignatureCancel: sign.do_close,
        }

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
        SOCKETS.inc()
        self.homes.sockets.inc()
        try:
            await self._serve(conn)
        except WebSocketDisconnect:
            pass
        finally:
            if conn.lanes is not None:  # what was started finishes before the socket goes
                await conn.lanes.do_drain()
            SOCKETS.dec()
            self.homes.sockets.dec()
            conn.closed = True
            if conn.relay is not None:
                conn.relay.close()
            self.hub.remove(conn)

    async def _receive(self, ws: WebSocket) -> str | bytes:
        lean = _receiver_of(ws)
        if lean is not None:
            frame = await next_frame(lean)
            if frame is not None:
                return frame  # else a disconnect: Starlette takes it, and knows of it
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
            # a deadline on this task, not wait_for's second task per socket
            async with asyncio.timeout(HELLO_TIMEOUT_S):
                raw = await self._receive(ws)
        except TimeoutError:
            await self._refuse_and_close(conn, None, "not_hello", "no hello within 10 s", 4401)
            return
        try:
            hello = parse_client_frame(raw)
            if not isinstance(hello, m.Hello):
                raise VisavisError("not_hello", f"first frame must be hello, not {hello.type}")
            if await self.homes.moved(ws, hello, raw):  # now its adviser's worker serves it
                conn.closed = True  # nothing was made for it here: nothing to take back
                return
            await self._do_hello(conn, hello, await self._subscribe_behind(conn, hello))
        except VisavisError as err:
            code = 1009 if err.code == "frame_too_large" else 4401
            await self._refuse_and_close(conn, frame_id_of(raw), err.code, err.message, code)
            return
        lean = _receiver_of(ws)
        if lean is not None:
            lean.frame_now = partial(self._chat_frame_now, conn)
        try:
            while not conn.closed:
                # Between frames (most of a socket's life) it waits on the inbox's
                # future alone: no coroutine per frame, and the last frame's objects are
                # gone with `_on_frame`'s. What a waiting socket keeps alive is what the
                # cycle collector's young generation walks, for every socket, at each of
                # its collections: a thousand chatting sockets made them 10-15 ms pauses.
                if lean is not None and (waiter := lean.frame_waiter()) is not None:
                    await waiter
                    continue
                await self._on_frame(conn, await self._receive(ws))
        finally:
            if lean is not None:
                lean.frame_now = None

    def _chat_frame_now(self, conn: Connection, raw: str) -> bool:
        """A chat message, handled as it is read while this socket's loop waits (its
        frames before it all handled: leanws.py's `frame_now`), as `_on_frame` would
        handle it: queued for the next group commit in this loop turn, not the next.
        False: anything else, or anything `_on_frame` would refuse (it then does, with
        its answer and its count); nothing was done."""
        if conn.closed or '"chat.send"' not in raw:  # most frames: not even decoded
            return False
        try:
            msg = validate_client_frame(decode_client_frame(raw))
        except Exception:  # nothing done yet: `_on_frame` says what is wrong, as always
            return False
        if type(msg) is not m.ChatSend or not self._chat_lane_free(conn, msg):
            return False
        if not conn.bucket.take():
            return False
        conn.last_seen = time.monotonic()
        FRAMES_IN.inc()
        self._chat_now(conn, msg)
        return True

    @staticmethod
    def _chat_lane_free(conn: Connection, msg: m.ChatSend) -> bool:
        """Nothing of its conversation runs before it (an adviser's lanes: lanes.py)."""
        return conn.lanes is None or conn.lanes.idle(msg.conversation_id)

    async def _on_frame(self, conn: Connection, raw: str | bytes) -> None:
        """One frame received after the hello: checked, limited, then handled; a chat
        message without a task or a wait. Ends with `conn.closed` when the socket is
        to close (a flood, a frame too large)."""
        conn.last_seen = time.monotonic()
        FRAMES_IN.inc()
        data: dict[str, Any] | None = None
        undecodable: VisavisError | None = None
        mirror: m.CobrowseBatch | None = None  # the one binary frame
        binary = is_mirror_frame(raw)
        try:
            if binary:
                mirror = check_mirror_frame(cast(bytes, raw), conn.conversation_id)
                data = {"type": mirror.type}
            else:
                data = decode_client_frame(raw)
        except VisavisError as err:
            undecodable = err
        # pointers, views, form focus and co-browsing's relays have their own
        # budgets (web/ephemeral.py)
        kind = data.get("type") if data is not None else None
        if binary:
            kind = "cobrowse.batch"
        elif not isinstance(kind, str):  # `"type": []` is unhashable: unknown_type below
            kind = None
        ephemeral = kind in RELAYED_TYPES or kind in m.COBROWSE_RELAY_TYPES
        if ephemeral and conn.relay is None:
            conn.relay = RelayState()
        bucket = conn.relay.bucket_for(str(kind)) if ephemeral and conn.relay else conn.bucket
        if not bucket.take():
            conn.refusals += 1
            if conn.refusals > MAX_REFUSALS:
                log.warning("closing flooding socket (role %s)", conn.role)
                await self._refuse_and_close(
                    conn, None, "rate_limited", "too many frames; closing", 1008
                )
                return
            self._error(conn, frame_id_of(raw), "rate_limited", "slow down: too many frames")
            return
        try:
            if data is None:
                assert undecodable is not None
                raise undecodable
            msg = mirror if mirror is not None else validate_client_frame(data)
        except VisavisError as err:
            await self._refused(conn, frame_id_of(raw), err, ephemeral)
            return
        # an adviser's frames run in one lane per conversation (web/lanes.py)
        if type(msg) is m.ChatSend and self._chat_lane_free(conn, msg):
            # it only queues the message for the group commit: no task (lanes.py),
            # not even a coroutine (most frames are chat messages)
            self._chat_now(conn, msg)
        elif conn.lanes is None:
            await self._act(conn, msg, ephemeral)
        else:
            lane = getattr(msg, "conversation_id", None)
            await conn.lanes.do_run(lane, partial(self._act, conn, msg, ephemeral))

    async def _act(self, conn: Connection, msg: m.InboundMessage, ephemeral: bool) -> None:
        """Handle one valid frame; a refusal or a failure is answered, never raised."""
        try:
            await self._handlers[type(msg)](conn, msg)
        except VisavisError as err:
            await self._refused(conn, msg.id, err, ephemeral)
        except Exception:
            log.exception("internal error on frame %s", msg.id)
            self._error(conn, msg.id, "internal", "internal error; the frame was not applied")

    def _chat_now(self, conn: Connection, msg: m.ChatSend) -> None:
        """`_act` for a chat message, which never waits (its commit is answered by a
        callback): a refusal or a failure is answered, never raised."""
        try:
            self._queue_chat(conn, msg)
        except VisavisError as err:
            self._count_refusal(conn, msg.id, err, False)
            self._error(conn, msg.id, err.code, err.message, err.details)
        except Exception:
            log.exception("internal error on frame %s", msg.id)
            self._error(conn, msg.id, "internal", "internal error; the frame was not applied")

    def _count_refusal(
        self, conn: Connection, fid: str | None, err: VisavisError, ephemeral: bool
    ) -> None:
        if not ephemeral:  # pointers are never logged, not even refused ones
            log.info("refused frame %s from %s: %s %s", fid, conn.role, err.code, err.message)
        FRAMES_REFUSED.labels(err.code).inc()

    async def _refused(
        self, conn: Connection, fid: str | None, err: VisavisError, ephemeral: bool
    ) -> None:
        self._count_refusal(conn, fid, err, ephemeral)
        if err.code == "frame_too_large":
            await self._refuse_and_close(conn, fid, err.code, err.message, 1009)
        else:
            self._error(conn, fid, err.code, err.message, err.details)

    def _error(
        self,
        conn: Connection,
        fid: str | None,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        conn.push_frame(error(fid, code, message, details))

    async def _refuse_and_close(
        self, conn: Connection, fid: str | None, code: str, message: str, close_code: int
    ) -> None:
        try:
            await conn.ws.send_json(error(fid, code, message))
            await conn.ws.close(close_code)
        except Exception:
            pass
        conn.closed = True

    # ------------------------------------------------------------ hello
    async def _subscribe_behind(self, conn: Connection, hello: m.Hello) -> m.Subscribe | None:
        """A customer's `subscribe` to its own conversation received right behind its
        `hello` (a reconnecting client sends both at once), taken here so that both are
        answered together (`_do_hello`): one summary read, one write. It passes the
        same checks as in `_serve`'s loop; any other frame is left to that loop."""
        peek = (conn.ws.scope.get("extensions") or {}).get(PEEK)
        token = hello.token
        raw = peek() if peek is not None and token is not None else None
        if raw is None or token is None or not conn.can_hold():
            return None
        try:
            msg = validate_client_frame(decode_client_frame(raw))
            cid = self.tokens.check(token)  # cached: checked again by _do_hello
        except VisavisError:
            return None
        if not isinstance(msg, m.Subscribe) or msg.conversation_id != cid:
            return None
        if not conn.bucket.take():  # refused in the loop, after the welcome
            return None
        taken = await self._receive(conn.ws)  # there already: no wait
        assert taken == raw
        conn.last_seen = time.monotonic()
        FRAMES_IN.inc()
        return msg

    async def _do_hello(
        self, conn: Connection, hello: m.Hello, subscribe: m.Subscribe | None = None
    ) -> None:
        if hello.token is not None:
            cid = self.tokens.check(hello.token)
            conn.role = "customer"
            conn.conversation_id = cid
            if subscribe is not None:
                check_customer_owns(conn, subscribe.conversation_id)
                self.hub.follow(conn, cid)
                conn.hold(cid, subscribe.after_seq)
            conv = await self.hub.summary(cid)  # after following: see release
            conn.customer_name = conv["customer_name"]
            welcome: f.WelcomeFrame = {
                "v": 1,
                "type": "welcome",
                "id": hello.id,
                "role": "customer",
                "conversation": conv,
                "heartbeat_s": self.hub.heartbeat_s,
            }
            if subscribe is None:
                conn.push_frame(welcome)
            else:
                conn.release(cid, subscribe.id, dumps(welcome), conv, lambda: self.hub.summary(cid))
            if conv["status"] == "queued":
                self.hub.set_waiting(conn, True)
                await self.hub.queue_changed()
            return
        adviser, _csrf = await self.auth.check_session(conn.ws.cookies.get(SESSION_COOKIE))
        conn.role = "adviser"
        conn.adviser = adviser
        conn.lanes = Lanes()
        self.hub.add_adviser(conn)
        await self.hub.settled()  # an assignment committed from here on comes live
        active = await self.conversations.for_adviser(adviser.id)
        active += await self.conversations.for_consultant(adviser.id)
        self.hub.presence.set_load(adviser.id, len(active), adviser.max_chats)
        conn.push_frame(
            {
                "v": 1,
                "type": "welcome",
                "id": hello.id,
                "role": "adviser",
                "adviser": adviser_info(adviser, self.hub.presence.status(adviser.id)),
                "conversations": active,
                "heartbeat_s": self.hub.heartbeat_s,
            }
        )
        conn.push_frame(self._status_frame(adviser, len(active)))
        if adviser.sees_all:
            self.hub.send_overview(conn)
        await self.hub.queue_changed()

    def _status_frame(self, adviser: AdviserView, active: int) -> f.AdviserStatusFrame:
        return {
            "v": 1,
            "type": "adviser.status",
            "status": cast(f.PresenceStatus, self.hub.presence.status(adviser.id)),
            "active": active,
            "max_chats": adviser.max_chats,
        }

    # ------------------------------------------------------------ commands
    async def _do_ping(self, conn: Connection, msg: m.Ping) -> None:
        conn.push_frame({"v": 1, "type": "pong", "id": msg.id})

    async def _do_hello_again(self, conn: Connection, msg: m.Hello) -> None:
        raise VisavisError("invalid_state", "hello was already said on this socket")

    async def _do_subscribe(self, conn: Connection, msg: m.Subscribe) -> None:
        cid = msg.conversation_id
        if conn.role == "customer":
            check_customer_owns(conn, cid)
        else:
            me = check_adviser(conn)
            conv = await self.conversations.get(cid)
            mine = me.id in advisers_of(conv)
            waiting = conv["status"] in ("queued", "offline")
            if not (mine or me.sees_all or (waiting and self.teams.serves(me.id, conv["team_id"]))):
                raise VisavisError("forbidden", "this conversation is not assigned to you")
        self.hub.follow(conn, cid)
        conn.push_replay(cid, msg.after_seq, msg.id, lambda: self.hub.summary(cid))

    async def _do_chat(self, conn: Connection, msg: m.ChatSend) -> None:
        """A chat message behind other frames of its conversation's lane (else the loop
        calls `_chat_now`)."""
        self._queue_chat(conn, msg)

    def _queue_chat(self, conn: Connection, msg: m.ChatSend) -> None:
        """Queued for the next group commit and acked after it, while this socket's
        next frames are read (an adviser's chats need not wait for each other's
        commits). An adviser's right to write is checked in that transaction."""
        cid = msg.conversation_id
        if conn.role == "customer":
            check_customer_owns(conn, cid)
        else:
            check_adviser(conn)
        text = msg.text.strip()
        if not text:
            raise VisavisError("bad_request", "chat.send: text is blank")
        if conn.chats_in_flight >= MAX_CHATS_IN_FLIGHT:
            message = f"{conn.chats_in_flight} messages of this socket await their commit"
            self._error(conn, msg.id, "overloaded", message, {"retry_after_ms": MIN_RETRY_MS})
            return
        try:
            # a callback, not a task per message: the answer is sent in the commit's
            # loop turn, with the events it announced
            self.conversations.submit_chat(
                cid, author_of(conn), msg.client_id, text,
                lambda result: self._ack_chat(conn, msg, result),
            )  # fmt: skip
        except VisavisError as err:
            # overloaded: said to the client; counted and logged in summary (commits.py),
            # not a line per refusal when thousands a second are refused
            self._error(conn, msg.id, err.code, err.message, err.details)
            return
        conn.chats_in_flight += 1

    def _ack_chat(
        self, conn: Connection, msg: m.ChatSend, result: Appended | BaseException
    ) -> None:
        conn.chats_in_flight -= 1
        cid = msg.conversation_id
        if isinstance(result, VisavisError):
            err = result
            log.info("refused frame %s from %s: %s %s", msg.id, conn.role, err.code, err.message)
            self._error(conn, msg.id, err.code, err.message, err.details)
            return
        if isinstance(result, BaseException):
            log.error("internal error on frame %s", msg.id, exc_info=result)
            self._error(conn, msg.id, "internal", "internal error; the frame was not applied")
            return
        conn.push(chat_ack_text(msg.id, cid, result.frame["seq"]))
        if not result.created and cid in conn.subs:
            # A resend: the original event may not have reached this socket yet.
            conn.push_event(cid, result.frame["seq"], dumps(result.frame))

    async def _do_typing(self, conn: Connection, msg: m.Typing) -> None:
        conv = await check_participant(conn, self.conversations, msg.conversation_id)
        if conv["status"] == "ended":
            return
        a = author_of(conn)
        await self.announcer.send_ephemeral(
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
        await check_participant(conn, self.conversations, msg.conversation_id)
        role = conn.role or "customer"
        delivered, read = await self.conversations.do_receipt(
            msg.conversation_id, role, msg.delivered_seq, msg.read_seq
        )
        await self.announcer.send_ephemeral(
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


__all__ = ["MAX_FRAME_BYTES", "SESSION_COOKIE", "Gateway"]


def _receiver_of(ws: WebSocket) -> Receiver | None:
    """The lean protocol's frame source (leanws.py), if the socket has one."""
    lean: Receiver | None = (ws.scope.get("extensions") or {}).get(RECEIVE)
    return lean
