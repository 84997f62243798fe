"""Real Chromium against a real server: a consultative transfer with an internal
note the customer never sees.
"""

from __future__ import annotations

import pytest
from conftest import LiveServer
from playwright.sync_api import expect

from .browser import (
    PASSWORD,
    Users,
    login,
    message,
    queue_entry,
    send,
    start_chat,
)
from .ways_in import adviser_id, tab

pytestmark = pytest.mark.e2e


SECRET_NOTE = "Bonität geprüft – streng vertraulich 4711"


def test_consultative_transfer_with_a_note_the_customer_never_sees(
    live_server: LiveServer, users: Users
) -> None:
    base = live_server.base_url
    live_server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    live_server.add_adviser("ben@musterbank.test", PASSWORD, "Ben Schulz")
    anna = users.page()
    ben = users.page()
    login(anna, base, "anna@musterbank.test", available=True)
    login(ben, base, "ben@musterbank.test", available=True)

    customer = users.page()
    customer.goto(base + "/chat")
    start_chat(customer, "Bob Kunde", None, "Ich brauche eine Videoberatung zur Baufinanzierung.")
    queue_entry(anna, "Bob Kunde").get_by_test_id("accept").click()
    expect(customer.get_by_test_id("adviser-name")).to_have_text("Anna Berger")
    send(anna, "Ich hole einen Kollegen dazu.")
    expect(message(customer, "Kollegen dazu", "adviser")).to_be_visible()

    # Anna asks Ben to join (consultative).
    anna.get_by_test_id("transfer-open").click()
    dialog = anna.get_by_test_id("transfer-dialog")
    expect(dialog).to_be_visible()
    colleague = anna.get_by_test_id("transfer-colleague")
    expect(colleague.locator("option", has_text="Ben Schulz")).to_have_count(1)
    expect(colleague.locator("option", has_text="Anna Berger")).to_have_count(0)
    colleague.select_option(adviser_id(live_server, "ben@musterbank.test"))
    anna.get_by_test_id("transfer-mode-consultative").check()
    anna.get_by_test_id("transfer-go").click()
    expect(dialog).to_be_hidden()
    expect(anna.get_by_test_id("consult-banner")).to_contain_text("Ben Schulz")

    # Ben has the conversation with its whole history; the customer sees him join.
    expect(tab(ben, "Bob Kunde")).to_be_visible()
    tab(ben, "Bob Kunde").click()
    expect(message(ben, "Videoberatung zur Baufinanzierung", "customer")).to_be_visible()
    expect(ben.get_by_test_id("consult-banner")).to_have_attribute("data-part", "consultant")
    expect(message(customer, "Ben Schulz ist dazugekommen")).to_be_visible()

    # Internal notes between the two advisers, clearly marked.
    anna.get_by_test_id("note-input").fill(SECRET_NOTE)
    anna.get_by_test_id("note-send").click()
    note = ben.get_by_test_id("internal-note").filter(has_text=SECRET_NOTE)
    expect(note).to_be_visible()
    expect(note).to_contain_text("Interne Notiz – für Kundinnen und Kunden unsichtbar")
    expect(anna.get_by_test_id("internal-note").filter(has_text=SECRET_NOTE)).to_be_visible()
    ben.get_by_test_id("note-input").fill("Übernehme gern.")
    ben.get_by_test_id("note-input").press("Enter")
    expect(anna.get_by_test_id("internal-note").filter(has_text="Übernehme gern.")).to_be_visible()
    # Notes are not chat messages: they never show as customer/adviser bubbles.
    expect(message(ben, SECRET_NOTE)).to_have_count(0)

    # Anna completes the hand-over: Ben is the adviser, Anna is out.
    anna.get_by_test_id("transfer-complete").click()
    expect(message(customer, "Sie werden jetzt von Ben Schulz beraten")).to_be_visible()
    expect(customer.get_by_test_id("adviser-name")).to_have_text("Ben Schulz")
    expect(anna.get_by_test_id("handed-over")).to_contain_text("Ben Schulz")
    expect(anna.get_by_test_id("composer")).to_have_count(0)
    expect(ben.get_by_test_id("consult-banner")).to_have_count(0)
    send(ben, "Guten Tag, hier ist Ben.")
    expect(message(customer, "hier ist Ben", "adviser")).to_be_visible()
    send(customer, "Hallo Ben!")
    expect(message(ben, "Hallo Ben!", "customer")).to_be_visible()

    # The note never reached the customer's page — not live, not after a reload.
    assert SECRET_NOTE not in customer.content()
    assert "Übernehme gern." not in customer.content()
    customer.reload()
    expect(message(customer, "Hallo Ben!", "customer")).to_be_visible()
    expect(message(customer, "Ben Schulz ist dazugekommen")).to_be_visible()
    html_after = customer.evaluate(
        """() => {
            const walk = (root) => [...root.querySelectorAll('*')].map(
                (el) => (el.shadowRoot ? walk(el.shadowRoot) : '') + (el.textContent || '')
            ).join(' ');
            return walk(document);
        }"""
    )
    assert SECRET_NOTE not in html_after and "Übernehme gern." not in html_after
    assert "Interne Notiz" not in html_after
