"""The WebSocket client (RFC 6455) for the load generators (chat_load.py,
peerjs_load.py): frames are parsed in `data_received` and each message handed to a
callback at once; `send_text` writes at once, without awaiting.

Why not the `websockets` client: it gives every socket a reader task, every message
a future and every send an awaited drain. At 800 conversations (1,600 messages/s
sent, three frames received per message) its load generator used 29 % of a core; on
a 2-core machine that also runs the servers it measures and PostgreSQL, that CPU
came out of the measurement (bench/scale_out.py). This client does the same work
with callbacks (and chat_load.py's senders with loop timers): 12 % of a core there.

Only what the benches need: text messages (fragmented ones too), ping answered with
pong, the closing handshake; no extensions, no `wss:`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

try:  # the C version, when websockets was built with it
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover
    from websockets.utils import apply_mask

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 65536  # bytes of the server's handshake answer
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class Closed(ConnectionError):
    """The socket is closed (or closing): nothing more can be sent."""


class HandshakeError(ConnectionError):
    """The server did not switch to the WebSocket protocol."""


def _frame(opcode: int, data: bytes) -> bytes:
    """One final, masked frame (a client must mask every frame it sends)."""
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    mask = os.urandom(4)
    return head + mask + apply_mask(data, mask)


class WsClient(asyncio.Protocol):
    """One client socket. `on_message(data)` gets each text message's UTF-8 bytes;
    `on_close()` is called once when the connection is gone, whoever closed it."""

    def __init__(
        self,
        request: bytes,
        key: str,
        on_message: Callable[[bytes], None],
        on_close: Callable[[], None] | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        self._request = request
        self._accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        self.on_message = on_message
        self.on_close = on_close
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.close_code: int | None = None  # the server's, when it sent a close frame
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._parts: list[bytes] | None = None  # a fragmented text message's frames
        self._closing = False  # our close frame is sent: no more sends

    # ------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport, but are one
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self.opened.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    self._fail(HandshakeError("the handshake answer has no end"))
                return
            problem = self._check_answer(bytes(buf[:end]).decode("latin-1"))
            del buf[: end + 4]
            if problem:
                self._fail(HandshakeError(problem))
                return
            self.opened.set_result(None)
        self._parse()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if not self.opened.done():
            why = f"connection lost before the handshake: {exc}"
            self.opened.set_exception(HandshakeError(why))
        if not self.closed.done():
            self.closed.set_result(None)
            if self.on_close is not None:
                self.on_close()

    # ------------------------------------------------------------ sending
    def send_text(self, text: str | bytes) -> None:
        """Send one text message now (raises Closed once the socket closes)."""
        if self._transport is None or self._closing:
            raise Closed("the socket is closed")
        data = text.encode() if isinstance(text, str) else text
        self._transport.write(_frame(OP_TEXT, data))

    async def close(self, code: int = 1000, timeout: float = 5.0) -> None:
        """The closing handshake: our close frame, then the server's or the end of
        the connection (at most `timeout`), then the connection is closed."""
        transport = self._transport
        if transport is None:
            return
        if not self._closing:
            self._closing = True
            transport.write(_frame(OP_CLOSE, struct.pack("!H", code)))
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        except TimeoutError:
            transport.abort()
            await self.closed

    def abort(self) -> None:
        """End the connection now, without the closing handshake."""
        if self._transport is not None:
            self._transport.abort()

    # ------------------------------------------------------------ receiving
    def _check_answer(self, head: str) -> str | None:
        status, *lines = head.split("\r\n")
        if status.split(" ", 2)[1:2] != ["101"]:
            return f"the server answered {status!r}, not 101"
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("sec-websocket-accept") != self._accept:
            return "the server's Sec-WebSocket-Accept does not match the key"
        if headers.get("sec-websocket-extensions"):
            return "the server chose an extension that was not offered"
        return None

    def _parse(self) -> None:
        buf = self._buf
        size = len(buf)
        pos = 0
        while size - pos >= 2 and self._transport is not None:
            b0, b1 = buf[pos], buf[pos + 1]
            if b1 & 0x80:
                self._fail(ConnectionError("a server frame was masked"), 1002)
                return
            n = b1 & 0x7F
            head = 2
            if n == 126:
                if size - pos < 4:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            if size - pos < head + n:
                break
            payload = bytes(buf[pos + head : pos + head + n])
            pos += head + n
            self._on_frame(bool(b0 & 0x80), b0 & 0x0F, payload)
        if pos:
            del buf[:pos]

    def _on_frame(self, fin: bool, opcode: int, payload: bytes) -> None:
        if opcode == OP_TEXT and fin and self._parts is None:
            self.on_message(payload)
        elif opcode == OP_TEXT and self._parts is None:
            self._parts = [payload]
        elif opcode == OP_CONT and self._parts is not None:
            self._parts.append(payload)
            if fin:
                data, self._parts = b"".join(self._parts), None
                self.on_message(data)
        elif opcode == OP_PING:
            if self._transport is not None and not self._closing:
                self._transport.write(_frame(OP_PONG, payload))
        elif opcode == OP_PONG:
            pass
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if self._transport is not None:
                if not self._closing:  # answer it, then the TCP connection ends
                    self._closing = True
                    self._transport.write(_frame(OP_CLOSE, payload[:2]))
                self._transport.close()
        else:  # binary, or a continuation out of place: not what the benches expect
            self._fail(ConnectionError(f"unexpected frame (opcode {opcode:#x})"), 1003)

    def _fail(self, exc: Exception, code: int | None = None) -> None:
        transport = self._transport
        if not self.opened.done():
            self.opened.set_exception(exc)
        if transport is None:
            return
        if code is not None and not self._closing:
            self._closing = True
            transport.write(_frame(OP_CLOSE, struct.pack("!H", code)))
        transport.close()


async def connect(
    url: str,
    on_message: Callable[[bytes], None],
    on_close: Callable[[], None] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> WsClient:
    """Open a `ws://` URL; returns once the server switched protocols."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or not parts.hostname:
        raise ValueError(f"expected a ws:// URL, got {url!r}")
    port = parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        _, ws = await loop.create_connection(
            lambda: WsClient(request, key, on_message, on_close), parts.hostname, port
        )
        try:
            await ws.opened
        except BaseException:
            ws.abort()
            raise
    return ws
