"""Real Chromium: the supervisors' overview follows advisers' status and load, and the
running conversations, as they change (R12.1) — pushed by the server, not polled."""

from __future__ import annotations

import re

import pytest
from conftest import LiveServer
from playwright.sync_api import Request, expect

from .browser import PASSWORD, Users, login, queue_entry, start_chat

pytestmark = pytest.mark.e2e

# What the overview used to poll every 5 s.
POLLED = re.compile(r"/api/v1/(advisers|conversations)(\?|$)")


def test_overview_follows_status_and_load_without_polling(
    live_server: LiveServer, users: Users
) -> None:
    base = live_server.base_url
    live_server.add_adviser("boss@musterbank.test", PASSWORD, "Bea Boss", role="supervisor")
    live_server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")

    boss = users.page()
    fetched: list[str] = []

    def record(req: Request) -> None:
        if POLLED.search(req.url):
            fetched.append(req.url)

    boss.on("request", record)
    login(boss, base, "boss@musterbank.test")
    boss.get_by_test_id("overview-tab").click()
    anna_row = boss.get_by_test_id("overview-adviser").filter(has_text="Anna Berger")
    expect(anna_row).to_have_attribute("data-status", "offline")

    # Anna signs in (away, as added), then goes available.
    anna = users.page()
    login(anna, base, "anna@musterbank.test")
    expect(anna.get_by_test_id("overview-tab")).to_have_count(0)
    expect(anna_row).to_have_attribute("data-status", "away")
    anna.get_by_test_id("status-toggle").select_option("available")
    expect(anna_row).to_have_attribute("data-status", "available")

    # She takes a customer: her load and the running conversation.
    customer = users.page()
    customer.goto(base + "/chat")
    start_chat(customer, "Erika Muster", None, "Hallo, eine Frage zum Konto.")
    queue_entry(anna, "Erika Muster").get_by_test_id("accept").click()
    expect(anna_row).to_have_attribute("data-active", "1")
    expect(anna_row.get_by_test_id("overview-load")).to_have_text("1/3")
    live = boss.get_by_test_id("overview-conversation")
    expect(live.filter(has_text="Erika Muster")).to_contain_text("Anna Berger")

    # She steps away during the chat, then ends it.
    anna.get_by_test_id("status-toggle").select_option("away")
    expect(anna_row).to_have_attribute("data-status", "away")
    anna.get_by_test_id("end-conversation").click()
    anna.get_by_test_id("confirm-end").click()
    expect(anna_row).to_have_attribute("data-active", "0")
    expect(live).to_have_count(0)

    # The supervisor's page fetched none of it: each change came over the WebSocket,
    # so no poll (whatever its interval) can have shown it.
    assert fetched == []
