"""Deadlines for receiving an HTTP request, so that a slow or half-sent request
(slowloris) cannot hold a connection open forever.

uvicorn bounds only the idle time between requests (keep-alive). Here a request's
headers must arrive within `header_timeout_s` of its first byte (or of the connection
opening), and its body with no pause over `body_idle_s` and in full within
`body_timeout_s` of the headers. A request past its deadline is answered 408 (unless
its response has started) and the connection closed, with one log line.

It is uvicorn's httptools protocol with timers; a WebSocket upgrade cancels them (the
gateway has its own hello timeout and heartbeat).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from visavis.config import Settings
from visavis.web.handshake import take_over

log = logging.getLogger(__name__)

_408 = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)


def _body_408(message: str) -> bytes:
    body = b'{"error":{"code":"request_timeout","message":"%s"}}' % message.encode()
    return _408 % (len(body), body)


@functools.cache
def _seconds(name: str) -> float:
    """A deadline setting, read from the environment here: uvicorn makes the protocol
    by its class, in each worker process (`--workers` spawns them), without our
    Settings. Settings.from_env checks the same variables at start. Read once per
    process, not for every connection (a reconnect storm opens thousands)."""
    return float(os.environ.get("VISAVIS_" + name.upper(), getattr(Settings, name)))


class DeadlineProtocol(HttpToolsProtocol):
    header_timeout_s: float
    body_idle_s: float
    body_timeout_s: float

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = _seconds("header_timeout_s")
        self.body_idle_s = _seconds("body_idle_s")
        self.body_timeout_s = _seconds("body_timeout_s")
        self._deadline: asyncio.TimerHandle | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._phase = "idle"  # idle (no byte of a request yet) | headers | body

    def _arm_deadline(self, seconds: float) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(seconds, self._expired, "deadline")

    def _arm_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = self.loop.call_later(self.body_idle_s, self._expired, "pause")

    def _disarm(self) -> None:
        for timer in (self._deadline, self._idle):
            if timer is not None:
                timer.cancel()
        self._deadline = self._idle = None

    # -------------------------------------------------------- the parser's steps
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_deadline(self.header_timeout_s)  # a connection that says nothing

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = "headers"
        self._arm_deadline(self.header_timeout_s)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.parser.should_upgrade() and self._should_upgrade():
            self._disarm()
            self._phase = "idle"
            return
        self._phase = "body"
        self._arm_deadline(self.body_timeout_s)
        self._arm_idle()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        if self._phase == "body":
            self._arm_idle()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()
        self._phase = "idle"

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        # a plainly valid upgrade is taken over from the request parsed here; any
        # other goes uvicorn's way (web/handshake.py)
        if not take_over(self):
            super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # -------------------------------------------------------- past the deadline
    def _expired(self, why: str) -> None:
        phase = self._phase
        self._disarm()
        if self.transport.is_closing():
            return
        if phase == "idle":  # opened and never used (or a pre-connect): just closed
            self.transport.close()
            return
        what = {
            "headers": f"headers not complete within {self.header_timeout_s:g} s",
            "body": (
                f"body paused over {self.body_idle_s:g} s"
                if why == "pause"
                else f"body not complete within {self.body_timeout_s:g} s"
            ),
        }[phase]
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "unknown"
        log.info("closing the connection from %s: request %s", client, what)
        cycle = self.cycle if phase == "body" else None
        if cycle is None or not cycle.response_started:
            self.transport.write(_body_408(f"request {what}"))
        if cycle is not None:
            cycle.disconnected = True  # the app's receive() says http.disconnect
            cycle.message_event.set()
        self.transport.close()
