"""The load generators' WebSocket client (bench/ws_client.py) against a real
`websockets` server: what a bench reads from it is only as true as its framing."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from ws_client import Closed, HandshakeError, WsClient, connect

SIZES = [0, 5, 125, 126, 65535, 65536, 200_000]  # each of the three length forms


class Peer:
    """The server side: what it saw, by path."""

    def __init__(self) -> None:
        self.close_codes: asyncio.Queue[int | None] = asyncio.Queue()
        self.headers: list[Headers] = []

    async def handle(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        self.headers.append(ws.request.headers if ws.request else Headers())
        try:
            if path == "/echo":
                async for message in ws:
                    await ws.send(f"{len(message)}:{str(message)[:10]}")
            elif path == "/sizes":
                for n in SIZES:
                    await ws.send("x" * n)
                await ws.wait_closed()
            elif path == "/fragments":
                await ws.send(["ab", "cd", "ef"])  # one message in three frames
                await ws.send("after")
                await ws.wait_closed()
            elif path == "/ping":
                await asyncio.wait_for(await ws.ping(b"hi"), 10)
                await ws.send("ponged")
                await ws.wait_closed()
            elif path == "/close":
                await ws.close(4001, "bye")
            elif path == "/binary":
                await ws.send(b"\x00\x01")
                await ws.wait_closed()
        except ConnectionClosed:
            pass
        self.close_codes.put_nowait(ws.close_code)


def refuse(ws: ServerConnection, request: Request) -> Response | None:
    if request.path == "/refused":
        return ws.respond(403, "no\n")
    return None


@pytest.fixture
async def peer() -> AsyncIterator[tuple[Peer, str]]:
    p = Peer()
    server: Server
    async with serve(p.handle, "127.0.0.1", 0, process_request=refuse, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield p, f"ws://127.0.0.1:{port}"


class Inbox:
    def __init__(self) -> None:
        self.messages: asyncio.Queue[bytes] = asyncio.Queue()
        self.closed = asyncio.Event()

    def on_message(self, data: bytes) -> None:
        self.messages.put_nowait(data)

    def on_close(self) -> None:
        self.closed.set()

    async def next(self) -> bytes:
        return await asyncio.wait_for(self.messages.get(), 10)

    async def open(self, url: str, headers: dict[str, str] | None = None) -> WsClient:
        return await connect(url, self.on_message, self.on_close, headers)


async def test_messages_of_every_length_form_arrive_whole_and_in_order(
    peer: tuple[Peer, str],
) -> None:
    _, base = peer
    inbox = Inbox()
    ws = await inbox.open(base + "/sizes")
    for n in SIZES:
        assert await inbox.next() == b"x" * n
    await ws.close()
    assert inbox.closed.is_set()


async def test_sent_messages_are_masked_and_framed_for_every_length(
    peer: tuple[Peer, str],
) -> None:
    server, base = peer
    inbox = Inbox()
    ws = await inbox.open(base + "/echo", {"Cookie": "visavis_session=abc"})
    for n in SIZES:
        ws.send_text("é" + "y" * n)  # str: sent as UTF-8
        assert await inbox.next() == f"{n + 1}:{('é' + 'y' * n)[:10]}".encode()
    ws.send_text(b'{"a":1}')  # bytes: already UTF-8
    assert await inbox.next() == b'7:{"a":1}'
    assert server.headers[0]["Cookie"] == "visavis_session=abc"
    await ws.close()
    assert await asyncio.wait_for(server.close_codes.get(), 10) == 1000
    with pytest.raises(Closed):
        ws.send_text("too late")


async def test_a_fragmented_message_is_joined(peer: tuple[Peer, str]) -> None:
    _, base = peer
    inbox = Inbox()
    ws = await inbox.open(base + "/fragments")
    assert await inbox.next() == b"abcdef"
    assert await inbox.next() == b"after"
    await ws.close()


async def test_a_ping_is_answered(peer: tuple[Peer, str]) -> None:
    _, base = peer
    inbox = Inbox()
    ws = await inbox.open(base + "/ping")
    assert await inbox.next() == b"ponged"
    await ws.close()


async def test_the_servers_close_is_answered_and_reported(peer: tuple[Peer, str]) -> None:
    server, base = peer
    inbox = Inbox()
    ws = await inbox.open(base + "/close")
    await asyncio.wait_for(inbox.closed.wait(), 10)
    assert ws.close_code == 4001
    assert await asyncio.wait_for(server.close_codes.get(), 10) == 4001
    with pytest.raises(Closed):
        ws.send_text("x")


async def test_a_binary_message_ends_the_connection_with_1003(peer: tuple[Peer, str]) -> None:
    server, base = peer
    inbox = Inbox()
    await inbox.open(base + "/binary")
    await asyncio.wait_for(inbox.closed.wait(), 10)
    assert await asyncio.wait_for(server.close_codes.get(), 10) == 1003
    assert inbox.messages.empty()


async def test_a_refused_upgrade_raises(peer: tuple[Peer, str]) -> None:
    _, base = peer
    with pytest.raises(HandshakeError, match="403"):
        await Inbox().open(base + "/refused")
    with pytest.raises(ValueError, match="ws://"):
        await Inbox().open("wss://127.0.0.1:1/")
