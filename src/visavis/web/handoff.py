"""A conversation's sockets in one worker process (`visavis serve --workers N`).

Each worker serves the sockets the kernel gave it (web/serving.py); a chat message
from a customer on one worker to its adviser on another crosses the Redis bus, which
cost each worker ~40 % more CPU per message than one process alone. So every adviser
has a home worker (web/homes.py), and a WebSocket moves there right after its
`hello`, once it is known whose it is and before anything was made for it: an
adviser's socket to the adviser's home, a customer's to the home of the adviser the
conversation is assigned to (a queued conversation's stays where it is, until an
adviser takes it: then, if that adviser's home is another worker, its socket is
closed with 4010, `MOVED_CLOSE`, and the client's reconnect brings it home).

The move hands the live TCP connection to the other worker, unseen by the client
(no reconnect): its fd, with the request's scope and the frames this worker had
read (the `hello`, and a `subscribe` pipelined behind it), goes over a Unix socket
(web/fdpass.py). The receiving worker makes the same WebSocket protocol on it
(`HandedOver`), already open: the app is started with the scope, its accept writes
nothing (the 101 went out from here), and it receives the frames as if it had read
them. This worker then forgets the socket without a word on the wire (it closes its
fd only) and ends its app's part as for a socket that never said hello: nothing
was announced for it, so nothing is taken back.

Anything that fails keeps the socket here (one warning line): the Redis bus still
carries every message between workers, a handoff only saves its cost. A socket that
arrived by handoff never moves again, so a reassignment meanwhile cannot bounce it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.websockets import WebSocket
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.protocol import OPEN

from visavis.errors import VisavisError
from visavis.protocol import messages as m
from visavis.web.fdpass import Channel, PassError, pass_socket
from visavis.web.homes import Homes
from visavis.web.leanws import RECEIVE, Inbox, LeanWebSocketProtocol
from visavis.web.metrics import HANDOFFS, WORKER_SOCKETS

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from visavis.auth.service import AuthService
    from visavis.auth.tokens import CustomerTokens
    from visavis.conversations.service import ConversationService

log = logging.getLogger(__name__)

# in the scope's extensions of a socket that arrived by handoff: it stays
HANDED_OVER = "visavis.handed_over"
HANDOFF_TIMEOUT_S = 2.0  # then the socket stays where it is
# "moved": served by another worker from now on; reconnect at once (docs/protocol.md)
MOVED_CLOSE = 4010


@dataclass(frozen=True)
class Workers:
    """This process's place among `serve --workers N`: its index, N, and every
    worker's handoff channel (web/fdpass.py's `channel_address`)."""

    index: int
    count: int
    addresses: tuple[str, ...]


_here: Workers | None = None  # set in a worker process before its server starts


_homes: Homes | None = None  # with several workers, once the app has its Redis


def set_workers(workers: Workers | None) -> None:
    global _here
    _here = workers


def use_redis(redis: aioredis.Redis) -> None:
    """The app's Redis, where the advisers' homes are kept (web/homes.py); nothing
    moves before this, nor in a single process."""
    global _homes
    here = _here
    _homes = Homes(redis, here.count) if here is not None and here.count > 1 else None


def moves() -> bool:
    """Are sockets moved to their adviser's worker here (one worker of several)?"""
    return _homes is not None


async def home_of(adviser_id: str) -> int | None:
    """The adviser's home worker; None: not one worker of several."""
    return None if _homes is None else await _homes.of(adviser_id)


async def away_from_home(adviser_id: str) -> bool:
    """Is this one worker of several, and not the adviser's home? A customer's socket
    here is closed with `MOVED_CLOSE` once the adviser takes its conversation: the
    client connects again at once, and its `hello` brings it home."""
    here = _here
    home = await home_of(adviser_id)
    return here is not None and home is not None and home != here.index


