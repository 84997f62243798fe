"""axe-core (WCAG 2.0/2.1 A and AA rules) in real Chromium on every page and its main
states: zero violations.

axe's source (frontend/node_modules/axe-core, a devDependency) is evaluated in each
frame through the DevTools protocol (`frame.evaluate`), so the pages keep their strict
CSP: nothing is injected as a <script>. axe reaches into open shadow roots (Lit's).

To cover a new page or state, add a `State(name, setup)` to STATES: `setup` gets the
server and the recorded browser contexts and returns the page to check (all its frames
are checked, so the widget's iframe is too).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from conftest import ROOT, LiveServer
from playwright.sync_api import Page, expect

from visavis.collab.samples import product_sheet_pdf

from .browser import PASSWORD, Users, chat_frame, login, message, queue_entry, start_chat
from .calls import chat_pair, panel, start_video_call, status

pytestmark = pytest.mark.e2e

AXE_JS = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def axe_source() -> str:
    assert AXE_JS.is_file(), f"{AXE_JS} is missing: run `npm ci` in frontend/"
    return AXE_JS.read_text()


def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations in every frame of the page (frame URL, rule, impact, where)."""
    found: list[dict[str, Any]] = []
    for frame in page.frames:
        if frame.url in ("", "about:blank"):
            continue
        frame.evaluate(axe_source())
        result = frame.evaluate(
            """async (tags) => {
                const r = await axe.run(document, { runOnly: { type: "tag", values: tags } });
                // Experimental rules (label-content-name-mismatch) are not part of
                // axe's WCAG verdict; they run with tag filters in this version anyway.
                return r.violations.filter((v) => !v.tags.includes("experimental")).map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => n.target.join(" >>> ")).slice(0, 5),
                }));
            }""",
            TAGS,
        )
        found += [{"frame": frame.url, **v} for v in result]
    return found


@dataclass(frozen=True)
class State:
    name: str
    setup: Callable[[LiveServer, Users], Page]


def demo_with_widget(server: LiveServer, users: Users) -> Page:
    page = users.page()
    page.goto(server.base_url + "/demo")
    page.get_by_test_id("visavis-launcher").click()
    expect(chat_frame(page).get_by_test_id("start-submit")).to_be_visible()
    return page


def chat_start(server: LiveServer, users: Users) -> Page:
    page = users.page()
    page.goto(server.base_url + "/chat")
    expect(page.get_by_test_id("start-submit")).to_be_visible()
    return page


def running_chat(server: LiveServer, users: Users) -> Page:
    customer, console, _ = chat_pair(server, users, "Axel")
    console.get_by_test_id("composer").fill("Guten Tag, wie kann ich helfen?")
    console.get_by_test_id("send").click()
    expect(message(customer, "wie kann ich helfen", "adviser")).to_be_visible()
    return customer


def chat_with_call(server: LiveServer, users: Users) -> Page:
    customer, console, _ = chat_pair(server, users, "Vera")
    customer.get_by_test_id("call-video").click()
    console.get_by_test_id("call-accept").click()
    expect(panel(customer)).to_have_attribute("data-phase", "active")
    expect(status(customer)).to_have_attribute("data-state", "connected")
    return customer


def video_call(server: LiveServer, users: Users) -> tuple[Page, Page]:
    """A video call with both cameras on (the adviser sees the customer's camera)."""
    customer, console, _ = chat_pair(server, users, "Pia")
    start_video_call(customer, console)
    for app in (customer, console):
        expect(status(app)).to_have_attribute("data-state", "connected")
    expect(panel(console)).to_have_attribute("data-remote-video", "on")
    return customer, console


def console_video_pointer(server: LiveServer, users: Users) -> Page:
    """The adviser's hint to point at the customer's video."""
    console = video_call(server, users)[1]
    expect(console.get_by_test_id("video-point-hint")).to_be_visible()
    return console


def customer_video_mark(server: LiveServer, users: Users) -> Page:
    """The adviser's mark on the customer's self-view (the mouse stays on the video)."""
    customer, console = video_call(server, users)
    box = console.get_by_test_id("remote-video").bounding_box()
    assert box is not None
    console.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=3)
    expect(customer.get_by_test_id("video-pointer")).to_be_visible()
    return customer


def incoming_call(server: LiveServer, users: Users) -> Page:
    customer, console, _ = chat_pair(server, users, "Ines")
    console.get_by_test_id("call-video").click()
    expect(customer.get_by_test_id("incoming-call")).to_be_visible()
    return customer


