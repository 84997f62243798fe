"""Real Chromium against a real server: widget → queue → adviser console and back;
one adviser with two customers, the waiting count and chat limit, German and English,
keyboard only and a phone.

Every test records each request of every browser context and asserts that none
went to an origin other than the server's (no CDN, font or analytics).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from conftest import LiveServer
from playwright.sync_api import Browser, FrameLocator, Page, Playwright, expect

from .browser import (
    PASSWORD,
    PHONE,
    Users,
    chat_frame,
    chromium,
    login,
    message,
    queue_entry,
    send,
    seqs,
    start_chat,
    stored_conversation,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser(playwright: Playwright) -> Iterator[Browser]:
    """A fresh Chromium for every test here (tests/e2e/conftest.py has one per module)."""
    with chromium(playwright) as b:
        yield b


def open_widget(page: Page, base_url: str) -> FrameLocator:
    page.goto(base_url + "/demo")
    launcher = page.get_by_test_id("visavis-launcher")
    expect(launcher).to_be_visible()
    launcher.click()
    frame = chat_frame(page)
    expect(frame.get_by_test_id("start-submit")).to_be_visible()
    return frame


def test_customer_and_adviser_chat_end_to_end(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    live_server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    customer = users.page()
    console = users.page()

    frame = open_widget(customer, base)
    start_chat(frame, "Erika Muster", "konto", "Hallo, ich habe eine Frage zu meiner Karte.")
    expect(frame.get_by_test_id("queue-position")).to_be_visible()
    assert stored_conversation(customer) is not None

    # The adviser signs in, goes available, sees the customer waiting, accepts.
    login(console, base, "anna@musterbank.test")
    console.get_by_test_id("status-toggle").select_option("available")
    entry = queue_entry(console, "Erika Muster")
    expect(entry).to_be_visible()
    expect(entry).to_contain_text("Konto")
    expect(entry.get_by_test_id("queue-wait")).to_contain_text(re.compile(r"\d+:\d\d"))
    entry.get_by_test_id("accept").click()
    tab = console.get_by_test_id("conversation-tab").filter(has_text="Erika Muster")
    expect(tab).to_be_visible()
    expect(queue_entry(console, "Erika Muster")).to_have_count(0)
    expect(message(console, "Frage zu meiner Karte", "customer")).to_be_visible()

    # The customer sees who took over.
    expect(frame.get_by_test_id("adviser-name")).to_have_text("Anna Berger")
    expect(frame.get_by_test_id("queue-position")).to_have_count(0)

    # Typing indicators, both ways.
    frame.get_by_test_id("composer").press_sequentially("Einen Mom")
    expect(console.get_by_test_id("typing-indicator")).to_be_visible()
    console.get_by_test_id("composer").press_sequentially("Gerne, ")
    expect(frame.get_by_test_id("typing-indicator")).to_be_visible()

    # Messages both ways; sending ends the indicator on the other side.
    console.get_by_test_id("composer").fill("Guten Tag, wie kann ich helfen?")
    console.get_by_test_id("send").click()
    expect(message(frame, "wie kann ich helfen", "adviser")).to_be_visible()
    expect(frame.get_by_test_id("typing-indicator")).to_have_count(0)
    send(frame, "Meine Karte ist gesperrt.")
    expect(message(console, "Karte ist gesperrt", "customer")).to_be_visible()

    # Read ticks: each side has the conversation open and visible.
    expect(message(frame, "Karte ist gesperrt", "customer")).to_have_attribute(
        "data-status", "read"
    )
    expect(message(console, "wie kann ich helfen", "adviser")).to_have_attribute(
        "data-status", "read"
    )

    # Panel closed: a new adviser message shows as a badge on the button.
    customer.get_by_test_id("visavis-close").click()
    launcher = customer.get_by_test_id("visavis-launcher")
    expect(launcher).to_be_focused()
    expect(customer.get_by_test_id("visavis-frame")).to_be_hidden()
    send(console, "Ich prüfe das kurz.")
    expect(customer.get_by_test_id("visavis-badge")).to_have_text("1")
    expect(launcher).to_have_attribute("aria-label", re.compile(r"1 neu"))
    expect(message(console, "Ich prüfe das kurz.", "adviser")).to_have_attribute(
        "data-status", "delivered"
    )

    # Reload the host page: the conversation comes back with the whole history, once.
    expect(message(frame, "Ich prüfe das kurz.", "adviser")).to_have_count(1)
    before = seqs(frame)
    assert len(before) == len(set(before)) and "" not in before
    customer.reload()
    launcher = customer.get_by_test_id("visavis-launcher")
    expect(launcher).to_be_visible()
    frame = chat_frame(customer)
    if not customer.get_by_test_id("visavis-frame").is_visible():
        launcher.click()
    expect(message(frame, "Karte ist gesperrt", "customer")).to_be_visible()
    expect(frame.locator('[data-testid="message"]')).to_have_count(len(before))
    after = seqs(frame)
    assert after == before
    expect(frame.get_by_test_id("adviser-name")).to_have_text("Anna Berger")
    # Now seen: the badge is gone and the adviser gets the read tick.
    expect(customer.get_by_test_id("visavis-badge")).to_be_hidden()
    expect(message(console, "Ich prüfe das kurz.", "adviser")).to_have_attribute(
        "data-status", "read"
    )

    # The conversation continues after the reload.
    send(frame, "Noch da?")
    expect(message(console, "Noch da?", "customer")).to_have_count(1)

    # The adviser ends it; the customer sees that and can start anew.
    console.get_by_test_id("end-conversation").click()
    console.get_by_test_id("confirm-end").click()
    expect(frame.get_by_test_id("ended-banner")).to_be_visible()
    expect(frame.get_by_test_id("composer")).to_have_count(0)
    frame.get_by_test_id("new-conversation").click()
    expect(frame.get_by_test_id("start-submit")).to_be_visible()
    assert stored_conversation(customer) is None

    # The ended conversation is in the adviser's history with its full transcript.
    console.get_by_test_id("history-tab").click()
    console.get_by_test_id("history-search").fill("gesperrt")
    console.get_by_test_id("history-search").press("Enter")
    hit = console.get_by_test_id("history-entry").filter(has_text="Erika Muster")
    expect(hit).to_have_count(1)
    hit.click()
    expect(message(console, "Karte ist gesperrt", "customer")).to_be_visible()
    expect(message(console, "wie kann ich helfen", "adviser")).to_be_visible()


def test_one_adviser_serves_two_customers(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    live_server.add_adviser("ben@musterbank.test", PASSWORD, "Ben Schulz", max_chats=3)
    alice = users.page()
    bob = users.page(locale="en-US")
    console = users.page()

    alice.goto(base + "/chat")
    start_chat(alice, "Alice", "kredit", "Ich brauche einen Kredit.")
    bob.goto(base + "/chat")
    start_chat(bob, "Bob", None, "I lost my card.")

    login(console, base, "ben@musterbank.test")
    expect(console.get_by_test_id("queue-entry")).to_have_count(2)
    # Oldest first; "Accept next" takes Alice, then Bob.
    expect(console.get_by_test_id("queue-entry").first).to_contain_text("Alice")
    alice_tab = console.get_by_test_id("conversation-tab").filter(has_text="Alice")
    bob_tab = console.get_by_test_id("conversation-tab").filter(has_text="Bob")
    console.get_by_test_id("accept-next").click()
    expect(console.get_by_test_id("conversation-tab")).to_have_count(1)
    # The accepted chat opens at once, so its first message counts as read.
    expect(alice_tab).to_have_attribute("aria-current", "true")
    expect(message(console, "einen Kredit", "customer")).to_be_visible()
    expect(alice_tab.get_by_test_id("unread-count")).to_be_hidden()
    console.get_by_test_id("accept-next").click()
    expect(console.get_by_test_id("conversation-tab")).to_have_count(2)
    expect(console.get_by_test_id("queue-entry")).to_have_count(0)
    expect(console.get_by_test_id("adviser-load")).to_contain_text("2/3")
    bob_tab.click()
    expect(bob_tab).to_have_attribute("aria-current", "true")
    expect(message(console, "lost my card", "customer")).to_be_visible()
    send(console, "Hello Bob, let me block it.")
    expect(message(bob, "let me block it", "adviser")).to_be_visible()
    expect(message(alice, "let me block it")).to_have_count(0)

    # Alice writes while Bob's chat is shown: an unread count on her tab only.
    send(alice, "Sind Sie noch da?")
    expect(alice_tab.get_by_test_id("unread-count")).to_have_text("1")
    send(alice, "Hallo?")
    expect(alice_tab.get_by_test_id("unread-count")).to_have_text("2")
    expect(bob_tab.get_by_test_id("unread-count")).to_be_hidden()
    expect(message(console, "Sind Sie noch da?")).to_have_count(0)  # not in Bob's pane

    alice_tab.click()
    expect(message(console, "Sind Sie noch da?", "customer")).to_be_visible()
    expect(alice_tab.get_by_test_id("unread-count")).to_be_hidden()
    send(console, "Ja, ich bin da.")
    expect(message(alice, "ich bin da", "adviser")).to_be_visible()
    expect(message(bob, "ich bin da")).to_have_count(0)
    expect(message(alice, "Hallo?", "customer")).to_have_attribute("data-status", "read")

    # A customer ends their own conversation; the other goes on.
    bob.get_by_test_id("end-conversation").click()
    bob.get_by_test_id("confirm-end").click()
    expect(bob.get_by_test_id("ended-banner")).to_be_visible()
    bob_tab.click()
    expect(console.get_by_test_id("composer")).to_have_count(0)
    alice_tab.click()
    send(console, "Weiter geht's.")
    expect(message(alice, "Weiter geht's.", "adviser")).to_be_visible()


def test_waiting_count_and_chat_limit(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    live_server.add_adviser("finn@musterbank.test", PASSWORD, "Finn Roth", max_chats=1)
    for name in ("Kunde Eins", "Kunde Zwei"):
        r = httpx.post(base + "/api/v1/conversations", json={"customer_name": name}, timeout=10)
        assert r.status_code == 201, r.text
    console = users.page()
    login(console, base, "finn@musterbank.test")
    console.get_by_test_id("status-toggle").select_option("available")
    # The widget button tells how many are waiting, live.
    shop = users.page()
    shop.goto(base + "/demo")
    expect(shop.get_by_test_id("visavis-launcher")).to_contain_text("2 wartend")

    expect(console.get_by_test_id("queue-entry")).to_have_count(2)
    queue_entry(console, "Kunde Eins").get_by_test_id("accept").click()
    expect(console.get_by_test_id("conversation-tab")).to_have_count(1)
    expect(shop.get_by_test_id("visavis-launcher")).to_contain_text("1 wartend")
    queue_entry(console, "Kunde Zwei").get_by_test_id("accept").click()
    status = console.get_by_test_id("console-error")
    expect(status).to_have_attribute("data-code", "limit_reached")
    expect(status).to_contain_text("maximale Zahl")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(console.get_by_test_id("conversation-tab")).to_have_count(1)


def test_german_and_english_ui(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    live_server.add_adviser("cem@musterbank.test", PASSWORD, "Cem Yilmaz")

    # Browser language English (Accept-Language / navigator.language from the locale).
    en = users.page(locale="en-US")
    en.goto(base + "/chat")
    expect(en.get_by_test_id("start-submit")).to_have_text("Start chat")
    expect(en.locator("html")).to_have_attribute("lang", "en")
    en.get_by_test_id("lang-toggle").click()
    expect(en.get_by_test_id("start-submit")).to_have_text("Chat starten")
    expect(en.locator("html")).to_have_attribute("lang", "de")
    expect(en.locator('[data-testid="start-topic"] option[value="konto"]')).to_have_text(
        "Konto & Karte"
    )

    # ?lang= wins over the browser language.
    de = users.page(locale="de-DE")
    de.goto(base + "/chat?lang=en")
    expect(de.get_by_test_id("start-submit")).to_have_text("Start chat")
    expect(de.locator('[data-testid="start-topic"] option[value="konto"]')).to_have_text(
        "Account & card"
    )
    de.goto(base + "/chat")
    expect(de.get_by_test_id("start-submit")).to_have_text("Chat starten")

    # The widget button follows the host visitor's browser language.
    de.goto(base + "/demo")
    expect(de.get_by_test_id("visavis-launcher")).to_contain_text("Nachricht hinterlassen")
    en.goto(base + "/demo")
    expect(en.get_by_test_id("visavis-launcher")).to_contain_text("Leave a message")

    # The console, both ways, signed out and in.
    console = users.page(locale="en-GB")
    console.goto(base + "/console")
    expect(console.get_by_test_id("login-submit")).to_have_text("Sign in")
    console.get_by_test_id("lang-toggle").click()
    expect(console.get_by_test_id("login-submit")).to_have_text("Anmelden")
    console.get_by_test_id("login-email").fill("cem@musterbank.test")
    console.get_by_test_id("login-password").fill("falsch-falsch")
    console.get_by_test_id("login-submit").click()
    expect(console.get_by_test_id("login-error")).to_have_text("E-Mail oder Passwort ist falsch.")
    login(console, base, "cem@musterbank.test")
    expect(console.get_by_test_id("history-tab")).to_have_text("History")
    console.get_by_test_id("lang-toggle").click()
    expect(console.get_by_test_id("history-tab")).to_have_text("Verlauf")
    expect(console.locator("html")).to_have_attribute("lang", "de")
    console.get_by_test_id("logout").click()
    expect(console.get_by_test_id("login-submit")).to_be_visible()


def test_keyboard_only(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    page = users.page()
    page.goto(base + "/chat")
    expect(page.get_by_test_id("start-name")).to_be_focused()
    page.keyboard.type("Hanna")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("start-topic")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("start-message")).to_be_focused()
    page.keyboard.type("Per Tastatur")
    page.keyboard.press("Enter")
    expect(message(page, "Per Tastatur", "customer")).to_be_visible()
    expect(page.get_by_test_id("composer")).to_be_focused()
    page.keyboard.type("Zeile eins")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("Zeile zwei")
    page.keyboard.press("Enter")
    sent = message(page, "Zeile eins", "customer")
    expect(sent).to_be_visible()
    assert "Zeile eins\nZeile zwei" in sent.locator("p").inner_text()
    expect(page.get_by_test_id("composer")).to_have_value("")

    # The widget launcher works from the keyboard too.
    demo = users.page()
    demo.goto(base + "/demo")
    launcher = demo.get_by_test_id("visavis-launcher")
    expect(launcher).to_be_visible()
    launcher.focus()
    demo.keyboard.press("Enter")
    expect(demo.get_by_test_id("visavis-frame")).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")


def test_phone_viewport(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    live_server.add_adviser("ida@musterbank.test", PASSWORD, "Ida Klein")
    page = users.page(**PHONE)
    frame = open_widget(page, base)
    box = page.get_by_test_id("visavis-frame").bounding_box()
    assert box is not None and box["width"] >= 370 and box["height"] >= 560
    start_chat(frame, "Jonas", None, "Vom Handy")
    expect(frame.get_by_test_id("send")).to_be_in_viewport()
    expect(frame.get_by_test_id("end-conversation")).to_be_in_viewport()

    console = users.page(**PHONE)
    login(console, base, "ida@musterbank.test")
    entry = queue_entry(console, "Jonas")
    expect(entry).to_be_visible()
    entry.get_by_test_id("accept").click()
    expect(message(console, "Vom Handy", "customer")).to_be_visible()
    for p in (page, console):
        assert p.evaluate("document.scrollingElement.scrollWidth") <= 375
