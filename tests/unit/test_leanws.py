"""The lean WebSocket protocol (web/leanws.py): its stand-ins for asyncio.Queue and
asyncio.Event, and its frames written at the end of the loop turn, in order with
uvicorn's `send` and the close (the protocol also runs in every integration test's
server)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import pytest
from until import until
from uvicorn import Config, Server
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from visavis.web import leanws
from visavis.web.leanws import (
    RECEIVE,
    SEND_NOW,
    Gate,
    Inbox,
    LeanWebSocketProtocol,
    Receiver,
    next_frame,
    write_corked,
)
from visavis.web.rfc6455 import take_text_frames


async def test_the_inbox_hands_frames_over_in_order_and_waits_for_the_next() -> None:
    inbox = Inbox()
    inbox.put_nowait({"type": "websocket.connect"})
    assert not inbox.empty()
    assert await inbox.get() == {"type": "websocket.connect"}
    waiting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    inbox.put_nowait({"type": "websocket.receive", "text": "a"})
    inbox.put_nowait({"type": "websocket.receive", "text": "b"})
    assert await waiting == {"type": "websocket.receive", "text": "a"}
    assert inbox.qsize() == 1
    assert await inbox.get() == {"type": "websocket.receive", "text": "b"}
    assert inbox.empty()


async def test_a_cancelled_wait_loses_no_frame() -> None:
    inbox = Inbox()
    waiting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert await inbox.get() == {"type": "websocket.disconnect", "code": 1000}


async def test_a_waiting_socket_keeps_one_future_until_a_message_comes() -> None:
    """What the gateway awaits between frames (`frame_waiter`): the same future until
    something is received, none while something is there, a new one once it was done
    (woken, or cancelled with its task)."""
    inbox = Inbox()
    first = inbox.waiter()
    assert first is not None and inbox.waiter() is first
    inbox.put_nowait({"type": "websocket.receive", "text": "a"})
    assert first.done() and inbox.waiter() is None
    assert inbox.take_data() == "a"
    again = inbox.waiter()
    assert again is not None and again is not first
    again.cancel()
    assert inbox.waiter() not in (None, again)


async def test_the_gate_holds_senders_while_the_write_buffer_is_full() -> None:
    gate = Gate()
    assert gate.is_set() and await gate.wait()
    gate.clear()  # pause_writing
    senders = [asyncio.ensure_future(gate.wait()) for _ in range(2)]
    await asyncio.sleep(0)
    assert not any(s.done() for s in senders) and not gate.is_set()
    gate.set()  # resume_writing
    assert await asyncio.gather(*senders) == [True, True]
    assert gate.is_set()


# ------------------------------------------------- frames corked to the turn's end
# A real uvicorn server in this loop with the lean protocol, whose transport notes
# each write (to see which frames went out together), and a real websockets client.

Scene = Callable[[LeanWebSocketProtocol, Callable[[str], bool], ASGISendCallable], Awaitable[None]]


class _NotedTransport:
    """The socket's real transport, noting what each `write` was handed."""

    def __init__(self, transport: Any, writes: list[bytes]) -> None:
        self._transport = transport
        self._writes = writes

    def write(self, data: bytes) -> None:
        self._writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class NotedProtocol(LeanWebSocketProtocol):
    def connection_made(self, transport: Any) -> None:
        self.writes: list[bytes] = []
        super().connection_made(cast(asyncio.Transport, _NotedTransport(transport, self.writes)))


def text_frame(text: str) -> bytes:
    """A short unmasked text frame, as the server frames it."""
    data = text.encode()
    assert len(data) < 126
    return bytes([0x81, len(data)]) + data


