from __future__ import annotations

from typing import Any

from wsclient import WsClient, login

PASSWORD = "correct-horse-battery"


async def adviser_socket(
    server: Any, email: str = "anna@bank.example", name: str = "Anna Berger", **kw: Any
) -> WsClient:
    """Add an adviser, log in over HTTP, open a socket, set available."""
    server.add_adviser(email, PASSWORD, name, **kw)
    cookie, _ = await login(server.base_url, email, PASSWORD)
    ws = await WsClient.connect(server.ws_url, cookie=cookie)
    ack = await ws.request("status.set", status="available")
    assert ack["type"] == "ack", ack
    return ws
