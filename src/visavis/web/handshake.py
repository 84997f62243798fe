"""A WebSocket's opening handshake taken over from uvicorn's HTTP protocol.

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

`TakenOverHandshake` is the part of the WebSocket protocol (web/leanws.py) that
starts from such a request (`adopt`) and writes the 101 when the app accepts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import random
import re
import uuid
from typing import Any
from urllib.parse import unquote

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import (
    ClientDisconnected,
    get_client_addr,
    get_path_with_query_string,
)
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import MAX_LINE_LENGTH, MAX_NUM_HEADERS
from websockets.protocol import CONNECTING, OPEN
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 4.2.2
# an HTTP token (RFC 9110 5.6.2), as websockets parses Connection's options
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
# headers this path leaves to websockets (it would negotiate, or refuse, them)
_NOT_HERE = frozenset(
    (b"sec-websocket-extensions", b"sec-websocket-protocol", b"transfer-encoding")
)


# the attributes a ServerProtocol of these settings starts with; each new one copies
# them and gets its own mutable ones (`new_server_protocol`)
_TEMPLATES: dict[int | None, dict[str, Any]] = {}
_ids = random.Random()


def new_server_protocol(max_size: int | None) -> ServerProtocol:
    """websockets' `ServerProtocol(max_size=...)` (no extensions, no subprotocols), as
    its `__init__` makes it, for a fraction of its cost: that draws a uuid4 from
    os.urandom (a system call) for its `id`, which only its log lines show, and looks
    its logger up; here they are copied from a first one made the ordinary way, with
    a new `id` from a seeded generator and new mutable parts (reader, parser, buffers;
    tests/unit/test_handshake.py checks that nothing else is shared)."""
    template = _TEMPLATES.get(max_size)
    if template is None:
        first = ServerProtocol(max_size=max_size, logger=logging.getLogger("uvicorn.error"))
        template = _TEMPLATES[max_size] = dict(vars(first))
    conn: ServerProtocol = ServerProtocol.__new__(ServerProtocol)
    attrs = vars(conn)
    attrs.update(template)
    attrs["id"] = uuid.UUID(int=_ids.getrandbits(128), version=4)
    attrs["extensions"] = []
    attrs["reader"] = StreamReader()
    attrs["events"] = []
    attrs["writes"] = []
    conn.parser = conn.parse()
    next(conn.parser)
    return conn


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
    if not (isinstance(cls, type) and issubclass(cls, TakenOverHandshake)):
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


class TakenOverHandshake(WebSocketsSansIOProtocol):
    """A WebSocket protocol that can start from a request `take_over` checked."""

    # `Sec-WebSocket-Accept` while a handshake taken over (`adopt`) awaits the app
    _accept: bytes | None = None

    def _offer(self, scope: Any) -> None:
        """Add to the scope's extensions what the protocol offers the app (before the
        app runs)."""

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

    async def send(self, message: ASGISendEvent) -> None:
        if self._accept is None:
            await super().send(message)
        elif message["type"] == "websocket.accept":
            await self.writable.wait()
            if self.disconnected:
                raise ClientDisconnected()
            self._write_101(message)
        else:  # refused before the 101: as uvicorn does
            await super().send(message)
            self._accept = None
