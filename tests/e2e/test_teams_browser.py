"""Real Chromium against a real server: waiting for a team. Topic routing to the
right team, the live queue position and wait estimate, and the offline message and
call-back flow when a team is closed.
"""

from __future__ import annotations

import re
import time

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
    stored_conversation,
)
from .ways_in import member, tab, teams

pytestmark = pytest.mark.e2e


def test_topic_routes_the_customer_to_the_right_team(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    teams(
        live_server,
        ("baufi", "Baufinanzierung", "kredit", ALWAYS_OPEN),
        ("technik", "Technik-Hotline", "konto", ALWAYS_OPEN),
    )
    live_server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    live_server.add_adviser("ben@musterbank.test", PASSWORD, "Ben Schulz")
    member(live_server, "baufi", "anna@musterbank.test")
    member(live_server, "technik", "ben@musterbank.test")
    live_server.restart()

    anna = users.page()
    ben = users.page()
    login(anna, base, "anna@musterbank.test", available=True)
    login(ben, base, "ben@musterbank.test", available=True)

    kredit = users.page()
    kredit.goto(base + "/chat")
    kredit.get_by_test_id("start-topic").select_option("kredit")
    # The start screen tells, for the chosen topic's team, whether someone is there.
    expect(kredit.get_by_test_id("availability")).to_have_attribute("data-state", "open")
    start_chat(kredit, "Karla Kredit", "kredit", "Ich plane ein Haus.")
    konto = users.page(locale="en-US")
    konto.goto(base + "/chat")
    start_chat(konto, "Tom Konto", "konto", "My card is blocked.")

    # Each team's adviser sees only their team's customer.
    expect(queue_entry(anna, "Karla Kredit")).to_be_visible()
    expect(queue_entry(ben, "Tom Konto")).to_be_visible()
    time.sleep(0.5)
    expect(queue_entry(anna, "Tom Konto")).to_have_count(0)
    expect(queue_entry(ben, "Karla Kredit")).to_have_count(0)

    queue_entry(ben, "Tom Konto").get_by_test_id("accept").click()
    expect(message(ben, "card is blocked", "customer")).to_be_visible()
    expect(konto.get_by_test_id("adviser-name")).to_have_text("Ben Schulz")
    queue_entry(anna, "Karla Kredit").get_by_test_id("accept").click()
    expect(kredit.get_by_test_id("adviser-name")).to_have_text("Anna Berger")


def test_live_position_and_wait_estimate(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    live_server.add_adviser("finn@musterbank.test", PASSWORD, "Finn Roth", max_chats=1)
    console = users.page()
    login(console, base, "finn@musterbank.test", available=True)

    first = users.page()
    first.goto(base + "/chat")
    start_chat(first, "Erste", None, "Ich war zuerst da.")
    queue_entry(console, "Erste").get_by_test_id("accept").click()
    expect(first.get_by_test_id("adviser-name")).to_have_text("Finn Roth")

    # Finn is busy (1 of 1 chats): the next two wait, with position and estimate.
    second = users.page()
    second.goto(base + "/chat")
    start_chat(second, "Zweite", None, "Ich warte.")
    third = users.page(locale="en-GB")
    third.goto(base + "/chat")
    start_chat(third, "Third", None, "Me too.")
    pos2 = second.get_by_test_id("queue-position")
    pos3 = third.get_by_test_id("queue-position")
    expect(pos2).to_have_attribute("data-position", "1")
    expect(pos3).to_have_attribute("data-position", "2")
    expect(pos3).to_have_attribute("data-waiting", "2")
    expect(pos3).to_contain_text("number 2")
    est2 = second.get_by_test_id("queue-estimate")
    est3 = third.get_by_test_id("queue-estimate")
    expect(est2).to_contain_text(
        re.compile(r"Geschätzte Wartezeit: (ca\. \d+ Min\.|unter 1 Min\.)")
    )
    expect(est3).to_contain_text(re.compile(r"Estimated wait: (about \d+ min|under a minute)"))
    assert float(est3.get_attribute("data-estimate") or "nan") >= float(
        est2.get_attribute("data-estimate") or "nan"
    )
    # The widget button on the shop page shows the wait too.
    shop = users.page()
    shop.goto(base + "/demo")
    expect(shop.get_by_test_id("visavis-launcher")).to_contain_text(
        re.compile(r"2 wartend, ca\. \d+ Min\.")
    )

    # Live: the first customer leaves, Finn takes the next; the third moves up.
    first.get_by_test_id("end-conversation").click()
    first.get_by_test_id("confirm-end").click()
    # Finn's one chat slot is free once the end is through (as he would see it)
    expect(first.get_by_test_id("ended-banner")).to_be_visible()
    queue_entry(console, "Zweite").get_by_test_id("accept").click()
    expect(second.get_by_test_id("adviser-name")).to_have_text("Finn Roth")
    expect(second.get_by_test_id("queue-estimate")).to_have_count(0)
    expect(pos3).to_have_attribute("data-position", "1")
    expect(pos3).to_contain_text("next")
    expect(shop.get_by_test_id("visavis-launcher")).to_contain_text("1 wartend")

    # Nobody available any more: the estimate is unknown, not a made-up number.
    console.get_by_test_id("status-toggle").select_option("away")
    expect(est3).to_contain_text("unknown")
    expect(est3).to_have_attribute("data-estimate", "")


def test_closed_team_offers_message_and_call_back(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    teams(live_server, ("nachts", "Allgemeine Beratung", "beratung", "{}"))
    live_server.add_adviser("boss@musterbank.test", PASSWORD, "Bea Boss", role="supervisor")
    live_server.restart()

    # The widget button says we are closed.
    shop = users.page()
    shop.goto(base + "/demo")
    expect(shop.get_by_test_id("visavis-launcher")).to_contain_text(
        "Geschlossen – Nachricht hinterlassen"
    )
    shop.get_by_test_id("visavis-launcher").click()
    frame = chat_frame(shop)
    expect(frame.get_by_test_id("availability")).to_have_attribute("data-state", "closed")
    expect(frame.get_by_test_id("availability")).to_contain_text("nicht erreichbar")

    # Trying to chat anyway: the server says `closed`, the text is kept for a message.
    frame.get_by_test_id("start-name").fill("Erika Muster")
    frame.get_by_test_id("start-topic").select_option("beratung")
    frame.get_by_test_id("start-message").fill("Bitte melden Sie sich wegen meines Depots.")
    frame.get_by_test_id("start-submit").click()
    form = frame.get_by_test_id("offline-form")
    expect(form).to_be_visible()
    expect(form).to_have_attribute("data-kind", "message")
    expect(frame.get_by_test_id("offline-text")).to_have_value(
        "Bitte melden Sie sich wegen meines Depots."
    )
    expect(frame.get_by_test_id("offline-name")).to_have_value("Erika Muster")
    frame.get_by_test_id("offline-contact").fill("keine adresse")
    frame.get_by_test_id("offline-submit").click()
    expect(frame.get_by_test_id("offline-error")).to_contain_text("E-Mail-Adresse")
    frame.get_by_test_id("offline-contact").fill("erika@example.org")
    frame.get_by_test_id("offline-submit").click()
    expect(frame.get_by_test_id("offline-sent")).to_contain_text("erika@example.org")
    frame.get_by_test_id("offline-done").click()
    expect(frame.get_by_test_id("start-submit")).to_be_visible()
    assert stored_conversation(shop) is None  # nothing to resume: the answer comes by e-mail

    # A call-back request from the bare app, in English.
    en = users.page(locale="en-US")
    en.goto(base + "/chat")
    en.get_by_test_id("start-topic").select_option("beratung")
    expect(en.get_by_test_id("availability")).to_have_attribute("data-state", "closed")
    en.get_by_test_id("way-callback").click()
    en.get_by_test_id("offline-name").fill("John Doe")
    en.get_by_test_id("offline-contact").fill("+49 30 1234567")
    en.get_by_test_id("offline-text").fill("Please call me about a loan tomorrow.")
    en.get_by_test_id("offline-submit").click()
    expect(en.get_by_test_id("offline-sent")).to_contain_text("call you back at +49 30 1234567")

    # The supervisor works the offline queue later: contact and text, then takes one.
    console = users.page()
    login(console, base, "boss@musterbank.test", available=True)
    offline = console.get_by_test_id("offline-entry")
    expect(offline).to_have_count(2)
    erika = offline.filter(has_text="Erika Muster")
    expect(erika).to_have_attribute("data-kind", "message")
    expect(erika.get_by_test_id("offline-contact")).to_have_text("erika@example.org")
    expect(erika).to_contain_text("wegen meines Depots")
    john = offline.filter(has_text="John Doe")
    expect(john).to_have_attribute("data-kind", "callback")
    expect(john.get_by_test_id("offline-contact")).to_have_attribute("href", "tel:+49301234567")
    erika.get_by_test_id("offline-take").click()
    expect(tab(console, "Erika Muster")).to_be_visible()
    expect(console.get_by_test_id("offline-entry")).to_have_count(1)
    expect(message(console, "wegen meines Depots", "customer")).to_be_visible()
