"""The ASGI application uvicorn calls: `/ws` straight to the gateway, everything else
through Starlette (routes, middleware, exception handlers).

Starlette's stack (error handling, security headers, gzip, exception handlers, the
router, the route's session wrapper) does nothing for a WebSocket but stays on its
stack, a dozen coroutine frames and two `WebSocket` objects per socket for the
socket's whole life. The gateway does its own checks (the Origin and the session
cookie, web/ws.py) and answers its own errors, so `/ws` skips it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

WS_PATH = "/ws"

Endpoint = Callable[[WebSocket], Awaitable[None]]


class FrontApp(Starlette):
    """A Starlette app whose `/ws` WebSocket goes to `ws_endpoint` directly."""

    ws_endpoint: Endpoint | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "websocket"
            and scope["path"] == WS_PATH
            and self.ws_endpoint is not None
        ):
            await self.ws_endpoint(WebSocket(scope, receive, send))
            return
        await super().__call__(scope, receive, send)
