"""One lean connection to Redis for the bus's pub/sub: commands packed and replies
parsed by hiredis, in C, on a plain asyncio protocol.

Why not redis-py here: each PUBLISH, and each message a PSUBSCRIBE brings, costs
redis-py about 50 us of CPU in Python (its connection pool, lock, retry and parser
layers). Two workers each pay that for every batch they send, every batch the other
sends, and their own batches coming back: measured on a 2-core machine, that was
0.1 to 0.2 ms of CPU per chat message, as much as the rest of the message's work.
Here a publish plus its delivery costs about 13 us. The rest of the shared state
(presence, claims, limits: a few commands per second) stays on redis-py.

The URL is read as redis-py reads it (`redis://[[user]:password@]host[:port][/db]`,
`rediss://` for TLS, `unix:///path`), so one `VISAVIS_REDIS_URL` serves both.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import hiredis
from redis.asyncio.connection import SSLConnection, parse_url

# told each message a subscription brings: (channel, data)
OnMessage = Callable[[bytes, bytes], None]


@dataclass(frozen=True)
class Address:
    host: str = "localhost"
    port: int = 6379
    path: str | None = None  # a unix socket
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Address:
        kw = parse_url(url)
        return cls(
            host=kw.get("host") or "localhost",
            port=kw.get("port") or 6379,
            path=kw.get("path"),
            tls=kw.get("connection_class") is SSLConnection,
            username=kw.get("username"),
            password=kw.get("password"),
        )


class RespLink(asyncio.Protocol):
    """Commands out in order, replies matched to them in order; on a connection that
    subscribed, `message` and `pmessage` pushes go to `on_message` instead."""

    def __init__(self, on_message: OnMessage | None = None) -> None:
        self._on_message = on_message
        self._reader = hiredis.Reader()
        self._replies: deque[asyncio.Future[Any]] = deque()
        self._transport: asyncio.Transport | None = None
        self._writable: asyncio.Future[None] | None = None
        # done once the connection is gone, with why
        self.closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    @classmethod
    async def open(cls, address: Address, on_message: OnMessage | None = None) -> RespLink:
        loop = asyncio.get_running_loop()
        tls = ssl.create_default_context() if address.tls else None
        link: RespLink
        if address.path is not None:
            _, link = await loop.create_unix_connection(lambda: cls(on_message), address.path)
        else:
            _, link = await loop.create_connection(
                lambda: cls(on_message), address.host, address.port, ssl=tls
            )
        if address.password is not None:
            who = (address.username,) if address.username else ()
            try:
                await link.call("AUTH", *who, address.password)
            except BaseException:
                link.close()
                raise
        return link

    # ------------------------------------------------------------ asyncio
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (uvloop's is not a subclass of asyncio.Transport)
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while True:
            try:
                reply = self._reader.gets()
            except hiredis.ProtocolError as e:
                self._fail(ConnectionError(f"Redis sent what is not RESP: {e}"))
                return
            if reply is False:
                return
            if self._on_message is not None and isinstance(reply, list) and reply:
                if reply[0] == b"message" and len(reply) == 3:
                    self._on_message(reply[1], reply[2])
                    continue
                if reply[0] == b"pmessage" and len(reply) == 4:
                    self._on_message(reply[2], reply[3])
                    continue
            if not self._replies:
                self._fail(ConnectionError(f"a reply nobody asked for: {reply!r:.80}"))
                return
            fut = self._replies.popleft()
            if fut.done():
                continue  # its caller gave up waiting
            if isinstance(reply, hiredis.ReplyError):
                fut.set_exception(reply)
            else:
                fut.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"the connection to Redis closed ({exc or 'by Redis'})"))

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    # ------------------------------------------------------------ use
    def call(self, *parts: str | bytes) -> asyncio.Future[Any]:
        """Send one command; its reply (or the error Redis gave) comes in the future.
        The command is written at once, in order: no await between two calls."""
        if self.closed.done() or self._transport is None:
            raise ConnectionError("the connection to Redis is closed")
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies.append(fut)
        # the stub types a 1-tuple where any number of parts is meant
        self._transport.write(hiredis.pack_command(cast(Any, parts)))
        return fut

    async def writable(self) -> None:
        """Returns once the kernel takes more (Redis reads what we sent)."""
        if self._writable is not None:
            await asyncio.shield(self._writable)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _fail(self, exc: Exception) -> None:
        while self._replies:
            fut = self._replies.popleft()
            if not fut.done():
                fut.set_exception(exc)
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        if not self.closed.done():
            self.closed.set_result(str(exc))
        if self._transport is not None:
            self._transport.close()
