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

Order holds: a frame is framed into the socket's websockets connection at once, and
every write (this one, uvicorn's `send`, the close) takes what that connection has
framed so far, in order.

Received frames are taken straight from the socket's inbox (`receive_data`, as
`RECEIVE`), not through Starlette's `WebSocket.receive` and its state checks, which
matter only for the connect and the disconnect (those still go that way).

Several frames can be sent at once (a reconnecting customer's `welcome` and
`subscribed`). The app may also look at a frame already received before taking it
(`peek_text`, as `PEEK`): the gateway answers a `hello` and the `subscribe` sent
right behind it together.

The opening handshake of a plain, valid upgrade request (the one browsers send) is
done here from the request uvicorn's HTTP protocol already parsed (`take_over`,
called by web/deadlines.py): uvicorn parses the request with httptools, then writes it
out again for websockets to parse a second time in Python, which checks it, builds a
response with a formatted Date that uvicorn deletes again for its own, and a Headers
object for each — a quarter of a reconnect storm's server CPU. The same checks as
websockets' `ServerProtocol.process_request` are made here (GET, HTTP/1.1, an
`Upgrade: websocket`, `Connection: upgrade`, one 16-byte base64 key, version 13, no
request body); any request that is not plainly valid, or asks for something this
path does not do (extensions, subprotocols), goes the old way, so websockets still
answers every bad one as before.

Everything else (framing, the closing handshake, limits) is uvicorn's and
websockets'.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import re
import weakref
from typing import Any
from urllib.parse import unquote

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import (
    ClientDisconnected,
    get_client_addr,
    get_path_with_query_string,
)
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.exceptions import InvalidState
from websockets.http11 import MAX_LINE_LENGTH, MAX_NUM_HEADERS, Request
from websockets.protocol import CONNECTING, OPEN

# the scope extensions that hold the socket's `send_text_now`, its inbox's
# `peek_text` and its `receive_data`
SEND_NOW = "visavis.send_now"
PEEK = "visavis.peek"
RECEIVE = "visavis.receive"

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 4.2.2
# an HTTP token (RFC 9110 5.6.2), as websockets parses Connection's options
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
# headers this path leaves to websockets (it would negotiate, or refuse, them)
_NOT_HERE = frozenset(
    (b"sec-websocket-extensions", b"sec-websocket-protocol", b"transfer-encoding")
)


def accept_key(headers: list[tuple[bytes, bytes]], method: str, http_version: str) -> bytes | None:
    """`Sec-WebSocket-Accept` for a plainly valid upgrade request (as websockets'
    `process_request` checks it), None for any other request."""
    if method != "GET" or http_version != "1.1" or len(headers) > MAX_NUM_HEADERS:
        return None
    connection = False
    upgrade: list[bytes] = []
    key: list[bytes] = []
    version: list[bytes] = []
    origins = 0
    for name, value in headers:
        if len(value) + len(name) + 4 > MAX_LINE_LENGTH or name in _NOT_HERE:
            return None
        if name == b"connection":
            options = [option.strip(b" \t") for option in value.split(b",")]
            if not all(_TOKEN.fullmatch(option) for option in options):
                return None
            connection = connection or any(o.lower() == b"upgrade" for o in options)
        elif name == b"upgrade":
            upgrade.append(value)
        elif name == b"sec-websocket-key":
            key.append(value)
        elif name == b"sec-websocket-version":
            version.append(value)
        elif name == b"origin":
            origins += 1
        elif name == b"content-length" and value != b"0":
            return None
    if not connection or origins > 1 or version != [b"13"] or len(key) != 1:
        return None
    if len(upgrade) != 1 or upgrade[0].lower() != b"websocket":
        return None
    try:
        raw_key = base64.b64decode(key[0], validate=True)
    except binascii.Error:
        return None
    if len(raw_key) != 16:
        return None
    return base64.b64encode(hashlib.sha1(key[0] + _GUID).digest())


def take_over(http: HttpToolsProtocol) -> bool:
    """Upgrade `http`'s connection (its request parsed up to the upgrade) to a lean
    WebSocket here if the request is plainly valid; False: uvicorn's way must."""
    cls = http.ws_protocol_class
    if not (isinstance(cls, type) and issubclass(cls, LeanWebSocketProtocol)):
        return False
    target: bytes = http.url
    if not target.startswith(b"/") or not target.isascii():
        return False
    accept = accept_key(http.headers, http.scope["method"], http.scope["http_version"])
    if accept is None:
        return False
    http.connections.discard(http)
    ws = cls(config=http.config, server_state=http.server_state, app_state=http.app_state)
    ws.adopt(http, target, accept)
    http.transport.set_protocol(ws)
    return True


