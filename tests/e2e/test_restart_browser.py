"""A server restart in the middle of a chat (R8.2): both browsers reconnect by
themselves, the history is intact, nothing is doubled, and chatting goes on."""

from __future__ import annotations

import pytest
from conftest import LiveServer
from playwright.sync_api import expect

from .browser import PASSWORD, Users, login, message, queue_entry, send, seqs, start_chat

pytestmark = pytest.mark.e2e


def test_both_sides_reconnect_after_a_server_restart(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    live_server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    customer = users.page()
    customer.goto(base + "/chat")
    start_chat(customer, "Erika Muster", None, "Erste Nachricht")
    console = users.page()
    login(console, base, "anna@musterbank.test")
    console.get_by_test_id("status-toggle").select_option("available")
    queue_entry(console, "Erika Muster").get_by_test_id("accept").click()
    expect(message(console, "Erste Nachricht", "customer")).to_be_visible()
    send(console, "Antwort vor dem Neustart")
    expect(message(customer, "Antwort vor dem Neustart", "adviser")).to_be_visible()
    before = seqs(customer)

    live_server.restart()

    # no reload: both pages reconnect on their own (back-off) and resume
    for page in (customer, console):
        expect(page.get_by_test_id("conn-status")).to_have_attribute(
            "data-state", "open", timeout=30_000
        )
    send(customer, "Nach dem Neustart")
    expect(message(console, "Nach dem Neustart", "customer")).to_be_visible()
    send(console, "Auch hier alles da")
    expect(message(customer, "Auch hier alles da", "adviser")).to_be_visible()
    after = seqs(customer)
    assert after[: len(before)] == before
    assert len(after) == len(set(after)), after  # nothing doubled
    expect(message(customer, "Erste Nachricht")).to_have_count(1)
