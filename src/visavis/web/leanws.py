"""uvicorn's websockets-sansio protocol, with less kept per socket.

Ten thousand idle sockets are mostly per-socket objects that idle sockets never use.
uvicorn's protocol keeps, for every socket, an `asyncio.Queue` for frames received
(three deques and an Event), an `asyncio.Event` for the write buffer (one more
deque), and the handshake's request and response (with their headers) for the
socket's whole life. Here: a list and one future made only while the app waits for a
frame, a future only while the write buffer is full, and the handshake dropped once
answered. The protocol's pings are off (`ws_ping_interval=None`, cli.py): the app
has its own heartbeat (docs/protocol.md), so no timer per socket either.

A text frame can also be written at once (`send_text_now`, offered to the app in the
scope's extensions as `SEND_NOW`): the app's per-socket queue (web/connection.py) uses
it when nothing waits before the frame, which spares a task, starlette's state checks
and the ASGI round per frame — three frames per chat message. Such frames are
framed at once but written at the end of the loop turn (`_Cork`): one group commit
hands an adviser's socket the events of many conversations, and a customer's socket
its event and its ack, each of those a write (a system call) of its own before.
The group commit writes what it framed as soon as it has answered its group
(`write_corked`), in the turn of its commit.

Order holds: a frame is framed into the socket's websockets connection at once, and
every write (this one, uvicorn's `send`, the close) takes what that connection has
framed so far, in order.

Received frames are taken straight from the socket's inbox (`frame_waiter` and
`take_frame`, the protocol offered as `RECEIVE`), not through Starlette's
`WebSocket.receive` and its state checks, which matter only for the connect and the
disconnect (those still go that way). A text frame read while the app waits for
one is offered to the app first, in the read itself (`frame_now`): the gateway
queues a chat message for its commit there, a loop turn earlier than its socket's
task would.

Several frames can be sent at once (a reconnecting customer's `welcome` and
`subscribed`). The app may also look at a frame already received before taking it
(`peek_text`, as `PEEK`): the gateway answers a `hello` and the `subscribe` sent
right behind it together.

The opening handshake of a plain, valid upgrade request is taken over from uvicorn's
HTTP protocol (web/handshake.py).

A complete text frame from the client is read, and a text frame to it framed, by
web/rfc6455.py while websockets' connection is between frames (`data_received`,
`send_text_now`). Everything else (other frames, the closing handshake, limits) is
uvicorn's and websockets'.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.exceptions import InvalidState
from websockets.http11 import Request
from websockets.protocol import OPEN
from websockets.streams import StreamReader

from visavis.web.handshake import TakenOverHandshake, new_server_protocol
from visavis.web.rfc6455 import take_text_frames, text_frame

# the scope extensions that hold the socket's `send_text_now`, its inbox's
# `peek_text` and the protocol itself (a `Receiver`)
SEND_NOW = "visavis.send_now"
PEEK = "visavis.peek"
_UVICORN_LOG = logging.getLogger("uvicorn.error")
RECEIVE = "visavis.receive"
# where websockets' parser waits between two frames (`_between_frames`)
_AT_EOF = StreamReader.at_eof.__code__


class Receiver(Protocol):
    """What the gateway's loop takes received frames with (`RECEIVE`)."""

    # a text frame received while the app waits for one is offered here first;
    # True: handled, it does not reach the inbox (`LeanWebSocketProtocol.frame_now`)
    frame_now: Callable[[str], bool] | None

    def frame_waiter(self) -> asyncio.Future[None] | None: ...
    def take_frame(self) -> str | bytes | None: ...


async def next_frame(receiver: Receiver) -> str | bytes | None:
    """The next received frame, once there is one (None: the next message is a
    disconnect, left for `receive`)."""
    while (waiter := receiver.frame_waiter()) is not None:
        await waiter
    return receiver.take_frame()


