"""What the Chromium tests share: how Chromium is started, browser contexts whose every
request is recorded (and checked: same origin only, no CSP violation, no uncaught
error), and the steps of a chat (start, sign in, send, find a message).

The fixtures built on these are in tests/e2e/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    FrameLocator,
    Locator,
    Page,
    Playwright,
    Request,
    WebError,
    expect,
)

CHROMIUM = "/usr/bin/chromium"
# Fake media: the fake UI accepts every prompt, also getDisplayMedia's picker (it then
# returns a fake 1280x720 "window" surface: screen sharing works headless with these two
# flags alone); two fake cameras, because the camera switch shows only with a second one.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream=device-count=2",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "richtig-geheim-42"
STORAGE_KEY = "visavis.conversation"
TIMEOUT_MS = 10_000
PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}

expect.set_options(timeout=TIMEOUT_MS)


@contextmanager
def chromium(playwright: Playwright) -> Iterator[Browser]:
    """Chromium with fake camera and microphone, closed at the end of the block."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@dataclass
class Users:
    """Browser contexts (independent users) whose requests are all recorded."""

    browser: Browser
    base_url: str
    init_scripts: Sequence[str] = ()
    requests: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # origins besides the server's that a test's pages may load from (a company's site)
    allowed_origins: list[str] = field(default_factory=list)

    def new(self, **kwargs: Any) -> BrowserContext:
        kwargs.setdefault("locale", "de-DE")
        ctx = self.browser.new_context(**kwargs)
        ctx.set_default_timeout(TIMEOUT_MS)
        for script in self.init_scripts:
            ctx.add_init_script(script)

        def record(req: Request) -> None:
            self.requests.append(req.url)

        def console(msg: ConsoleMessage) -> None:
            # The pages run under a strict CSP: any violation is a bug.
            if "Content Security Policy" in msg.text or "Refused to" in msg.text:
                self.problems.append(f"{msg.page.url if msg.page else '?'}: {msg.text}")

        def weberror(err: WebError) -> None:
            self.problems.append(f"uncaught: {err.error}")

        ctx.on("request", record)
        ctx.on("console", console)
        ctx.on("weberror", weberror)
        self.contexts.append(ctx)
        return ctx

    def page(self, **kwargs: Any) -> Page:
        return self.new(**kwargs).new_page()

    def foreign_requests(self) -> list[str]:
        own = urlsplit(self.base_url)
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if f"{parts.scheme}://{parts.netloc}" in self.allowed_origins:
                continue
            if (parts.scheme.replace("ws", "http"), parts.netloc) != (own.scheme, own.netloc):
                foreign.append(url)
        return foreign

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()
        self.contexts = []
        # Every flow: not one request to another origin, no CSP violation, no uncaught error.
        assert self.foreign_requests() == []
        assert self.problems == []
        assert self.requests, "no request was recorded at all"


def chat_frame(page: Page) -> FrameLocator:
    return page.frame_locator('[data-testid="visavis-frame"]')


def message(app: Page | FrameLocator | Locator, text: str, author: str | None = None) -> Locator:
    sel = '[data-testid="message"]' + (f'[data-author="{author}"]' if author else "")
    return app.locator(sel).filter(has_text=text)


def send(app: Page | FrameLocator | Locator, text: str) -> None:
    app.get_by_test_id("composer").fill(text)
    app.get_by_test_id("send").click()


def start_chat(app: Page | FrameLocator | Locator, name: str, topic: str | None, text: str) -> None:
    # what is shown above the form has settled (on a busy machine the availability
    # came after the form was filled in, and moved the button from under the click)
    expect(app.get_by_test_id("availability")).to_be_visible()
    app.get_by_test_id("start-name").fill(name)
    if topic:
        expect(app.locator(f'[data-testid="start-topic"] option[value="{topic}"]')).to_have_count(1)
        app.get_by_test_id("start-topic").select_option(topic)
    app.get_by_test_id("start-message").fill(text)
    app.get_by_test_id("start-submit").click()
    expect(message(app, text)).to_be_visible()


def login(
    page: Page, base_url: str, email: str, password: str = PASSWORD, *, available: bool = False
) -> None:
    """Signs an adviser in to the console; `available` also sets the status to available."""
    page.goto(base_url + "/console")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("status-toggle")).to_be_visible()
    expect(page.get_by_test_id("conn-status")).to_have_attribute("data-state", "open")
    if available:
        page.get_by_test_id("status-toggle").select_option("available")
        # the server's answer, not just the select's own value
        expect(page.get_by_test_id("status-toggle")).to_have_attribute("data-status", "available")


def seqs(app: Page | FrameLocator) -> list[str]:
    """The `data-seq` of every message shown, in order."""
    result: list[str] = app.locator('[data-testid="message"]').evaluate_all(
        "els => els.map(e => e.getAttribute('data-seq'))"
    )
    return result


def queue_entry(console: Page, name: str) -> Locator:
    return console.get_by_test_id("queue-entry").filter(has_text=name)


def stored_conversation(page: Page, frame_url_part: str = "/chat") -> Any:
    """What the chat app in one of the page's frames keeps in localStorage."""
    for f in page.frames:
        if frame_url_part in f.url:
            return f.evaluate(f"() => localStorage.getItem({STORAGE_KEY!r})")
    raise AssertionError("chat frame not found")