class Inbox:
    """The part of `asyncio.Queue` the protocol uses, for one reader (the app)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[ASGIReceiveEvent] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    def peek_text(self) -> str | None:
        """The text of the next frame if one was received already (not taken)."""
        if not self._items:
            return None
        item: Any = self._items[0]
        return item.get("text") if item["type"] == "websocket.receive" else None

    def qsize(self) -> int:
        return len(self._items)

    async def wait(self) -> None:
        """Until something was received."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

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
    """The sockets of one event loop with framed, unwritten frames; written together at
    the end of the loop turn. Two hops: the first lets the callbacks queued in the
    same turn run (a group commit's acks are future callbacks queued after its
    events were pushed), the second writes."""

    __slots__ = ("_loop", "_pending", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: list[LeanWebSocketProtocol] = []
        self._scheduled = False

    def add(self, proto: LeanWebSocketProtocol) -> None:
        self._pending.append(proto)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._loop.call_soon, self._flush)

    def _flush(self) -> None:
        pending, self._pending, self._scheduled = self._pending, [], False
        for proto in pending:
            proto.flush()


_corks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Cork] = weakref.WeakKeyDictionary()


def _cork_of(loop: asyncio.AbstractEventLoop) -> _Cork:
    cork = _corks.get(loop)
    if cork is None:
        cork = _corks[loop] = _Cork(loop)
    return cork


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.queue: Any = Inbox()  # uvicorn's annotation says asyncio.Queue
        self.writable: Any = Gate()
        self._corked = False  # frames framed by send_text_now await the turn's end
        # `Sec-WebSocket-Accept` while a handshake taken over (`adopt`) awaits the app
        self._accept: bytes | None = None

    def adopt(self, http: HttpToolsProtocol, target: bytes, accept: bytes) -> None:
        """What `connection_made` and `handle_connect` do, from `http`'s parsed request
        (see `take_over`); the 101 is written when the app accepts."""
        self.connections.add(self)
        self.transport = http.transport
        self.server = http.server
        self.client = http.client
        self.scheme = "wss" if http.scheme == "https" else "ws"
        self.handshake_initiated = True
        self._accept = accept
        # frames the client sends before the 101 are parsed as frames, as after
        # websockets' own handshake (its parser: frames right after the request)
        conn = self.conn
        conn.state = OPEN
        conn.parser = conn.parse()
        next(conn.parser)
        conn.state = CONNECTING
        raw_path, _, query_string = target.partition(b"?")
        root = self.root_path
        self.scope = {
            "type": "websocket",
            "asgi": {"version": self.asgi_version, "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": self.scheme,
            "server": self.server,
            "client": self.client,
            "root_path": root,
            "path": root + unquote(raw_path.decode("ascii")),
            "raw_path": root.encode("ascii") + raw_path,
            "query_string": query_string,
            "headers": http.headers,
            "subprotocols": [],
            "state": self.app_state.copy(),
            "extensions": {"websocket.http.response": {}},
        }
        self._offer(self.scope)
        self.queue.put_nowait({"type": "websocket.connect"})
        task = self.loop.create_task(self.run_asgi())
        task.add_done_callback(self.on_task_complete)
        self.tasks.add(task)

    def _write_101(self, message: Any) -> None:
        """uvicorn's accept, for an adopted handshake: the same response (websockets'
        three headers, uvicorn's default ones, the app's)."""
        accept, self._accept = self._accept, None
        assert accept is not None
        if self.logger.isEnabledFor(logging.INFO):
            scope: Any = self.scope
            where = (get_client_addr(scope), get_path_with_query_string(scope))
            self.logger.info('%s - "WebSocket %s" [accepted]', *where)
        if self.transport.is_closing():
            return
        head = [
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n" % accept
        ]
        for name, value in self.default_headers + list(message.get("headers", [])):
            head.append(b"%s: %s\r\n" % (name.lower(), value))
        if subprotocol := message.get("subprotocol"):
            head.append(b"Sec-WebSocket-Protocol: %s\r\n" % subprotocol.encode())
        head.append(b"\r\n")
        self.handshake_complete = True
        self.conn.state = OPEN
        self.transport.write(b"".join(head))
        self.start_keepalive()

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)  # none when the handshake was refused
        if scope is not None:
            self._offer(scope)

    def _offer(self, scope: Any) -> None:
        extensions = scope.setdefault("extensions", {})
        extensions[SEND_NOW] = self.send_text_now
        extensions[PEEK] = self.queue.peek_text
        extensions[RECEIVE] = self.receive_data

    async def receive_data(self) -> str | bytes | None:
        """The next received frame's text (or bytes), taken as `receive` takes it, for
        the gateway's loop: without the ASGI message going through Starlette's
        `WebSocket.receive`, whose state checks are for the connect and disconnect
        messages. None: the next message is not a frame (a disconnect); it is left for
        `receive`, and so for Starlette."""
        inbox: Inbox = self.queue
        await inbox.wait()
        data = inbox.take_data()
        if data is not None and self.read_paused and inbox.empty():
            # as `receive`: the transport paused reading when it queued a frame
            self.read_paused = False
            self.transport.resume_reading()
        return data

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
        try:
            for text in texts:
                self.conn.send_text(text.encode())
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
        if self._accept is not None and message["type"] == "websocket.accept":
            await self.writable.wait()
            if self.disconnected:
                raise ClientDisconnected()
            self._write_101(message)
            return
        await super().send(message)
        if self._accept is not None:  # refused before the 101: as uvicorn does
            self._accept = None
        elif message["type"] == "websocket.accept" and self.handshake_complete:
            # answered: the request's and response's headers are not needed again
            # (the scope keeps the request's headers, as the app reads them)
            del self.request
            del self.response
