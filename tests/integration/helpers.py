from __future__ import annotations

import re
from typing import Any

import httpx
from conftest import LiveServer
from wsclient import WsClient, login

PASSWORD = "correct-horse-battery"


def sample(text: str, name: str) -> float:
    """The value of an unlabelled sample in Prometheus text."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert found, f"{name} not in metrics:\n{text[:3000]}"
    return float(found.group(1))


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


async def session(server: LiveServer, email: str) -> httpx.AsyncClient:
    """An HTTP client logged in as that adviser (added before), with the CSRF header."""
    cookie, csrf = await login(server.base_url, email, PASSWORD)
    return httpx.AsyncClient(
        base_url=server.base_url,
        cookies={"visavis_session": cookie},
        headers={"X-CSRF-Token": csrf},
    )


def found(pattern: str, text: str, group: int = 1) -> str:
    """That group of the first match of `pattern` in `text`; fails naming both."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} is not in {text!r}"
    return match.group(group)
