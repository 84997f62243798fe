"""Real Chromium against a real server: messages written while the network is gone
are delivered exactly once, and an unsent message survives a closed tab.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from conftest import LiveServer
from playwright.sync_api import Browser, Playwright, expect

from .browser import (
    PASSWORD,
    Users,
    chromium,
    login,
    message,
    queue_entry,
    send,
    seqs,
    start_chat,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser(playwright: Playwright) -> Iterator[Browser]:
    """A fresh Chromium for every test here (tests/e2e/conftest.py has one per module)."""
    with chromium(playwright) as b:
        yield b


def test_offline_message_is_delivered_exactly_once(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    live_server.add_adviser("emil@musterbank.test", PASSWORD, "Emil Braun")
    ctx = users.new()
    customer = ctx.new_page()
    console = users.page()
    customer.goto(base + "/chat")
    start_chat(customer, "Frieda", None, "Hallo!")
    login(console, base, "emil@musterbank.test")
    queue_entry(console, "Frieda").get_by_test_id("accept").click()
    expect(customer.get_by_test_id("adviser-name")).to_have_text("Emil Braun")
    expect(customer.get_by_test_id("conn-status")).to_have_attribute("data-state", "open")

    ctx.set_offline(True)
    send(customer, "Gesendet im Funkloch")
    expect(customer.get_by_test_id("conn-status")).to_have_attribute("data-state", "reconnecting")
    expect(customer.get_by_test_id("conn-status")).to_contain_text("verbinde neu")
    pending = message(customer, "Gesendet im Funkloch", "customer")
    expect(pending).to_have_attribute("data-status", "sending")
    time.sleep(3)
    ctx.set_offline(False)

    expect(customer.get_by_test_id("conn-status")).to_have_attribute(
        "data-state", "open", timeout=15_000
    )
    expect(pending).to_have_count(1)
    expect(pending).not_to_have_attribute("data-status", "sending", timeout=15_000)
    expect(message(console, "Gesendet im Funkloch", "customer")).to_have_count(1)
    # Nothing doubled on either side, even after a reload that replays the history.
    customer.reload()
    expect(message(customer, "Gesendet im Funkloch", "customer")).to_have_count(1)
    all_seqs = seqs(customer)
    assert len(all_seqs) == len(set(all_seqs))
    time.sleep(0.5)
    expect(message(console, "Gesendet im Funkloch", "customer")).to_have_count(1)


def test_unsent_message_survives_a_closed_tab(live_server: LiveServer, users: Users) -> None:
    """The outbox is persisted with the token: a tab closed before the ack still sends."""
    base = live_server.base_url
    ctx = users.new()
    page = ctx.new_page()
    page.goto(base + "/chat")
    start_chat(page, "Gustav", None, "Erste Nachricht")
    ctx.set_offline(True)
    send(page, "Vor dem Schließen geschrieben")
    expect(message(page, "Vor dem Schließen", "customer")).to_have_attribute(
        "data-status", "sending"
    )
    page.close()
    ctx.set_offline(False)
    page = ctx.new_page()
    page.goto(base + "/chat")
    sent = message(page, "Vor dem Schließen geschrieben", "customer")
    expect(sent).to_have_count(1)
    expect(sent).not_to_have_attribute("data-status", "sending")
    expect(sent).to_have_attribute("data-seq", re.compile(r"^\d+$"))
