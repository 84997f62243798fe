"""A socket's opening on the real server. The handshake: a plain upgrade is answered
from the request uvicorn parsed (web/handshake.py `take_over`), every other one still by
websockets — valid ones accepted, bad ones refused as before. A `hello` with the
`subscribe` sent in the same write (web/ws.py `_subscribe_behind`): answered
together, in the protocol's order, nothing lost."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import LiveServer, make_server
from helpers import adviser_socket
from wsclient import cid, new_conversation

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def upgrade_request(
    path: str, host: str, key: bytes, extra: str = "", method: str = "GET"
) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
        f"{extra}\r\n"
    ).encode()


async def answer(
    server: LiveServer, request: bytes
) -> tuple[list[bytes], asyncio.StreamReader, asyncio.StreamWriter]:
    url = urlsplit(server.ws_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    return head.split(b"\r\n")[:-2], reader, writer


def text_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked


async def read_frame(reader: asyncio.StreamReader) -> dict[str, object]:
    b0, b1 = await reader.readexactly(2)
    assert b0 == 0x81 and not b1 & 0x80, (b0, b1)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    frame: dict[str, object] = json.loads(await reader.readexactly(n))
    return frame


async def test_a_plain_upgrade_is_accepted_and_the_socket_works(live_server: LiveServer) -> None:
    conv_id, token = await new_conversation(live_server.base_url)
    key = base64.b64encode(os.urandom(16))
    url = urlsplit(live_server.ws_url)
    lines, reader, writer = await answer(
        live_server, upgrade_request(url.path, url.netloc, key, "Sec-WebSocket-Version: 13\r\n")
    )
    try:
        assert lines[0] == b"HTTP/1.1 101 Switching Protocols"
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
        assert headers[b"upgrade"] == b"websocket"
        assert headers[b"connection"] == b"Upgrade"
        assert headers[b"sec-websocket-accept"] == base64.b64encode(
            hashlib.sha1(key + GUID).digest()
        )
        assert b"date" in headers and b"sec-websocket-protocol" not in headers
        # hello and subscribe in one write, as a client may send them
        hello = {"v": 1, "type": "hello", "id": "h", "token": token}
        sub = {"v": 1, "type": "subscribe", "id": "s", "conversation_id": conv_id, "after_seq": 0}
        writer.write(text_frame(json.dumps(hello)) + text_frame(json.dumps(sub)))
        welcome = await read_frame(reader)
        assert (welcome["type"], welcome["id"]) == ("welcome", "h")
        frames = [await read_frame(reader)]
        while frames[-1]["type"] != "subscribed":
            frames.append(await read_frame(reader))
        assert [f["seq"] for f in frames[:-1]] == [1]  # conversation.created
        assert frames[-1]["id"] == "s"
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("extra", "method", "status"),
    [
        ("Sec-WebSocket-Version: 12\r\n", "GET", b"400"),
        ("", "GET", b"400"),  # no version
        ("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n", "GET", b"400"),
        ("Sec-WebSocket-Version: 13\r\n", "POST", b"405"),
        ("Sec-WebSocket-Version: 13\r\nContent-Length: 3\r\n", "GET", b"400"),
    ],
)
async def test_a_bad_upgrade_is_refused(
    live_server: LiveServer, extra: str, method: str, status: bytes
) -> None:
    url = urlsplit(live_server.ws_url)
    key = base64.b64encode(os.urandom(16))
    lines, _, writer = await answer(
        live_server, upgrade_request(url.path, url.netloc, key, extra, method)
    )
    writer.close()
    assert lines[0].split(b" ")[1] == status, lines[0]


@pytest.mark.parametrize("key", [b"c2hvcnQ=", b"not base64!!", b""])
async def test_a_bad_key_is_refused(live_server: LiveServer, key: bytes) -> None:
    url = urlsplit(live_server.ws_url)
    request = upgrade_request(url.path, url.netloc, key, "Sec-WebSocket-Version: 13\r\n")
    lines, _, writer = await answer(live_server, request)
    writer.close()
    assert lines[0].split(b" ")[1] == b"400", lines[0]


async def test_an_upgrade_offering_subprotocols_goes_websockets_way(
    live_server: LiveServer,
) -> None:
    url = urlsplit(live_server.ws_url)
    key = base64.b64encode(os.urandom(16))
    extra = "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n"
    lines, reader, writer = await answer(
        live_server, upgrade_request(url.path, url.netloc, key, extra)
    )
    try:
        assert lines[0] == b"HTTP/1.1 101 Switching Protocols"
        writer.write(text_frame(json.dumps({"v": 1, "type": "ping", "id": "p"})))
        refused = await read_frame(reader)  # the first frame must be hello
        assert (refused["type"], refused["code"]) == ("error", "not_hello")
    finally:
        writer.close()


async def raw_socket(
    server: LiveServer, *frames: dict[str, object]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Upgraded, then `frames` sent in one write."""
    url = urlsplit(server.ws_url)
    key = base64.b64encode(os.urandom(16))
    request = upgrade_request(url.path, url.netloc, key, "Sec-WebSocket-Version: 13\r\n")
    lines, reader, writer = await answer(server, request)
    assert lines[0] == b"HTTP/1.1 101 Switching Protocols"
    writer.write(b"".join(text_frame(json.dumps(frame)) for frame in frames))
    return reader, writer


