"""Real Chromium against a real server: booking an appointment in the booking page,
with its calendar (ICS) invitation received by a real SMTP server and parsed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import pytest
from conftest import LiveServer, Smtp, mail_text, smtp_env
from invitations import invitation_of
from playwright.sync_api import expect

from .browser import (
    PASSWORD,
    Users,
    login,
)

pytestmark = pytest.mark.e2e


def test_book_an_appointment_with_calendar_invitation(
    server_factory: Callable[..., LiveServer],
    users_for: Callable[[LiveServer], Users],
    smtp_server: Smtp,
) -> None:
    server = server_factory(**smtp_env(smtp_server))
    base = server.base_url
    users = users_for(server)
    server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")

    # Anna offers two slots tomorrow in "my slots".
    console = users.page()
    login(console, base, "anna@musterbank.test", available=True)
    console.get_by_test_id("slots-tab").click()
    console.get_by_test_id("slot-time").fill("10:00")
    console.get_by_test_id("slot-length").select_option("30")
    console.get_by_test_id("slot-add").click()
    expect(console.get_by_test_id("my-slot")).to_have_count(1)
    expect(console.get_by_test_id("slot-time")).to_have_value("10:30")  # the next one follows
    console.get_by_test_id("slot-add").click()
    expect(console.get_by_test_id("my-slot")).to_have_count(2)
    expect(console.get_by_test_id("my-slot").first).to_contain_text("10:00–10:30")

    # Two customers look at the free slots at the same time.
    erika = users.page()
    erika.goto(base + "/book")
    slot = erika.get_by_test_id("book-slot").first
    expect(erika.get_by_test_id("book-slot")).to_have_count(2)
    expect(slot).to_contain_text("10:00–10:30")
    expect(slot).to_contain_text("Anna Berger")
    start_iso = slot.get_attribute("data-start") or ""
    rival = users.page(locale="en-US")
    rival.goto(base + "/book")
    expect(rival.get_by_test_id("book-slot")).to_have_count(2)

    slot.click()
    expect(erika.get_by_test_id("book-chosen")).to_contain_text("Anna Berger")
    erika.get_by_test_id("book-name").fill("Erika Muster")
    erika.get_by_test_id("book-email").fill("erika@example.org")
    erika.get_by_test_id("book-submit").click()
    done = erika.get_by_test_id("book-done")
    expect(done).to_be_visible()
    expect(erika.get_by_test_id("book-done-adviser")).to_have_text("Anna Berger")
    expect(erika.get_by_test_id("book-done-when")).to_contain_text("10:00–10:30")
    expect(done).to_contain_text(".ics")

    # Someone else was faster: the rival gets a clear message and a fresh list.
    rival.get_by_test_id("book-slot").first.click()
    rival.get_by_test_id("book-name").fill("Rival")
    rival.get_by_test_id("book-email").fill("rival@example.org")
    rival.get_by_test_id("book-submit").click()
    expect(rival.get_by_test_id("book-error")).to_have_attribute("data-code", "slot_taken")
    expect(rival.get_by_test_id("book-error")).to_contain_text("Someone was faster")
    expect(rival.get_by_test_id("book-slot")).to_have_count(1)
    expect(rival.get_by_test_id("book-slot")).to_contain_text("10:30–11:00")

    # The e-mail has a valid calendar invitation with the slot's time and the link.
    mail = smtp_server.wait_for("erika@example.org")[0]
    invitation = invitation_of(mail)
    assert (invitation.method, invitation.version) == ("REQUEST", "2.0")
    assert invitation.start == datetime.fromisoformat(start_iso.replace("Z", "+00:00"))
    join = re.search(r"https?://[^\s\\]+/join/[^\s\\]+", mail_text(mail))
    assert join, mail_text(mail)
    assert join.group(0) in invitation.description
    assert invitation.url == join.group(0)
    assert [(a.name, a.email) for a in invitation.attendees] == [
        ("Erika Muster", "erika@example.org")
    ]
    assert invitation.organizer.name == "Anna Berger"
    smtp_server.wait_for("anna@musterbank.test")  # the adviser got one too

    # Anna sees the slot booked.
    console.reload()
    console.get_by_test_id("slots-tab").click()
    booked = console.locator('[data-testid="my-slot"][data-booked]')
    expect(booked).to_have_count(1)
    expect(booked).to_contain_text("gebucht")

    # Cancel with the link, then book again.
    erika.get_by_test_id("book-cancel-link").click()
    expect(erika).to_have_url(re.compile(r"/book\?appointment="))
    erika.get_by_test_id("book-cancel").click()
    expect(erika.get_by_test_id("book-cancelled")).to_be_visible()
    assert "token=" not in erika.url
    erika.get_by_test_id("book-rebook").click()
    expect(erika.get_by_test_id("book-slot")).to_have_count(2)