def turn_end() -> asyncio.Future[None]:
    """Done after this loop turn's cork has flushed (`_Cork` flushes in the next turn;
    this is done in the turn after that)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    loop.call_soon(loop.call_soon, done.set_result, None)
    return done


@contextlib.asynccontextmanager
async def serving(
    app: Any, protocol: type[LeanWebSocketProtocol], max_size: int | None = None
) -> AsyncIterator[tuple[str, asyncio.Future[None]]]:
    """uvicorn serving `app` with `protocol` on a free port, as the server runs it (no
    per-message deflate, cli.py: the lean __init__); yields its URL and its task."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = Config(
        app,
        ws=protocol,
        lifespan="off",
        ws_ping_interval=None,
        ws_per_message_deflate=False,
        log_level="warning",
        ws_max_size=16 * 1024 * 1024 if max_size is None else max_size,  # uvicorn's default
    )
    server = Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), task.result()
            await asyncio.sleep(0.01)  # uvicorn says no more than its flag
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}/", task
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def lean_server(scene: Scene) -> AsyncIterator[tuple[str, list[NotedProtocol]]]:
    """A server whose app accepts, waits for the client's "go", plays `scene` and
    then waits for the disconnect; yields its URL and the sockets' protocols."""
    protocols: list[NotedProtocol] = []

    async def app(scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        assert scope["type"] == "websocket"
        send_now = scope["extensions"][SEND_NOW]
        proto = send_now.__self__
        protocols.append(proto)
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        assert (await receive()).get("text") == "go"
        await scene(proto, send_now, send)
        while (await receive())["type"] != "websocket.disconnect":
            pass

    async with serving(app, NotedProtocol) as (url, _):
        yield url, protocols


async def play(scene: Scene, frames: int) -> tuple[list[str], Any, NotedProtocol, int]:
    """Connect, say "go" and read `frames` frames and then the closing (if any):
    the texts, the close received (None: none, or not a clean one), the socket's
    protocol and how many writes it had made before the scene."""
    before: list[int] = []

    async def noted(proto: LeanWebSocketProtocol, send_now: Any, send: Any) -> None:
        assert isinstance(proto, NotedProtocol)
        before.append(len(proto.writes))
        await scene(proto, send_now, send)

    async with lean_server(noted) as (url, protocols):
        async with ws_connect(url, ping_interval=None, compression=None) as client:
            await client.send("go")
            texts = [str(await asyncio.wait_for(client.recv(), 30)) for _ in range(frames)]
            with contextlib.suppress(ConnectionClosed):
                await asyncio.wait_for(client.recv(), 30)
                raise AssertionError("a frame more than expected")
            await client.close()
            closed = client.protocol.close_rcvd
    return texts, closed, protocols[0], before[0]


async def test_frames_sent_now_in_one_turn_arrive_in_order_in_one_write() -> None:
    async def scene(proto: LeanWebSocketProtocol, send_now: Any, send: Any) -> None:
        assert all(send_now(t) for t in ("one", "two", "three"))
        await turn_end()
        await send({"type": "websocket.close", "code": 1000})

    texts, _, proto, before = await play(scene, 3)
    assert texts == ["one", "two", "three"]
    assert proto.writes[before] == text_frame("one") + text_frame("two") + text_frame("three")


async def test_what_the_turn_framed_is_written_at_once_when_asked() -> None:
    """`write_corked` (the group commit's, once it has answered a group): written in
    this turn, not the next, and the turn's own flush then finds nothing left."""

    async def scene(proto: LeanWebSocketProtocol, send_now: Any, send: Any) -> None:
        assert isinstance(proto, NotedProtocol)
        written = len(proto.writes)
        assert send_now("one") and send_now("two")
        write_corked()
        assert proto.writes[written:] == [text_frame("one") + text_frame("two")]
        assert send_now("three")  # framed after: the turn's flush writes it
        await turn_end()
        assert proto.writes[written + 1 :] == [text_frame("three")]
        await send({"type": "websocket.close", "code": 1000})

    texts, _, _, _ = await play(scene, 3)
    assert texts == ["one", "two", "three"]


async def test_a_frame_sent_now_goes_before_one_sent_through_asgi_send() -> None:
    async def scene(proto: LeanWebSocketProtocol, send_now: Any, send: Any) -> None:
        assert send_now("first")
        await send({"type": "websocket.send", "text": "second"})
        await turn_end()  # the cork's flush then has nothing left to write
        await send({"type": "websocket.close", "code": 1000})

    texts, _, proto, before = await play(scene, 2)
    assert texts == ["first", "second"]
    assert proto.writes[before] == text_frame("first") + text_frame("second")
    assert proto.writes[before + 1][:1] == b"\x88"  # then the close, nothing between


async def test_a_close_after_corked_frames_delivers_them_first() -> None:
    async def scene(proto: LeanWebSocketProtocol, send_now: Any, send: Any) -> None:
        assert send_now("a") and send_now("b")
        await send({"type": "websocket.close", "code": 4000, "reason": "done"})

    texts, closed, proto, before = await play(scene, 2)
    assert texts == ["a", "b"]
    assert closed is not None and (closed.code, closed.reason) == (4000, "done")
    assert proto.writes[before].startswith(text_frame("a") + text_frame("b") + b"\x88")


async def test_a_socket_closed_before_the_flush_is_skipped_without_an_error() -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))

    async def scene(proto: LeanWebSocketProtocol, send_now: Any, send: Any) -> None:
        assert send_now("never")
        proto.transport.close()  # the peer went away in the same turn
        await turn_end()
        assert not proto._corked  # the flush ran, and wrote nothing
        assert not send_now("later")  # a socket known gone takes no frame

    try:
        texts, closed, proto, before = await play(scene, 0)
    finally:
        loop.set_exception_handler(None)
    assert texts == [] and closed is None
    assert proto.writes[before:] == []
    assert errors == []


