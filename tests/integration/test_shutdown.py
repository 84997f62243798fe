"""SIGTERM ends a node in bounded time, whatever its clients and Redis do: a socket
that never answers the drain's close is given up after VISAVIS_DRAIN_TIMEOUT_S, and
a shutdown step that hangs (Redis paused with SIGSTOP: the TCP connection is up, no
answer ever comes) is given up after VISAVIS_SHUTDOWN_STEP_TIMEOUT_S, with one log
line naming it. The bounds on `proc.wait` below are upper bounds, not waits."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import signal
from pathlib import Path

import asyncpg
from conftest import LiveServer, free_port, make_server
from helpers import PASSWORD
from redis_server import RedisServer
from wsclient import WsClient, login, new_conversation

from visavis.web.hub import DRAIN_CLOSE

# far above what the steps below need (2 s bounds), far below "forever"
EXIT_BOUND_S = 120


class SilentSocket:
    """A real WebSocket client that says hello and then never reads again: it does not
    answer the server's close frame, and its TCP connection stays up."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, server: LiveServer, token: str) -> SilentSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        writer.write(
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 "), head
        sock = cls(reader, writer)
        sock.send_text(json.dumps({"v": 1, "type": "hello", "id": "h1", "token": token}))
        await writer.drain()
        # the welcome arrives: the server holds this socket as one of its connections
        first = await reader.readexactly(2)
        assert first[0] == 0x81, first  # a text frame
        return sock

    def send_text(self, text: str) -> None:
        data = text.encode()
        assert len(data) < 126
        mask = secrets.token_bytes(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.writer.write(bytes([0x81, 0x80 | len(data)]) + mask + masked)

    def close(self) -> None:
        self.writer.close()


async def test_a_socket_that_never_leaves_holds_no_node(tmp_path: Path) -> None:
    """The drain tells every socket to reconnect elsewhere (1012); one that never
    answers the close is not waited for: the server ends its TCP connection itself,
    and the node exits at once, not after the drain timeout."""
    server = make_server(tmp_path, VISAVIS_DRAIN_TIMEOUT_S="600")
    server.start()
    silent: SilentSocket | None = None
    try:
        _, token = await new_conversation(server.base_url, customer_name="Bob")
        polite = await WsClient.connect(server.ws_url, token=token)
        silent = await SilentSocket.connect(server, token)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        assert await polite.wait_closed(timeout=EXIT_BOUND_S) == DRAIN_CLOSE
        # the silent socket got the close (after the welcome it never read), then EOF
        rest = await asyncio.wait_for(silent.reader.read(), EXIT_BOUND_S)
        close = bytes([0x88, 2]) + DRAIN_CLOSE.to_bytes(2, "big")
        assert rest.endswith(close), rest
        # far below the 600 s drain timeout: nobody waited for the silent socket
        assert await asyncio.to_thread(server.proc.wait, EXIT_BOUND_S) == -signal.SIGTERM
        log = server.log()
        assert "draining: 2 sockets" in log and "still open" not in log, log
        assert "Application shutdown complete." in log, log
    except BaseException:
        print(server.log())
        raise
    finally:
        if silent is not None:
            silent.close()
        server.stop()


async def sigterm_and_expect_overrun(
    server: LiveServer, sockets: list[WsClient], step: str
) -> None:
    """SIGTERM: the sockets are drained (1012), `step` overruns its 2 s bound, said
    in one line, and the node exits all the same."""
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    for ws in sockets:
        assert await ws.wait_closed(timeout=EXIT_BOUND_S) == DRAIN_CLOSE
    assert await asyncio.to_thread(server.proc.wait, EXIT_BOUND_S) == -signal.SIGTERM
    log = server.log()
    assert f"shutdown: {step} did not end within 2 s" in log, log
    assert "Application shutdown complete." in log, log


async def test_a_paused_redis_holds_no_node(tmp_path: Path) -> None:
    """Redis stopped with SIGSTOP (connections up, no answers): the node drains its
    sockets, gives up each step that waits for Redis after its bound with one line
    naming the step, and exits."""
    redis = RedisServer(free_port(), tmp_path / "redis")
    redis.start()
    server = make_server(
        tmp_path,
        VISAVIS_REDIS_URL=redis.url,
        VISAVIS_DRAIN_TIMEOUT_S="2",
        VISAVIS_SHUTDOWN_STEP_TIMEOUT_S="2",
    )
    paused = False
    try:
        server.start()
        server.add_adviser("anna@bank.example", PASSWORD, "Anna")
        cookie, _ = await login(server.base_url, "anna@bank.example", PASSWORD)
        anna = await WsClient.connect(server.ws_url, cookie=cookie, hello=False)
        assert (await anna.request("hello"))["type"] == "welcome"
        assert (await anna.request("status.set", status="available"))["type"] == "ack"
        _, token = await new_conversation(server.base_url, customer_name="Bob")
        customer = await WsClient.connect(server.ws_url, token=token)

        assert redis.proc is not None
        os.kill(redis.proc.pid, signal.SIGSTOP)
        paused = True
        # the first step that talks to Redis is the cluster's sign-off
        await sigterm_and_expect_overrun(server, [anna, customer], "cluster sign-off")
    except BaseException:
        print(server.log())
        raise
    finally:
        if paused and redis.proc is not None:
            os.kill(redis.proc.pid, signal.SIGCONT)
        server.stop()
        redis.stop()


async def test_a_paused_database_holds_no_node(tmp_path: Path, pg_database_url: str) -> None:
    """The node's PostgreSQL backends stopped with SIGSTOP (only this test's: the
    server is shared): closing the pool waits for answers that never come (asyncpg's
    close has no timeout); the step is given up after its bound, named, and the node
    exits."""
    server = make_server(
        tmp_path,
        pg_database_url,
        VISAVIS_DRAIN_TIMEOUT_S="2",
        VISAVIS_SHUTDOWN_STEP_TIMEOUT_S="2",
    )
    paused: list[int] = []
    try:
        server.start()
        _, token = await new_conversation(server.base_url, customer_name="Bob")
        customer = await WsClient.connect(server.ws_url, token=token)
        name = pg_database_url.rpartition("/")[2]
        admin = await asyncpg.connect(pg_database_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            rows = await admin.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
        finally:
            await admin.close()
        assert rows, "the server holds no connection to its database"
        for row in rows:
            os.kill(row["pid"], signal.SIGSTOP)
            paused.append(row["pid"])
        await sigterm_and_expect_overrun(server, [customer], "database")
    except BaseException:
        print(server.log())
        raise
    finally:
        for pid in paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        server.stop()