def hello(token: str) -> dict[str, object]:
    return {"v": 1, "type": "hello", "id": "h", "token": token}


def subscribe(conv_id: str, after_seq: int) -> dict[str, object]:
    return {
        "v": 1,
        "type": "subscribe",
        "id": "s",
        "conversation_id": conv_id,
        "after_seq": after_seq,
    }


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """SQLite and PostgreSQL: the summary read behind a welcome and its subscribe."""
    srv = make_server(tmp_path, database_url)
    srv.start()
    yield srv
    srv.stop()


async def test_hello_and_subscribe_together_get_what_is_missing_then_live_events(
    server: LiveServer,
) -> None:
    live_server = server
    adviser = await adviser_socket(live_server)
    conv_id, token = await new_conversation(live_server.base_url, customer_name="Bob")
    assert (await adviser.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    await adviser.expect("subscribed")
    seqs = []
    for i in range(3):
        ack = await adviser.request(
            "chat.send", conversation_id=conv_id, client_id=cid(), text=f"m{i}"
        )
        seqs.append(ack["seq"])
    after = seqs[0]  # the client had the first message: the other two are missing

    reader, writer = await raw_socket(live_server, hello(token), subscribe(conv_id, after))
    try:
        welcome = await read_frame(reader)
        assert (welcome["type"], welcome["id"]) == ("welcome", "h")
        events = []
        frame = await read_frame(reader)
        while frame["type"] == "event":
            events.append(frame["seq"])
            frame = await read_frame(reader)
        assert events == seqs[1:]
        assert (frame["type"], frame["id"]) == ("subscribed", "s")
        assert frame["conversation"]["last_seq"] == seqs[-1]  # type: ignore[index]
        ack = await adviser.request(
            "chat.send", conversation_id=conv_id, client_id=cid(), text="live"
        )
        live = await read_frame(reader)
        assert (live["type"], live["seq"]) == ("event", ack["seq"])
    finally:
        writer.close()
        await adviser.close()


async def test_hello_and_subscribe_after_everything_get_welcome_and_subscribed(
    server: LiveServer,
) -> None:
    live_server = server
    conv_id, token = await new_conversation(live_server.base_url)
    reader, writer = await raw_socket(live_server, hello(token), subscribe(conv_id, 1))
    try:
        welcome = await read_frame(reader)
        assert (welcome["type"], welcome["id"]) == ("welcome", "h")
        done = await read_frame(reader)
        assert (done["type"], done["id"]) == ("subscribed", "s")
        assert done["conversation"] == welcome["conversation"]
        writer.write(text_frame(json.dumps({"v": 1, "type": "ping", "id": "p"})))
        # nothing came in between but the waiting customer's queue position, pushed
        # whenever this node's queue recompute gets to it
        between = []
        frame = await read_frame(reader)
        while frame["type"] != "pong":
            between.append(frame["type"])
            frame = await read_frame(reader)
        assert set(between) <= {"queue.position"}, between
    finally:
        writer.close()


@pytest.mark.parametrize(
    "behind",
    [
        {"v": 1, "type": "subscribe", "id": "x", "conversation_id": "other", "after_seq": 0},
        {"v": 1, "type": "subscribe", "id": "x", "conversation_id": "mine", "after_seq": "0"},
        {"v": 1, "type": "ping", "id": "x"},
    ],
)
async def test_a_frame_behind_hello_is_answered_after_the_welcome(
    live_server: LiveServer, behind: dict[str, object]
) -> None:
    conv_id, token = await new_conversation(live_server.base_url)
    other_id, _ = await new_conversation(live_server.base_url)
    ids = {"other": other_id, "mine": conv_id}
    frame = {
        k: ids.get(v, v) if isinstance(v, str) and k == "conversation_id" else v
        for k, v in behind.items()
    }
    reader, writer = await raw_socket(live_server, hello(token), frame)
    try:
        welcome = await read_frame(reader)
        assert (welcome["type"], welcome["id"]) == ("welcome", "h")
        answer_ = await read_frame(reader)
        assert answer_["id"] == "x"
        expected = {"subscribe": ("error",), "ping": ("pong",)}[str(behind["type"])]
        assert (answer_["type"],) == expected
        if behind["type"] == "subscribe":
            code = "forbidden" if behind["conversation_id"] == "other" else "bad_request"
            assert answer_["code"] == code
    finally:
        writer.close()