class HomeWorkers:
    """The gateway's side: moves a socket that said hello to its home worker."""

    def __init__(
        self,
        tokens: CustomerTokens,
        conversations: ConversationService,
        auth: AuthService,
        session_cookie: str,
    ) -> None:
        self.tokens = tokens
        self.conversations = conversations
        self.auth = auth
        self.session_cookie = session_cookie
        self.sockets = WORKER_SOCKETS.labels(str(_here.index if _here else 0))

    async def moved(self, ws: WebSocket, hello: m.Hello, raw: str | bytes) -> bool:
        """True: the socket was handed to its home worker, which serves it from now
        on; this process must forget it (and announce nothing for it). False: it is
        served here (one process, already home, queued, or the handoff failed)."""
        here = _here
        if here is None or here.count < 2 or not isinstance(raw, str):
            return False
        extensions = ws.scope.get("extensions") or {}
        proto = extensions.get(RECEIVE)
        if extensions.get(HANDED_OVER) or not isinstance(proto, LeanWebSocketProtocol):
            return False
        adviser_id = await self._adviser_of(ws, hello)
        if adviser_id is None:
            return False
        home = await home_of(adviser_id)
        if home is None or home == here.index:
            return False
        return await hand_over(proto, raw, here.addresses[home], home)

    async def _adviser_of(self, ws: WebSocket, hello: m.Hello) -> str | None:
        """The adviser whose home the socket belongs to; None: it stays (a queued
        conversation, or a hello the gateway refuses right after, as always)."""
        try:
            if hello.token is not None:
                conv = await self.conversations.get(self.tokens.check(hello.token))
                adviser = conv["adviser"]
                return None if adviser is None else adviser.get("id")
            adviser_view, _csrf = await self.auth.check_session(ws.cookies.get(self.session_cookie))
            return adviser_view.id
        except VisavisError:
            return None


def _unmovable(proto: LeanWebSocketProtocol) -> str | None:
    """Why this socket cannot be handed over now; None: it can."""
    if proto.scheme != "ws":
        return "TLS is this process's"
    if proto.close_sent or proto.disconnected or proto.transport.is_closing():
        return "closing"
    if proto.conn.state is not OPEN or proto.conn.extensions or proto.frames:
        return "not between messages"
    if not proto._between_frames():
        return "in the middle of a frame"
    if proto._corked or proto.conn.writes or proto.transport.get_write_buffer_size():
        return "output not yet written"
    inbox: Inbox = proto.queue
    if inbox.frames() is None:
        return "a disconnect is queued"
    return None


async def hand_over(proto: LeanWebSocketProtocol, hello: str, address: str, home: int) -> bool:
    """Pass the socket (its fd, scope, `hello` and the frames read behind it) to the
    worker at `address`; True once that one serves it and this process forgot it."""
    transport = proto.transport
    why = _unmovable(proto)
    if why is not None:
        HANDOFFS.labels("failed").inc()
        log.warning("websocket not handed to worker %d: %s", home, why)
        return False
    was_paused = proto.read_paused
    transport.pause_reading()  # what comes next stays in the kernel, for the other worker
    inbox: Inbox = proto.queue
    frames = inbox.frames() or []
    fd = -1
    try:
        message = _message(proto.scope, [hello, *frames])
        sock: Any = transport.get_extra_info("socket")
        fd = os.dup(sock.fileno())
        still_mine = lambda: _unmovable(proto) is None and inbox.qsize() == len(frames)  # noqa: E731
        await pass_socket(address, fd, message, HANDOFF_TIMEOUT_S, still_mine)
    except (PassError, OSError) as exc:
        HANDOFFS.labels("failed").inc()
        log.warning("websocket not handed to worker %d (served here): %s", home, exc)
        if not was_paused and not transport.is_closing():
            transport.resume_reading()
        return False
    finally:
        if fd >= 0:
            os.close(fd)
    HANDOFFS.labels("sent").inc()
    # Forgotten without a word on the wire: no close frame (close_sent stops every
    # write), and closing the transport closes this process's fd only (no shutdown:
    # no FIN while the other worker holds the connection).
    inbox.clear()
    proto.close_sent = True
    transport.close()
    return True