async def test_the_inbox_shows_a_received_text_without_taking_it() -> None:
    inbox = Inbox()
    assert inbox.peek_text() is None
    inbox.put_nowait({"type": "websocket.receive", "bytes": b"\x00"})
    assert inbox.peek_text() is None  # a binary frame is not offered
    await inbox.get()
    inbox.put_nowait({"type": "websocket.receive", "text": "a"})
    assert inbox.peek_text() == "a" and inbox.peek_text() == "a"
    assert await inbox.get() == {"type": "websocket.receive", "text": "a"}
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert inbox.peek_text() is None


async def test_received_frames_are_taken_straight_and_a_disconnect_is_left() -> None:
    """`next_frame` (the gateway's loop: `frame_waiter`, then `take_frame`) takes text
    and binary frames in order, reading on after each (uvicorn pauses the
    transport per frame), and leaves the disconnect to `receive`, for Starlette."""
    seen: list[str | bytes | None] = []
    left: list[Any] = []

    async def app(scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        lean: Receiver = scope["extensions"][RECEIVE]
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        for _ in range(3):
            seen.append(await next_frame(lean))
        await send({"type": "websocket.send", "text": "got 3"})
        seen.append(await next_frame(lean))  # the client's close: not a frame
        left.append(await receive())

    async with serving(app, LeanWebSocketProtocol) as (url, server):
        async with ws_connect(url, ping_interval=None, compression=None) as client:
            await client.send("a")
            await client.send(b"\x01\x02")
            await client.send("ü")
            assert await asyncio.wait_for(client.recv(), 30) == "got 3"
            await client.close()
        while not left:
            assert not server.done(), server.result()
            await asyncio.sleep(0.01)
    assert seen == ["a", b"\x01\x02", "ü", None]
    assert left[0]["type"] == "websocket.disconnect"


async def test_a_frame_read_while_the_app_waits_is_offered_to_it_first_in_order() -> None:
    """`frame_now`: a text frame read while the app waits for one (everything before
    it taken) is offered in the read; what it declines, and what is read while the
    app is busy with an earlier frame, goes to the inbox: the app sees every frame
    once, in the order sent."""
    seen: list[tuple[str, str | bytes | None]] = []  # (how, frame), as they came

    def now(text: str) -> bool:
        if not text.startswith("now"):
            return False
        seen.append(("now", text))
        return True

    async def app(scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        lean: Receiver = scope["extensions"][RECEIVE]
        inbox = cast(LeanWebSocketProtocol, lean).queue
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        lean.frame_now = now
        while (frame := await next_frame(lean)) is not None:
            seen.append(("inbox", frame))
            if frame == "busy":
                await send({"type": "websocket.send", "text": "busy"})
                # busy with this frame until the next one has come (not awaiting the
                # inbox: an app that waits for a frame takes it)
                await until(lambda: not inbox.empty())
            await send({"type": "websocket.send", "text": f"seen {len(seen)}"})
        lean.frame_now = None
        await receive()

    async with serving(app, LeanWebSocketProtocol) as (url, _):
        async with ws_connect(url, ping_interval=None, compression=None) as client:
            await client.send("now 1")
            await client.send("later")
            assert await asyncio.wait_for(client.recv(), 30) == "seen 2"
            await client.send("busy")
            assert await asyncio.wait_for(client.recv(), 30) == "busy"
            await client.send("now 2")
            assert await asyncio.wait_for(client.recv(), 30) == "seen 3"
            assert await asyncio.wait_for(client.recv(), 30) == "seen 4"
            await client.send("now 3")
            await client.send("bye")
            assert await asyncio.wait_for(client.recv(), 30) == "seen 6"
            await client.close()
    assert seen == [
        ("now", "now 1"), ("inbox", "later"), ("inbox", "busy"), ("inbox", "now 2"),
        ("now", "now 3"), ("inbox", "bye"),
    ]  # fmt: skip


# ------------------------------------------------- frames read without websockets
# Complete text frames are read by web/rfc6455.py while websockets' parser waits
# between frames; everything else (and a frame cut by the network) is websockets'.
# A raw client writes the bytes exactly as cut here.

HANDSHAKE = (
    b"GET / HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def masked(opcode: int, data: bytes, fin: bool = True) -> bytes:
    return Frame(Opcode(opcode), data, fin).serialize(mask=True)


async def read_server_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """(opcode, payload) of the next frame from the server (short, not masked)."""
    head = await asyncio.wait_for(reader.readexactly(2), 30)
    n = head[1] & 0x7F
    assert n < 126
    return head[0] & 0x0F, await reader.readexactly(n)


async def raw_session(
    chunks: list[tuple[bytes, int]], max_size: int | None = None
) -> tuple[list[str | bytes | None], list[tuple[int, bytes]]]:
    """Write each chunk (bytes, and how many frames the app has taken once the
    server has read them: the next chunk is a read of its own); what the app took
    (until the client's close) and what the server sent back."""
    seen: list[str | bytes | None] = []

    async def app(scope: Any, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        lean: Receiver = scope["extensions"][RECEIVE]
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while (frame := await next_frame(lean)) is not None:
            seen.append(frame)
        seen.append(None)
        await receive()

    got: list[tuple[int, bytes]] = []
    async with serving(app, LeanWebSocketProtocol, max_size) as (url, _):
        port = int(url.rsplit(":", 1)[1].strip("/"))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HANDSHAKE)
        assert b" 101 " in await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        for chunk, taken in chunks:
            writer.write(chunk)
            await writer.drain()
            await until(lambda: len(seen) >= taken)  # noqa: B023 (awaited here)
        while True:
            opcode, payload = await read_server_frame(reader)
            got.append((opcode, payload))
            if opcode == Opcode.CLOSE:
                break
        writer.close()
        await until(lambda: None in seen or bool(got and got[-1][1][:2] != b"\x03\xe8"))
    return seen, got


async def test_frames_cut_anywhere_and_mixed_with_others_arrive_whole_and_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_fast: list[bytes] = []

    def noted(data: bytes, max_size: int | None) -> tuple[list[bytes], int]:
        texts, at = take_text_frames(data, max_size)
        read_fast.extend(texts)
        return texts, at

    monkeypatch.setattr(leanws, "take_text_frames", noted)
    d = masked(1, b"d" * 200)
    chunks = [
        (masked(1, b"a") + masked(1, "ü".encode()) + masked(9, b"p") + masked(1, b"c") + d[:3], 3),
        (d[3:] + masked(1, b"e1", fin=False), 4),
        (masked(0, b"e2") + masked(2, b"\x00\x01") + masked(1, b"f"), 7),
        (masked(1, b"g"), 8),
        (masked(8, b"\x03\xe8"), 9),
    ]
    seen, got = await raw_session(chunks)
    assert seen == ["a", "ü", "c", "d" * 200, "e1e2", b"\x00\x01", "f", "g", None]
    assert got == [(Opcode.PONG, b"p"), (Opcode.CLOSE, b"\x03\xe8")]
    # websockets read the rest: the ping and what came behind it, the cut frame, the
    # fragments and what came behind them in the same chunk
    assert read_fast == [b"a", "ü".encode(), b"g"]


@pytest.mark.parametrize(
    ("frame", "code"),
    [(masked(1, b"\xff\xfe"), 1007), (masked(1, b"x" * 101), 1009)],
    ids=["not UTF-8", "over the limit"],
)
async def test_a_bad_frame_after_good_ones_closes_the_socket_as_websockets_does(
    frame: bytes, code: int
) -> None:
    seen, got = await raw_session([(masked(1, b"fine") + frame, 2)], max_size=100)
    assert seen[0] == "fine"
    assert got[-1][0] == Opcode.CLOSE
    assert int.from_bytes(got[-1][1][:2], "big") == code