def console_login(server: LiveServer, users: Users) -> Page:
    page = users.page()
    page.goto(server.base_url + "/console")
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    return page


def console_with_conversation(server: LiveServer, users: Users) -> Page:
    server.add_adviser("konrad@musterbank.test", PASSWORD, "Konrad Beispiel")
    customer = users.page()
    customer.goto(server.base_url + "/chat")
    start_chat(customer, "Kundin Olga", None, "Ich habe eine Frage zur Karte.")
    console = users.page()
    login(console, server.base_url, "konrad@musterbank.test")
    queue_entry(console, "Kundin Olga").get_by_test_id("accept").click()
    expect(message(console, "Frage zur Karte", "customer")).to_be_visible()
    return console


def document_presented(server: LiveServer, users: Users) -> tuple[Page, Page]:
    """A conversation with the demo's product sheet on the stage and one pen stroke."""
    path = server.data_dir / "Produktblatt.pdf"
    path.write_bytes(product_sheet_pdf())
    server.cli("library", "add", str(path), "--name", "Produktblatt.pdf", "--downloadable")
    customer, console, _ = chat_pair(server, users, "Doris")
    console.get_by_test_id("shelf-toggle").click()
    console.get_by_test_id("library-open").click()
    entry = console.get_by_test_id("library-entry").filter(has_text="Produktblatt.pdf")
    entry.get_by_test_id("library-share").click()
    for app in (customer, console):
        expect(app.locator('[data-testid="doc-page"][data-loaded="yes"]')).to_be_visible()
    return customer, console


def customer_document(server: LiveServer, users: Users) -> Page:
    return document_presented(server, users)[0]


def console_document(server: LiveServer, users: Users) -> Page:
    return document_presented(server, users)[1]


def large_room_document(server: LiveServer, users: Users) -> Page:
    customer, _ = document_presented(server, users)
    customer.get_by_test_id("room-open").click()
    expect(customer.get_by_test_id("room")).to_have_attribute("data-mode", "large")
    expect(customer.get_by_test_id("stage-document")).to_be_visible()
    return customer


def console_sign_prepare(server: LiveServer, users: Users) -> Page:
    """The adviser placing the signature box on the shown PDF."""
    console = document_presented(server, users)[1]
    console.get_by_test_id("sign-prepare-open").click()
    expect(console.get_by_test_id("sign-box-customer")).to_be_visible()
    return console


def customer_signing(server: LiveServer, users: Users) -> Page:
    """The customer's signing panel: the pad, the consent text."""
    customer, console = document_presented(server, users)
    console.get_by_test_id("sign-prepare-open").click()
    console.get_by_test_id("sign-send").click()
    expect(customer.get_by_test_id("sign-consent-text")).not_to_be_empty()
    return customer


def public_page(path: str, ready: str) -> Callable[[LiveServer, Users], Page]:
    def setup(server: LiveServer, users: Users) -> Page:
        page = users.page()
        page.goto(server.base_url + path)
        expect(page.locator(ready).first).to_be_visible()
        return page

    return setup


STATES = [
    State("demo page with the widget open", demo_with_widget),
    State("chat start screen", chat_start),
    State("running chat", running_chat),
    State("chat with an incoming call", incoming_call),
    State("chat with a call", chat_with_call),
    State("console pointing on the customer's video", console_video_pointer),
    State("chat with the adviser's mark on the own video", customer_video_mark),
    State("console login", console_login),
    State("console with a conversation", console_with_conversation),
    State("chat with a document on the stage", customer_document),
    State("console with a document on the stage", console_document),
    State("large room with a document", large_room_document),
    State("console placing a signature box", console_sign_prepare),
    State("chat signing a document", customer_signing),
    State("advisers portal", public_page("/advisers", "main")),
    State("booking page", public_page("/book", "main")),
    State("code page", public_page("/code", "main")),
    State("demo form page", public_page("/demo/konto", "form")),
]


@pytest.mark.parametrize("state", STATES, ids=[s.name for s in STATES])
def test_no_axe_violations(state: State, live_server: LiveServer, users: Users) -> None:
    page = state.setup(live_server, users)
    found = violations(page)
    assert found == [], f"{state.name}:\n{json.dumps(found, indent=1, ensure_ascii=False)}"
