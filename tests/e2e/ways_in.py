"""Steps the ways-in browser tests share: teams and their members, an adviser's id,
a conversation's tab in the console, the phone-width check."""

from __future__ import annotations

import httpx
from conftest import LiveServer
from playwright.sync_api import Locator, Page

from .browser import PASSWORD


def tab(console: Page, name: str) -> Locator:
    return console.get_by_test_id("conversation-tab").filter(has_text=name)


def teams(server: LiveServer, *specs: tuple[str, str, str, str]) -> None:
    """(id, name, topics, hours) per team; restart so the server has them at once."""
    for team_id, name, topics, hours in specs:
        server.cli("team", "set", team_id, "--name", name, "--topics", topics, "--hours", hours)


def member(server: LiveServer, team_id: str, email: str) -> None:
    server.cli("team", "member", team_id, email)


def adviser_id(server: LiveServer, email: str) -> str:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        r = c.post("/api/v1/session", json={"email": email, "password": PASSWORD})
        r.raise_for_status()
        return str(r.json()["adviser"]["id"])


def no_horizontal_scroll(page: Page, width: int = 375) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
