"""Playwright fixtures of the Chromium tests (the helpers are in browser.py).

tests/e2e is a package (it has an __init__.py) so that this file is imported as
`e2e.conftest`: without it, pytest would load it as `conftest` and replace
tests/conftest.py under that name, which `from conftest import ...` means.

A test module changes what it needs by overriding a fixture: `browser` (a fresh
Chromium for each test instead of one per module) or `init_scripts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import LiveServer, make_server, print_logs_if_failed  # tests/conftest.py
from playwright.sync_api import Browser, Playwright, sync_playwright

from .browser import Users, chromium


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    with chromium(playwright) as b:
        yield b


@pytest.fixture
def init_scripts() -> list[str]:
    """Scripts every new browser context runs before the pages' own."""
    return []


@pytest.fixture
def users_for(browser: Browser, init_scripts: list[str]) -> Iterator[Callable[[LiveServer], Users]]:
    """Recorded browser contexts for a server; checked when the test is done."""
    made: list[Users] = []

    def make(server: LiveServer) -> Users:
        u = Users(browser, server.base_url, init_scripts)
        made.append(u)
        return u

    yield make
    for u in made:
        u.close()


@pytest.fixture
def users(live_server: LiveServer, users_for: Callable[[LiveServer], Users]) -> Users:
    return users_for(live_server)


@pytest.fixture
def server_factory(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., LiveServer]]:
    """Servers with extra settings (ICE/TURN, SMTP, fallback times), each in its own
    directory; their logs are printed when the test failed (as `live_server`'s)."""
    started: list[LiveServer] = []

    def make(**env: str) -> LiveServer:
        server = make_server(tmp_path / f"s{len(started)}", **env)
        server.start()
        started.append(server)
        return server

    yield make
    for s in started:
        s.stop()
    print_logs_if_failed(request, started)
