"""Real Chromium: a customer moves a booked appointment to another time from the link
in the confirmation mail (R5.6, "cancel and rebook work"), on a phone.

The mails go through a real SMTP server on loopback (aiosmtpd): the customer's
confirmation carries the manage link; after the move, customer and adviser each get
an update whose calendar invitation keeps the UID and raises the SEQUENCE.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from conftest import LiveServer, Smtp, mail_text, smtp_env
from invitations import invitation_of
from playwright.sync_api import Page, Route, expect

from .browser import PASSWORD, PHONE, Users


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375


def test_customer_moves_an_appointment_from_the_mail_link(
    server_factory: Callable[..., LiveServer],
    users_for: Callable[[LiveServer], Users],
    smtp_server: Smtp,
) -> None:
    server = server_factory(**smtp_env(smtp_server))
    base = server.base_url
    users = users_for(server)
    server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    day = (datetime.now(UTC) + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    with httpx.Client(base_url=base, timeout=10) as anna:
        r = anna.post(
            "/api/v1/session", json={"email": "anna@musterbank.test", "password": PASSWORD}
        )
        anna.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        for hour in (9, 10, 11):
            start = day.replace(hour=hour)
            r = anna.post(
                "/api/v1/slots",
                json={
                    "start": start.isoformat(),
                    "end": (start + timedelta(minutes=30)).isoformat(),
                },
            )
            assert r.status_code == 201, r.text
    slots = {s["start"][11:16]: s["id"] for s in httpx.get(base + "/api/v1/slots").json()["slots"]}

    # Erika books 09:00 on her phone.
    erika = users.page(timezone_id="UTC", **PHONE)
    erika.goto(base + "/book")
    erika.locator(f'[data-testid="book-slot"][data-slot-id="{slots["09:00"]}"]').click()
    erika.get_by_test_id("book-name").fill("Erika Muster")
    erika.get_by_test_id("book-email").fill("erika@example.org")
    erika.get_by_test_id("book-submit").click()
    expect(erika.get_by_test_id("book-done-when")).to_contain_text("09:00–09:30")
    expect(erika.get_by_test_id("book-cancel-link")).to_have_text("Termin verschieben oder absagen")
    confirmation = smtp_server.wait_for("erika@example.org", 1)[0]
    smtp_server.wait_for("anna@musterbank.test", 1)
    manage = re.search(r"Termin verschieben oder absagen: (\S+)", mail_text(confirmation))
    assert manage, mail_text(confirmation)
    join = re.search(r"http://\S+/join/\S+", mail_text(confirmation))
    assert join

    # From the mail's link: the appointment as it is, and "move".
    erika.goto(manage.group(1))
    expect(erika.get_by_test_id("book-manage")).to_have_attribute("data-state", "booked")
    expect(erika.get_by_test_id("book-manage-when")).to_contain_text("09:00–09:30")
    expect(erika.get_by_test_id("book-manage-adviser")).to_have_text("Anna Berger")
    erika.get_by_test_id("book-move").click()
    expect(erika.get_by_test_id("book-move-intro")).to_contain_text("Anna Berger")
    expect(erika.get_by_test_id("book-slot")).to_have_count(2)  # 10:00 and 11:00
    no_horizontal_scroll(erika)

    # Someone else takes 10:00 while she looks: a clear message, the old time stays.
    with httpx.Client(base_url=base, timeout=10) as c:
        r = c.post(
            "/api/v1/appointments",
            json={"slot_id": slots["10:00"], "customer_name": "Max", "email": "max@example.org"},
        )
        assert r.status_code == 201, r.text
    erika.locator(f'[data-testid="book-slot"][data-slot-id="{slots["10:00"]}"]').click()
    expect(erika.get_by_test_id("book-move-new")).to_contain_text("10:00–10:30")
    erika.get_by_test_id("book-move-submit").click()
    error = erika.get_by_test_id("book-error")
    expect(error).to_have_attribute("data-code", "slot_taken")
    expect(error).to_contain_text("Ihr bisheriger Termin bleibt bestehen")
    expect(erika.get_by_test_id("book-slot")).to_have_count(1)  # a fresh list: 11:00 only

    # 11:00: while it saves, the button says so and cannot be pressed twice.
    held: list[Route] = []
    erika.route("**/rebook", lambda route: held.append(route))
    erika.get_by_test_id("book-slot").click()
    expect(erika.get_by_test_id("book-move-new")).to_contain_text("11:00–11:30")
    no_horizontal_scroll(erika)
    erika.get_by_test_id("book-move-submit").click()
    expect(erika.get_by_test_id("book-move-submit")).to_be_disabled()
    expect(erika.get_by_test_id("book-progress")).to_have_text("Verschiebe Ihren Termin …")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        erika.wait_for_timeout(50)
    assert len(held) == 1
    held[0].continue_()
    erika.unroute("**/rebook")

    moved = erika.get_by_test_id("book-moved")
    expect(moved).to_be_visible()
    expect(moved).to_be_focused()
    expect(erika.get_by_test_id("book-done-when")).to_contain_text("11:00–11:30")
    expect(erika.get_by_test_id("book-moved-mail")).to_have_attribute("data-mailed", "true")
    no_horizontal_scroll(erika)

    # Both get an update: the same calendar event (UID), a higher SEQUENCE, the new time.
    update = smtp_server.wait_for("erika@example.org", 2)[1]
    to_anna = smtp_server.wait_for("anna@musterbank.test", 3)[-1]  # Max's booking, too
    first = invitation_of(confirmation)
    for mail in (update, to_anna):
        got = invitation_of(mail)
        assert (got.method, got.status) == ("REQUEST", "CONFIRMED"), got
        assert got.uid == first.uid
        assert (first.sequence, got.sequence) == (0, 1)
        assert got.start == day.replace(hour=11)
        assert str(mail["Subject"]).strip().startswith("Verschoben auf")
    assert "Erika Muster (erika@example.org) hat den Termin vom" in mail_text(to_anna)

    # The join link of the first mail still works, for the new time.
    early = users.page(timezone_id="UTC", **PHONE)
    early.goto(join.group(0))
    alert = early.get_by_role("alert").filter(has_text="Ihr Termin beginnt am")
    expect(alert).to_contain_text("10:45")  # 15 minutes before 11:00, not before 09:00

    # The manage link shows the new time, also in English.
    erika.get_by_test_id("book-manage-again").click()
    expect(erika.get_by_test_id("book-manage-when")).to_contain_text("11:00–11:30")
    english = users.page(locale="en-GB", timezone_id="UTC", **PHONE)
    english.goto(manage.group(1))
    expect(english.get_by_test_id("book-manage-when")).to_contain_text("11:00–11:30")
    expect(english.get_by_test_id("book-move")).to_have_text("Move to another time")
    no_horizontal_scroll(english)
