"""Real Chromium against a real server: the widget stores and sends nothing before
the visitor clicks, a rejected token starts afresh, and the widget works on a company
site of another origin.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import LiveServer
from playwright.sync_api import Browser, Playwright, expect

from .browser import (
    PASSWORD,
    STORAGE_KEY,
    TIMEOUT_MS,
    Users,
    chat_frame,
    chromium,
    login,
    start_chat,
    stored_conversation,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser(playwright: Playwright) -> Iterator[Browser]:
    """A fresh Chromium for every test here (tests/e2e/conftest.py has one per module)."""
    with chromium(playwright) as b:
        yield b


def test_widget_sets_nothing_before_the_click(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    live_server.add_adviser("dana@musterbank.test", PASSWORD, "Dana Wolf")
    ctx = users.new()
    page = ctx.new_page()
    page.goto(base + "/demo")
    launcher = page.get_by_test_id("visavis-launcher")
    # Wait until the availability is shown: fetch and event stream have run.
    expect(launcher).to_contain_text("Nachricht hinterlassen")
    expect(page.get_by_test_id("visavis-frame")).to_have_count(0)

    def assert_nothing_stored() -> None:
        assert page.evaluate("document.cookie") == ""
        assert page.evaluate("localStorage.length") == 0
        assert page.evaluate("sessionStorage.length") == 0
        assert page.evaluate("async () => (await indexedDB.databases()).length") == 0
        assert ctx.cookies() == []

    assert_nothing_stored()

    # Live availability: an adviser going available changes the button by itself.
    console = users.page()
    login(console, base, "dana@musterbank.test")
    console.get_by_test_id("status-toggle").select_option("available")
    expect(launcher).to_contain_text("verfügbar")
    assert_nothing_stored()

    # Opening the panel stores nothing either, until a conversation is started.
    launcher.click()
    frame = chat_frame(page)
    expect(frame.get_by_test_id("start-submit")).to_be_visible()
    assert stored_conversation(page) is None
    assert page.evaluate("sessionStorage.length") == 0
    assert ctx.cookies() == []
    start_chat(frame, "", None, "Nur eine kurze Frage.")
    assert stored_conversation(page) is not None
    assert page.evaluate("sessionStorage.getItem('visavis.open')") == "1"
    assert ctx.cookies() == []  # customers never get a cookie

    # The console (a signed-in adviser) and the bare customer app stay on our origin too.
    plain = users.page()
    plain.goto(base + "/chat")
    expect(plain.get_by_test_id("start-submit")).to_be_visible()
    assert plain.evaluate("localStorage.length") == 0


def test_rejected_token_starts_afresh(live_server: LiveServer, users: Users) -> None:
    page = users.page()
    page.goto(live_server.base_url + "/chat")
    expect(page.get_by_test_id("start-submit")).to_be_visible()
    page.evaluate(
        """key => localStorage.setItem(key, JSON.stringify(
            {token: "forged.token", conversation_id: "abcdefgh", outbox: []}))""",
        STORAGE_KEY,
    )
    page.reload()
    expect(page.get_by_test_id("start-submit")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("nicht mehr verfügbar")
    assert page.evaluate("localStorage.length") == 0


@pytest.fixture
def company_site(live_server: LiveServer) -> Iterator[str]:
    """A customer's own website on another origin (another port: the same loopback
    address space, so Chromium's private-network rules stay out of the picture)."""
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Shop</title></head>"
        "<body><h1>A shop</h1>"
        f'<script src="{live_server.base_url}/widget.js" async></script></body></html>'
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_widget_on_a_company_site_of_another_origin(
    live_server: LiveServer, browser: Browser, company_site: str
) -> None:
    """The real deployment: the loader on a host page of another origin talks to our
    server only through CORS-enabled public endpoints and the iframe's postMessage."""
    base = live_server.base_url
    ctx = browser.new_context(locale="en-US")
    ctx.set_default_timeout(TIMEOUT_MS)
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    try:
        page = ctx.new_page()
        page.goto(company_site + "/product")
        launcher = page.get_by_test_id("visavis-launcher")
        expect(launcher).to_contain_text("Leave a message")  # CORS fetch worked
        assert page.evaluate("sessionStorage.length + localStorage.length") == 0
        assert ctx.cookies() == []
        launcher.click()
        frame = chat_frame(page)
        start_chat(frame, "Remote", None, "From another site")
        # The iframe told the loader (postMessage, exact origins both ways).
        page.wait_for_function("sessionStorage.getItem('visavis.open') === '1'")
        frame.get_by_test_id("composer").press("Escape")
        expect(page.get_by_test_id("visavis-frame")).to_be_hidden()
        expect(launcher).to_have_attribute("aria-expanded", "false")
        assert ctx.cookies() == []
        origins = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in requests}
        assert origins <= {company_site, base, base.replace("http://", "ws://")}, origins
    finally:
        ctx.close()
