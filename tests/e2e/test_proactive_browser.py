"""Real Chromium against a real server: a proactive invitation on the demo shop that
appears only while an adviser (of the rule's team) is free.
"""

from __future__ import annotations

import re

import pytest
from conftest import ALWAYS_OPEN, LiveServer
from playwright.sync_api import expect

from .browser import (
    PASSWORD,
    Users,
    chat_frame,
    login,
    message,
    queue_entry,
    start_chat,
)
from .ways_in import member, teams

pytestmark = pytest.mark.e2e


def test_proactive_invitation_only_while_an_adviser_is_free(
    live_server: LiveServer, users: Users
) -> None:
    base = live_server.base_url
    teams(live_server, ("baufi", "Baufinanzierung", "kredit", ALWAYS_OPEN))
    live_server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    member(live_server, "baufi", "anna@musterbank.test")
    live_server.cli(
        "rule", "add", "/demo*", "--seconds", "1", "--team", "baufi",
        "--de", "Fragen zur Baufinanzierung? Wir sind jetzt für Sie da.",
        "--en", "Questions about a mortgage? We are here for you.",
    )  # fmt: skip
    live_server.cli("rule", "add", "/anderswo/*", "--seconds", "0", "--de", "Nie", "--en", "Never")
    live_server.restart()

    ctx = users.new()
    visitor = ctx.new_page()
    visitor.goto(base + "/demo?utm_campaign=herbst")
    invitation = visitor.get_by_test_id("visavis-invitation")
    expect(visitor.get_by_test_id("visavis-launcher")).to_contain_text("Nachricht hinterlassen")
    # past the rule's time on page: nobody free, no invitation
    expect(invitation).to_have_attribute("data-free", "false")
    expect(invitation).to_be_hidden()

    console = users.page()
    login(console, base, "anna@musterbank.test", available=True)  # available
    expect(invitation).to_be_visible()
    expect(invitation).to_contain_text("Fragen zur Baufinanzierung?")
    console.get_by_test_id("status-toggle").select_option("away")
    expect(invitation).to_be_hidden()
    console.get_by_test_id("status-toggle").select_option("available")
    expect(invitation).to_be_visible()
    # Nothing was stored on the visitor's side so far.
    assert visitor.evaluate("document.cookie") == ""
    assert visitor.evaluate("localStorage.length + sessionStorage.length") == 0
    assert ctx.cookies() == []

    invitation.get_by_role("button", name="Nein danke").click()
    expect(invitation).to_be_hidden()
    expect(visitor.get_by_test_id("visavis-launcher")).to_be_focused()
    assert visitor.evaluate("sessionStorage.getItem('visavis.declined')") == "1"
    assert visitor.evaluate("localStorage.length") == 0 and ctx.cookies() == []
    # Declined for this visit: not again on the next page, though Anna is free.
    visitor.goto(base + "/demo")
    expect(visitor.get_by_test_id("visavis-launcher")).to_contain_text("verfügbar")
    # the rule's time on page passes without the invitation looking at availability
    visitor.wait_for_function(
        "() => document.readyState === 'complete' && performance.now() > 1500"
    )
    expect(invitation).not_to_have_attribute("data-free", re.compile("."))
    expect(invitation).to_be_hidden()

    # Another visitor accepts: the chat panel opens.
    other = users.page(locale="en-GB")
    other.goto(base + "/demo")
    invitation = other.get_by_test_id("visavis-invitation")
    expect(invitation).to_contain_text("Questions about a mortgage?")
    invitation.get_by_role("button", name="Start chat").click()
    expect(invitation).to_be_hidden()
    expect(other.get_by_test_id("visavis-frame")).to_be_visible()
    expect(chat_frame(other).get_by_test_id("start-submit")).to_be_visible()


def test_proactive_invitation_waits_for_an_adviser_of_its_own_team(
    live_server: LiveServer, users: Users
) -> None:
    """A free adviser of another team does not bring up the invitation of a rule for
    team A, although the button (all teams) says someone is available."""
    base = live_server.base_url
    teams(
        live_server,
        ("baufi", "Baufinanzierung", "kredit", ALWAYS_OPEN),
        ("technik", "Technik-Hotline", "konto", ALWAYS_OPEN),
    )
    live_server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    live_server.add_adviser("tom@musterbank.test", PASSWORD, "Tom Technik")
    member(live_server, "baufi", "anna@musterbank.test")
    member(live_server, "technik", "tom@musterbank.test")
    live_server.cli(
        "rule", "add", "/demo*", "--seconds", "1", "--team", "baufi",
        "--de", "Fragen zur Baufinanzierung? Wir sind jetzt für Sie da.",
        "--en", "Questions about a mortgage? We are here for you.",
    )  # fmt: skip
    live_server.restart()

    tom = users.page()
    login(tom, base, "tom@musterbank.test", available=True)
    visitor = users.page()
    visitor.goto(base + "/demo")
    launcher = visitor.get_by_test_id("visavis-launcher")
    invitation = visitor.get_by_test_id("visavis-invitation")
    expect(launcher).to_contain_text("verfügbar")  # Tom is free ...
    # ... past the rule's time on page, but he is not in Baufinanzierung
    expect(invitation).to_have_attribute("data-free", "false")
    expect(invitation).to_be_hidden()

    anna = users.page()
    login(anna, base, "anna@musterbank.test", available=True)
    expect(invitation).to_be_visible()
    expect(invitation).to_contain_text("Fragen zur Baufinanzierung?")
    # Anna steps away: gone again, while Tom stays free and the button says so
    anna.get_by_test_id("status-toggle").select_option("away")
    expect(invitation).to_be_hidden()
    expect(launcher).to_contain_text("verfügbar")
    expect(invitation).to_have_attribute("data-free", "false")
    expect(invitation).to_be_hidden()

    # Available but busy: with her team's limit of one chat reached, Anna is not free.
    # (Only the limit changes: the team stays open around the clock.)
    live_server.cli("team", "set", "baufi", "--chat-limit", "1")
    live_server.restart()
    expect(anna.get_by_test_id("conn-status")).to_have_attribute("data-state", "open")
    anna.get_by_test_id("status-toggle").select_option("available")
    expect(invitation).to_be_visible()
    customer = users.page()
    customer.goto(base + "/chat")
    start_chat(customer, "Kundin Kredit", "kredit", "Eine Frage zum Kredit")
    queue_entry(anna, "Kundin Kredit").get_by_test_id("accept").click()
    expect(message(customer, "Eine Frage zum Kredit")).to_be_visible()
    expect(invitation).to_be_hidden()
    anna.get_by_test_id("end-conversation").click()
    anna.get_by_test_id("confirm-end").click()
    expect(invitation).to_be_visible()  # a chat slot is free again