def _message(scope: Any, frames: list[str | bytes]) -> bytes:
    """What the other worker needs of the request (JSON: see web/fdpass.py)."""
    return json.dumps(
        {
            "path": scope["path"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query_string": scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "subprotocols": list(scope.get("subprotocols") or []),
            "frames": [
                {"text": f} if isinstance(f, str) else {"bytes": base64.b64encode(f).decode()}
                for f in frames
            ],
        }
    ).encode()


@dataclass(frozen=True)
class Moved:
    """A socket's request and frames as the worker that handed it over sent them."""

    path: str
    raw_path: bytes
    query_string: bytes
    headers: list[tuple[bytes, bytes]]
    subprotocols: list[str]
    frames: list[str | bytes]

    @classmethod
    def parse(cls, message: bytes) -> Moved:
        data = json.loads(message)
        return cls(
            path=str(data["path"]),
            raw_path=data["raw_path"].encode("latin-1"),
            query_string=data["query_string"].encode("latin-1"),
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in data["headers"]],
            subprotocols=[str(p) for p in data["subprotocols"]],
            frames=[
                f["text"] if "text" in f else base64.b64decode(f["bytes"]) for f in data["frames"]
            ],
        )


class HandedOver(LeanWebSocketProtocol):
    """The WebSocket protocol of a socket handed over by another worker: open from
    the start (that one answered the handshake), the frames it had read received
    first, the app's accept answered without a write."""

    def __init__(
        self, config: Config, server_state: ServerState, app_state: dict[str, Any], moved: Moved
    ) -> None:
        super().__init__(config, server_state, app_state)
        self._moved = moved
        self._accept_pending = True
        self.handshake_initiated = True
        self.handshake_complete = True
        conn = self.conn
        conn.state = OPEN  # frames from the first byte on, no request to parse
        conn.parser = conn.parse()
        next(conn.parser)
        # before the transport reads anything: what it reads comes after these
        self.queue.put_nowait({"type": "websocket.connect"})
        for frame in moved.frames:
            if isinstance(frame, str):
                self.queue.put_nowait({"type": "websocket.receive", "text": frame})
            else:
                self.queue.put_nowait({"type": "websocket.receive", "bytes": frame})

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        moved = self._moved
        extensions: dict[str, Any] = {"websocket.http.response": {}, HANDED_OVER: True}
        self.scope = {
            "type": "websocket",
            "asgi": {"version": self.asgi_version, "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": self.scheme,
            "server": self.server,
            "client": self.client,
            "root_path": self.root_path,
            "path": moved.path,
            "raw_path": moved.raw_path,
            "query_string": moved.query_string,
            "headers": moved.headers,
            "subprotocols": moved.subprotocols,
            "state": self.app_state.copy(),
            "extensions": extensions,
        }
        self._offer(self.scope)
        task = self.loop.create_task(self.run_asgi())
        task.add_done_callback(self.on_task_complete)
        self.tasks.add(task)

    async def send(self, message: Any) -> None:
        if self._accept_pending and message["type"] == "websocket.accept":
            self._accept_pending = False  # the 101 went out from the other worker
            return
        await super().send(message)


class Arrivals:
    """The receiving side: sockets other workers hand to this one's server."""

    def __init__(self, server: uvicorn.Server) -> None:
        self.server = server

    def offer(self, message: bytes) -> Callable[[socket.socket], Awaitable[None]] | None:
        server = self.server
        cls = server.config.ws_protocol_class
        lean = isinstance(cls, type) and issubclass(cls, LeanWebSocketProtocol)
        if server.should_exit or not lean:
            return None  # draining, or another WebSocket protocol than the lean one
        try:
            moved = Moved.parse(message)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("handoff refused: a message not as expected: %r", exc)
            return None

        async def start(sock: socket.socket) -> None:
            config = server.config
            proto = HandedOver(config, server.server_state, server.lifespan.state, moved)
            try:
                await asyncio.get_running_loop().connect_accepted_socket(lambda: proto, sock)
            except BaseException:
                sock.close()  # the client sees the connection close, and reconnects
                raise
            HANDOFFS.labels("received").inc()

        return start


async def open_arrivals(server: uvicorn.Server) -> Channel | None:
    """This worker's handoff channel, taking sockets for `server`; None for a single
    process, or if the channel cannot be opened (then sockets are not moved here)."""
    here = _here
    if here is None or here.count < 2:
        return None
    channel = Channel(here.addresses[here.index], Arrivals(server).offer)
    try:
        await channel.start()
    except OSError as exc:
        log.warning("handoff channel of worker %d not opened: %s", here.index, exc)
        return None
    return channel
