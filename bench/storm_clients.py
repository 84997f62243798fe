"""The reconnecting clients of `bench/idle_sockets.py --storm`, spread over processes.

A client written with the `websockets` library costs more CPU per socket than the
server does (its handshake, its frame objects, its tasks): one bench process could
not open 5,000 sockets within seconds on this machine, so the bench, not the
server, set the time. Here each client speaks the protocol directly on an asyncio
stream, as a browser does: the HTTP upgrade (the server's `Sec-WebSocket-Accept` is
checked), masked text frames (RFC 6455), `hello` with the token, `subscribe` with
the last seq it had, then it waits for `welcome` and `subscribed` (any refusal,
close or malformed frame counts as a failed attempt and is retried). The back-off
between attempts is the web client's (frontend/src/lib/retry-policy.ts).

`run_worker` is a process's main: it gets its share of the sockets, waits for `go`
(sent when the server was killed), brings every socket back, reports when each was
back (time.monotonic, one clock for all processes on Linux) and its own CPU, then
holds the sockets until told to close them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import random
import resource
import struct
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_FRAME = 1 << 20


@dataclass
class Share:
    """One worker's part of the storm."""

    url: str
    sockets: list[tuple[str, str, int]]  # (conversation id, token, last seq it had)
    seed: int
    timeout: float


@dataclass
class Report:
    back_at: list[float] = field(default_factory=list)  # time.monotonic() per socket
    # when the restarted server first accepted a connection of this process: it
    # listens once its start is done, and may serve sockets before it answers the
    # bench's /healthz poll
    first_accept: float | None = None
    attempts: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    cpu_s: float = 0.0  # this process, from `go` until all were back


# the socket was lost without a close frame (the server was killed): what a browser
# reports as 1006
CLOSE_ABNORMAL = 1006
CLOSE_SERVICE_RESTART = 1012


def reconnect_delay(attempts: int, rng: random.Random, close_code: int) -> float:
    """The web client's (retry-policy.ts `reconnectDelay`, online): seconds. The first
    try after a close 1012 is spread evenly over a second (`RESTART_SPREAD_MS`)."""
    if attempts == 0 and close_code == CLOSE_SERVICE_RESTART:
        return 1.0 * rng.random()
    ceiling: float = min(2.0, 0.25 * 2.0 ** min(attempts, 20))
    return ceiling / 2 + ceiling / 2 * rng.random()


class Refused(Exception):
    """The server answered, but not as a working socket should."""


class LeanSocket:
    """One client WebSocket: the upgrade, masked text frames out, frames in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, host: str, port: int, path: str, report: Report) -> LeanSocket:
        reader, writer = await asyncio.open_connection(host, port)
        if report.first_accept is None:
            report.first_accept = time.monotonic()
        try:
            key = base64.b64encode(os.urandom(16))
            writer.write(
                b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n" % (path.encode(), host.encode(), port, key)
            )
            head = await reader.readuntil(b"\r\n\r\n")
            expect = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
            lines = head.split(b"\r\n")
            if not lines[0].startswith(b"HTTP/1.1 101"):
                raise Refused(lines[0].decode(errors="replace"))
            accept = [
                line.split(b":", 1)[1].strip()
                for line in lines[1:]
                if line.lower().startswith(b"sec-websocket-accept:")
            ]
            if accept != [expect]:
                raise Refused("wrong Sec-WebSocket-Accept")
        except BaseException:
            writer.close()
            raise
        return cls(reader, writer)

    def send_text(self, text: str) -> None:
        payload = text.encode()
        n = len(payload)
        mask = os.urandom(4)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        # XOR with the repeated mask as one big integer: no per-byte Python loop
        reps = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(reps, "big")).to_bytes(n, "big")
        self.writer.write(head + mask + masked)

    async def receive(self) -> dict[str, Any]:
        """The next text frame, decoded (server frames are unmasked, RFC 6455 5.1)."""
        b0, b1 = await self.reader.readexactly(2)
        if b1 & 0x80:
            raise Refused("masked frame from the server")
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
        if n > MAX_FRAME:
            raise Refused(f"frame of {n} bytes")
        data = await self.reader.readexactly(n)
        opcode = b0 & 0x0F
        if opcode == 0x8:
            code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
            raise Refused(f"closed {code}")
        if opcode != 0x1 or not b0 & 0x80:
            raise Refused(f"unexpected frame opcode {opcode}")
        frame: dict[str, Any] = json.loads(data)
        return frame

    def close(self) -> None:
        self.writer.close()


async def come_back(
    host: str,
    port: int,
    path: str,
    cid: str,
    token: str,
    after_seq: int,
    timeout: float,
    report: Report,
) -> LeanSocket:
    """One attempt: upgrade, hello, subscribe; the socket once `subscribed` came."""
    sock = await asyncio.wait_for(LeanSocket.connect(host, port, path, report), timeout)
    try:
        sock.send_text(json.dumps({"v": 1, "type": "hello", "id": "h", "token": token}))
        sock.send_text(
            json.dumps(
                {
                    "v": 1,
                    "type": "subscribe",
                    "id": "s",
                    "conversation_id": cid,
                    "after_seq": after_seq,
                }
            )
        )
        welcomed = False
        async with asyncio.timeout(timeout):
            while True:
                frame = await sock.receive()
                kind = frame.get("type")
                if kind == "welcome" and frame.get("id") == "h":
                    welcomed = True
                elif kind == "subscribed" and frame.get("id") == "s":
                    if not welcomed:
                        raise Refused("subscribed before welcome")
                    return sock
                elif kind == "error":
                    raise Refused(f"error {frame.get('code')}")
                elif kind == "event" and frame.get("seq", 0) <= after_seq:
                    raise Refused("an event the client already had was sent again")
    except BaseException:
        sock.close()
        raise


async def storm(share: Share, conn: Connection) -> None:
    parts = urlsplit(share.url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    rng = random.Random(share.seed)
    loop = asyncio.get_running_loop()
    report = Report()
    socks: list[LeanSocket] = []

    async def one(cid: str, token: str, after: int) -> None:
        for attempt in range(10_000):
            await asyncio.sleep(reconnect_delay(attempt, rng, CLOSE_ABNORMAL))
            report.attempts += 1
            try:
                sock = await come_back(host, port, path, cid, token, after, share.timeout, report)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, Refused, ValueError) as exc:
                name = type(exc).__name__
                report.failures[name] = report.failures.get(name, 0) + 1
                continue
            socks.append(sock)
            report.back_at.append(time.monotonic())
            return

    await loop.run_in_executor(None, conn.recv)  # "go": the server was killed
    cpu0 = _cpu_s()
    await asyncio.gather(*(one(*s) for s in share.sockets))
    report.cpu_s = _cpu_s() - cpu0
    conn.send(report)
    await loop.run_in_executor(None, conn.recv)  # "close"
    for sock in socks:
        sock.close()
    await asyncio.sleep(0)
    conn.send("closed")


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_worker(share: Share, conn: Connection) -> None:
    """A storm process's main (multiprocessing, spawned)."""
    # below the server: it must not wait for the CPU behind the clients' refused
    # attempts while it starts (real clients are not on its machine)
    os.nice(5)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    asyncio.run(storm(share, conn))