class Inbox:
    """The part of `asyncio.Queue` the protocol uses, for one reader (the app)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[ASGIReceiveEvent] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        self._items.append(item)
        if self._waiter is not None:
            if not self._waiter.done():
                self._waiter.set_result(None)
            self._waiter = None

    def empty(self) -> bool:
        return not self._items

    def parked(self) -> bool:
        """The app waits for a frame and none is here: it took everything before."""
        waiter = self._waiter
        return not self._items and waiter is not None and not waiter.done()

    def peek_text(self) -> str | None:
        """The text of the next frame if one was received already (not taken)."""
        if not self._items:
            return None
        item: Any = self._items[0]
        return item.get("text") if item["type"] == "websocket.receive" else None

    def qsize(self) -> int:
        return len(self._items)

    def frames(self) -> list[str | bytes] | None:
        """Every frame received and not taken, in order, not taken here either; None if
        anything else is queued (a disconnect). What a handoff moves (web/handoff.py)."""
        items: list[Any] = self._items
        if any(item["type"] != "websocket.receive" for item in items):
            return None
        return [item["text"] if item.get("text") is not None else item["bytes"] for item in items]

    def clear(self) -> None:
        """Forget what was received (a handoff moved it to another process)."""
        self._items.clear()

    def waiter(self) -> asyncio.Future[None] | None:
        """None if something was received; else a future done when something is."""
        if self._items:
            return None
        if self._waiter is None or self._waiter.done():  # done: cancelled with its task
            self._waiter = asyncio.get_running_loop().create_future()
        return self._waiter

    async def wait(self) -> None:
        """Until something was received."""
        while (waiter := self.waiter()) is not None:
            await waiter

    def take_data(self) -> str | bytes | None:
        """The next item's text or bytes, taken, if it is a received frame; None (and
        left) if it is anything else (a disconnect)."""
        item: Any = self._items[0]
        if item["type"] != "websocket.receive":
            return None
        del self._items[0]
        text: str | None = item.get("text")
        return text if text is not None else item.get("bytes", b"")

    async def get(self) -> ASGIReceiveEvent:
        await self.wait()
        return self._items.pop(0)


class Gate:
    """The part of `asyncio.Event` the protocol uses for its write buffer: open unless
    the transport said its buffer is full."""

    __slots__ = ("_closed",)

    def __init__(self) -> None:
        self._closed: asyncio.Future[None] | None = None

    def set(self) -> None:
        if self._closed is not None:
            if not self._closed.done():
                self._closed.set_result(None)
            self._closed = None

    def clear(self) -> None:
        if self._closed is None:
            self._closed = asyncio.get_running_loop().create_future()

    def is_set(self) -> bool:
        return self._closed is None

    async def wait(self) -> bool:
        if self._closed is not None:
            await asyncio.shield(self._closed)
        return True


class _Cork:
    """The sockets of one event loop with framed, unwritten frames; written together in
    the next loop turn, so what one turn framed for a socket leaves in one write (a
    group commit's events and the acks it answers in the same turn)."""

    __slots__ = ("_loop", "_pending", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: list[LeanWebSocketProtocol] = []
        self._scheduled = False

    def add(self, proto: LeanWebSocketProtocol) -> None:
        self._pending.append(proto)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        # called early (`write_corked`), the turn's scheduled call finds nothing left,
        # and a frame framed meanwhile schedules one more
        pending, self._pending, self._scheduled = self._pending, [], False
        for proto in pending:
            proto.flush()


_corks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Cork] = weakref.WeakKeyDictionary()


def write_corked() -> None:
    """Write now what this loop's turn has framed so far, not at the turn's end: the
    group commit calls it once it has answered a group, so its events and acks leave
    in the turn of the commit (a scheduled write would wait for a turn of its own,
    behind every socket read meanwhile)."""
    cork = _corks.get(asyncio.get_running_loop())
    if cork is not None:
        cork.flush()


def _cork_of(loop: asyncio.AbstractEventLoop) -> _Cork:
    cork = _corks.get(loop)
    if cork is None:
        cork = _corks[loop] = _Cork(loop)
    return cork


class LeanWebSocketProtocol(TakenOverHandshake):
    # set by the app while it waits for frames (`send_receive_event_to_app`)
    frame_now: Callable[[str], bool] | None = None

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._corked = False  # frames framed by send_text_now await the turn's end
        if config.ws_per_message_deflate or not config.loaded:
            super().__init__(config, server_state, app_state, _loop)
            self.queue: Any = Inbox()  # uvicorn's annotation says asyncio.Queue
            self.writable: Any = Gate()
            return
        # What uvicorn's __init__ sets, without what it would make only to be replaced
        # (a Queue, an Event), its logger looked up twice, and websockets' protocol
        # made the costly way (`new_server_protocol`): a reconnect storm makes
        # thousands a second. tests/unit/test_leanws.py checks the attributes match.
        self.config = config
        self.app = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.logger = _UVICORN_LOG
        self.root_path = config.root_path
        self.asgi_version = config.asgi_version
        self.app_state = app_state
        self.connections = server_state.connections
        self.tasks = server_state.tasks
        self.default_headers = server_state.default_headers
        self.transport = None  # type: ignore[assignment]
        self.server = None
        self.client = None
        self.scheme = None  # type: ignore[assignment]
        self.queue = Inbox()
        self.handshake_initiated = False
        self.handshake_complete = False
        self.close_sent = False
        self.disconnected = False
        self.close_timer = None
        self.close_timeout = 10.0
        self.initial_response = None
        self.conn = new_server_protocol(config.ws_max_size)
        self.read_paused = False
        self.writable = Gate()
        self.ping_interval = config.ws_ping_interval
        self.ping_timeout = config.ws_ping_timeout
        self.ping_timer = None
        self.pong_timer = None
        self.pending_ping_payload = None
        self.ping_sent_at = 0.0
        self.last_ping_rtt = 0.0
        self.frames = []
        self.curr_msg_data_type = "bytes"

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)  # none when the handshake was refused
        if scope is not None:
            self._offer(scope)

    def _offer(self, scope: Any) -> None:
        extensions = scope.setdefault("extensions", {})
        extensions[SEND_NOW] = self.send_text_now
        extensions[PEEK] = self.queue.peek_text
        extensions[RECEIVE] = self

    def frame_waiter(self) -> asyncio.Future[None] | None:
        """None if a message was received and not taken; else a future done when one
        is. The gateway's loop awaits it directly: a socket waiting for its next frame
        (most of its life) keeps this one future alive, not a chain of coroutines,
        which the cycle collector's young generation would walk for every socket."""
        inbox: Inbox = self.queue
        return inbox.waiter()

    def take_frame(self) -> str | bytes | None:
        """The next received frame's text (or bytes), taken as `receive` takes it, for
        the gateway's loop: without the ASGI message going through Starlette's
        `WebSocket.receive`, whose state checks are for the connect and disconnect
        messages. None: the next message is not a frame (a disconnect); it is left for
        `receive`, and so for Starlette. Only once `frame_waiter` said a message is
        there."""
        inbox: Inbox = self.queue
        data = inbox.take_data()
        if data is not None and self.read_paused and inbox.empty():
            # as `receive`: the transport paused reading when it queued a frame
            self.read_paused = False
            self.transport.resume_reading()
        return data

    def data_received(self, data: bytes) -> None:
        """Complete text frames at the start of `data` are read here (web/rfc6455.py)
        when websockets' parser waits between two frames; the rest, and everything
        else, goes to websockets as before."""
        if self.handshake_complete and self._between_frames():
            texts, at = take_text_frames(data, self.conn.max_message_size)
            for payload in texts:
                # uvicorn's `handle_text` for a final frame
                self.curr_msg_data_type = "text"
                self.frames = [payload]
                self.send_receive_event_to_app()
                if self.close_sent:  # that one was not UTF-8: closed with 1007
                    return
            if at == len(data):
                return
            data = data[at:]
        super().data_received(data)

    def _between_frames(self) -> bool:
        """websockets' connection is open, has nothing buffered and waits for the
        first byte of a frame (not in the middle of one): then a frame read
        elsewhere leaves it as it was."""
        conn = self.conn
        if (
            conn.state is not OPEN
            or conn.current_size is not None  # a fragmented message goes on
            or conn.reader.buffer
            or conn.extensions
            or conn.debug  # websockets logs every frame then: let it
        ):
            return False
        # the generator the parser waits in: between frames that is the reader's
        # `at_eof` (inside the frame loop, inside the server's handshake step)
        waits_in: Any = conn.parser
        while (inner := waits_in.gi_yieldfrom) is not None:
            waits_in = inner
        return waits_in.gi_code is _AT_EOF

    def send_receive_event_to_app(self) -> None:
        """A complete text frame received while the app waits for one (everything
        before it taken) is first offered to the app's `frame_now`, here in the read:
        a chat message is queued for its commit before the loop turns, not in the next
        turn by the woken socket task, and the socket's reading is not paused and
        resumed for it (uvicorn pauses it for every queued frame). What `frame_now`
        declines goes to the inbox as always."""
        now = self.frame_now
        if (
            now is not None
            and self.curr_msg_data_type == "text"
            and not self.close_sent
            and self.queue.parked()
        ):
            data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
            try:
                text = data.decode()
            except UnicodeDecodeError:
                pass  # uvicorn's path below says so and closes
            else:
                if now(text):
                    self.frames = []
                    return
        super().send_receive_event_to_app()

    def send_text_now(self, *texts: str) -> bool:
        """Send text frames now, as `send` would, if nothing stands in the way: the
        handshake answered, no close sent or received, the write buffer not full.
        They are framed at once and written at the end of the loop turn, with the
        other frames of this turn, in one write (`_Cork`). False: nothing was sent,
        the caller sends through `send` (which waits for the buffer, or raises for a
        closed socket)."""
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or self.initial_response is not None
            or not self.writable.is_set()
        ):
            return False
        conn = self.conn
        if (
            conn.state is OPEN
            and not conn.expect_continuation_frame
            and not conn.extensions
            and not conn.debug
        ):
            # what websockets' `send_text` appends, framed here (web/rfc6455.py)
            writes = conn.writes
            for text in texts:
                writes.append(text_frame(text.encode()))
        else:
            try:
                for text in texts:
                    conn.send_text(text.encode())
            except InvalidState:  # checked before the first: it would be the first
                return False
        if not self._corked:
            self._corked = True
            _cork_of(self.loop).add(self)
        return True

    def flush(self) -> None:
        """Write what was framed and not yet written (nothing if `send` or a close
        wrote it meanwhile, or the connection is gone)."""
        self._corked = False
        data = b"".join(self.conn.data_to_send())
        if data and not self.transport.is_closing():
            self.transport.write(data)

    async def send(self, message: ASGISendEvent) -> None:
        taken_over = self._accept is not None
        await super().send(message)
        if not taken_over and message["type"] == "websocket.accept" and self.handshake_complete:
            # answered: the request's and response's headers are not needed again
            # (the scope keeps the request's headers, as the app reads them)
            del self.request
            del self.response
