"""The parts of a socket's start made cheaper for a reconnect storm (web/handshake.py,
web/leanws.py): websockets' protocol object copied from a first one, and the lean
protocol's own `__init__` — each the same as what it replaces, nothing shared between
sockets that one of them could change. (The taken-over handshake itself runs on the
real server: tests/integration/test_ws_handshake.py.)"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.http11 import Request
from websockets.server import ServerProtocol

from visavis.web.handshake import new_server_protocol
from visavis.web.leanws import Gate, Inbox, LeanWebSocketProtocol

# values a socket may share with every other: settings and the logger
_SHARED_OK = (type(None), bool, int, float, str, bytes, tuple, logging.Logger)


def _shared_mutables(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    return {k for k, v in a.items() if b.get(k) is v and not isinstance(v, _SHARED_OK)}


def test_a_copied_server_protocol_is_one_made_the_ordinary_way() -> None:
    logger = logging.getLogger("uvicorn.error")
    ordinary = vars(ServerProtocol(max_size=2**20, logger=logger))
    one, two = vars(new_server_protocol(2**20)), vars(new_server_protocol(2**20))
    assert set(one) == set(ordinary)
    for name, value in ordinary.items():
        if name not in ("id", "reader", "parser", "events", "writes", "extensions"):
            assert one[name] == value, name
    assert one["id"] != two["id"] and one["id"].version == 4
    assert _shared_mutables(one, two) == set()


def test_a_copied_server_protocol_parses_a_request() -> None:
    key = base64.b64encode(os.urandom(16))
    fresh = new_server_protocol(2**20)
    fresh.receive_data(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key
    )
    [request] = fresh.events_received()
    assert isinstance(request, Request) and request.path == "/ws"


async def test_the_lean_init_sets_what_uvicorns_sets() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # never called
        raise AssertionError

    config = Config(app, ws_ping_interval=None, ws_per_message_deflate=False)
    config.load()
    state = ServerState()
    loop = asyncio.get_running_loop()
    uvicorns = vars(WebSocketsSansIOProtocol(config, state, {}, loop))
    lean, other = (LeanWebSocketProtocol(config, state, {}, loop) for _ in range(2))
    assert set(vars(lean)) == set(uvicorns) | {"_corked"}
    assert isinstance(lean.queue, Inbox) and isinstance(lean.writable, Gate)
    for name, value in uvicorns.items():
        if name not in ("queue", "writable", "conn"):
            assert vars(lean)[name] == value, name
    assert set(vars(lean.conn)) == set(vars(uvicorns["conn"]))
    assert _shared_mutables(vars(lean), vars(other)) <= {
        "config", "app", "loop", "app_state", "connections", "tasks", "default_headers"
    }  # fmt: skip
    assert _shared_mutables(vars(lean.conn), vars(other.conn)) == set()
