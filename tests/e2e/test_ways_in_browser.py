"""Real Chromium against a real server: every way in (issue 4) and hand-overs.

Topic routing to the right team, the live queue position and wait estimate, the
offline message and call-back flow when a team is closed, picking an adviser in the
portal, an e-mail invitation received by a real SMTP server (aiosmtpd on loopback)
whose link opens the conversation in a fresh browser (also on a phone), a phone code,
booking an appointment (with its ICS invitation parsed), a proactive invitation that
appears only while an adviser is free, and a consultative transfer with an internal
note the customer never sees.

Every test records each request of every browser context and asserts that none went
to an origin other than the server's, that no CSP violation and no uncaught error
happened.
"""

from __future__ import annotations

import json
import re
import struct
import time
import zlib
from collections.abc import Callable
from datetime import datetime

import httpx
import pytest
from conftest import LiveServer, Smtp, mail_text, smtp_env
from invitations import invitation_of
from playwright.sync_api import Locator, Page, expect

from .browser import (
    PASSWORD,
    PHONE,
    STORAGE_KEY,
    Users,
    chat_frame,
    login,
    message,
    queue_entry,
    send,
    start_chat,
    stored_conversation,
)

pytestmark = pytest.mark.e2e

ALWAYS = json.dumps(
    {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
)


# ---------------------------------------------------------------- helpers
def tab(console: Page, name: str) -> Locator:
    return console.get_by_test_id("conversation-tab").filter(has_text=name)


def teams(server: LiveServer, *specs: tuple[str, str, str, str]) -> None:
    """(id, name, topics, hours) per team; restart so the server has them at once."""
    for team_id, name, topics, hours in specs:
        server.cli("team", "set", team_id, "--name", name, "--topics", topics, "--hours", hours)


def member(server: LiveServer, team_id: str, email: str) -> None:
    server.cli("team", "member", team_id, email)


def adviser_id(server: LiveServer, email: str) -> str:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        r = c.post("/api/v1/session", json={"email": email, "password": PASSWORD})
        r.raise_for_status()
        return str(r.json()["adviser"]["id"])


def tiny_png(rgb: tuple[int, int, int] = (11, 87, 164), size: int = 8) -> bytes:
    """A real (decodable) PNG: the browser renders it in the portal."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * size
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def no_horizontal_scroll(page: Page, width: int = 375) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width


# ---------------------------------------------------------------- topic routing (R4.2)
def test_topic_routes_the_customer_to_the_right_team(live_server: LiveServer, users: Users) -> None:
    base = live_server.base_url
    teams(
        live_server,
        ("baufi", "Baufinanzierung", "kredit", ALWAYS),
        ("technik", "Technik-Hotline", "konto", ALWAYS),
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


# ---------------------------------------------------------------- live wait (R5.2)
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


# ---------------------------------------------------------------- offline queue (R5.2)
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


# ---------------------------------------------------------------- adviser portal (R5.4)
def test_pick_an_adviser_in_the_portal(
    server_factory: Callable[..., LiveServer], users_for: Callable[[LiveServer], Users]
) -> None:
    server = server_factory(VISAVIS_REQUESTED_ADVISER_FALLBACK_S="600")
    base = server.base_url
    users = users_for(server)
    server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    server.add_adviser("ben@musterbank.test", PASSWORD, "Ben Schulz")

    # Anna fills in her profile in the console, with a photo (preview, then upload).
    anna = users.page()
    login(anna, base, "anna@musterbank.test", available=True)
    anna.get_by_test_id("profile-tab").click()
    anna.get_by_test_id("profile-listed").check()
    anna.get_by_test_id("profile-languages").fill("de, en, tr")
    anna.locator('[data-testid="profile-topic"][data-topic="kredit"]').check()
    anna.get_by_test_id("profile-bio").fill("Baufinanzierung seit 2010.")
    anna.get_by_test_id("profile-save").click()
    expect(anna.get_by_test_id("profile-status")).to_have_text("Gespeichert.")
    anna.get_by_test_id("profile-photo-input").set_input_files(
        {"name": "anna.png", "mimeType": "image/png", "buffer": tiny_png()}
    )
    expect(anna.get_by_test_id("profile-photo")).to_have_attribute("data-preview", "")
    anna.get_by_test_id("profile-photo-upload").click()
    expect(anna.get_by_test_id("profile-photo-status")).to_have_text("Foto gespeichert.")
    ben = users.page()
    login(ben, base, "ben@musterbank.test", available=True)

    # The customer sees Anna (Ben is not listed), with photo, languages, topics, status.
    portal = users.page()
    portal.goto(base + "/advisers")
    card = portal.get_by_test_id("portal-adviser")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Anna Berger")
    expect(card).to_contain_text("Türkisch")
    expect(card).to_contain_text("Kredit")
    expect(card).to_contain_text("Baufinanzierung seit 2010.")
    photo = card.get_by_test_id("portal-photo")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 8
    expect(card.get_by_test_id("portal-status")).to_have_attribute("data-status", "available")
    # Live status: Anna steps away, the portal shows it without a reload.
    anna.get_by_test_id("status-toggle").select_option("away")
    expect(card.get_by_test_id("portal-status")).to_have_attribute("data-status", "away")
    anna.get_by_test_id("status-toggle").select_option("available")
    expect(card.get_by_test_id("portal-status")).to_have_attribute("data-status", "available")

    # Picking Anna opens the chat for her.
    card.get_by_test_id("portal-pick").click()
    expect(portal).to_have_url(re.compile(r"/chat\?.*adviser="))
    expect(portal.get_by_test_id("picked-adviser")).to_contain_text("Anna Berger")
    start_chat(portal, "Paula Picky", None, "Ich möchte gern mit Frau Berger sprechen.")
    expect(portal.get_by_test_id("queue-position")).to_contain_text("Anna Berger")
    # The server offers the customer to Anna (whom she picked), with a countdown.
    offer = anna.get_by_test_id("offer").filter(has_text="Paula Picky")
    expect(offer).to_be_visible()
    anna.get_by_test_id("chats-tab").click()
    expect(queue_entry(anna, "Paula Picky")).to_be_visible()
    time.sleep(0.5)
    expect(queue_entry(ben, "Paula Picky")).to_have_count(0)  # not before the fallback
    queue_entry(anna, "Paula Picky").get_by_test_id("accept").click()
    expect(portal.get_by_test_id("adviser-name")).to_have_text("Anna Berger")

    # The portal in English on a phone.
    en = users.page(locale="en-GB", **PHONE)
    en.goto(base + "/advisers")
    expect(en.get_by_test_id("portal-pick")).to_have_text("Chat with Anna Berger")
    expect(en.get_by_test_id("portal-adviser")).to_contain_text("Turkish")
    no_horizontal_scroll(en)


# ---------------------------------------------------------------- e-mail link (R5.1)
def test_email_invitation_opens_the_conversation(
    server_factory: Callable[..., LiveServer],
    users_for: Callable[[LiveServer], Users],
    smtp_server: Smtp,
) -> None:
    server = server_factory(**smtp_env(smtp_server))
    base = server.base_url
    users = users_for(server)
    server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    console = users.page()
    login(console, base, "anna@musterbank.test", available=True)

    console.get_by_test_id("open-invite").click()
    dialog = console.get_by_test_id("invite-dialog")
    expect(dialog).to_be_visible()
    expect(console.get_by_test_id("invite-email")).to_be_focused()
    console.get_by_test_id("invite-email").fill("kein-at-zeichen")
    console.get_by_test_id("invite-send").click()
    expect(console.get_by_test_id("invite-error")).to_have_attribute("data-code", "bad_request")
    console.get_by_test_id("invite-email").fill("erika@example.org")
    console.get_by_test_id("invite-name").fill("Erika Muster")
    console.get_by_test_id("invite-send").click()
    expect(console.get_by_test_id("invite-sent")).to_contain_text("erika@example.org")
    console.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(tab(console, "Erika Muster")).to_be_visible()

    # The real SMTP server got the mail; the link is in it.
    mail = smtp_server.wait_for("erika@example.org")[0]
    found = re.search(r"https?://\S+/join/\S+", mail_text(mail))
    assert found, mail_text(mail)
    link = found.group(0)
    assert link.startswith(base)

    # A fresh browser (nothing stored) opens the link: straight into the conversation.
    for i, kwargs in enumerate(({}, PHONE)):
        page = users.page(**kwargs)
        page.goto(link)
        expect(page.get_by_test_id("adviser-name")).to_have_text("Anna Berger")
        expect(page.get_by_test_id("composer")).to_be_visible()
        assert "invite=" not in page.url  # the secret leaves the address bar
        assert page.evaluate(f"localStorage.getItem({STORAGE_KEY!r})") is not None
        text = f"Danke für die Einladung ({i})"
        send(page, text)
        expect(message(console, text, "customer")).to_be_visible()
        send(console, f"Gern geschehen ({i})")
        expect(message(page, f"Gern geschehen ({i})", "adviser")).to_be_visible()
        if kwargs:
            expect(page.get_by_test_id("send")).to_be_in_viewport()
            no_horizontal_scroll(page)
            # A reload keeps the conversation (the token is stored like any other).
            page.reload()
            expect(message(page, f"Gern geschehen ({i})", "adviser")).to_be_visible()

    # A forged link: a clear page, no conversation.
    forged = users.page()
    response = forged.goto(base + "/join/ganz.sicher.echt")
    assert response is not None and response.status == 401
    expect(forged.locator("body")).to_contain_text("ungültig")
    # And a forged fragment in the app: a clear message, the start form.
    forged.goto(base + "/chat#invite=ganz.sicher.echt")
    expect(forged.get_by_role("alert")).to_contain_text("ungültig")
    expect(forged.get_by_test_id("start-submit")).to_be_visible()
    assert forged.evaluate("localStorage.length") == 0


# ---------------------------------------------------------------- phone code (R5.5)
def test_phone_code_leads_into_the_advisers_conversation(
    live_server: LiveServer, users: Users
) -> None:
    base = live_server.base_url
    live_server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    console = users.page()
    login(console, base, "anna@musterbank.test", available=True)

    console.get_by_test_id("open-code").click()
    console.get_by_test_id("phone-code-name").fill("Herr Telefon")
    console.get_by_test_id("phone-code-create").click()
    shown = console.get_by_test_id("phone-code")
    expect(shown).to_have_attribute("data-code", re.compile(r"^\d{6}$"))
    code = shown.get_attribute("data-code") or ""
    expect(shown).to_have_text(f"{code[:3]} {code[3:]}")
    left = console.get_by_test_id("phone-code-left")
    expect(left).to_contain_text(re.compile(r"gültig noch \d+:\d\d"))
    first = left.inner_text()
    expect(left).not_to_have_text(first, timeout=3000)  # counting down
    console.get_by_test_id("phone-code-close").click()
    expect(tab(console, "Herr Telefon")).to_be_visible()

    customer = users.page(**PHONE)
    customer.goto(base + "/code")
    entry = customer.get_by_test_id("code-input")
    expect(entry).to_be_focused()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    entry.fill(wrong)
    customer.get_by_test_id("code-submit").click()
    expect(customer.get_by_test_id("code-error")).to_have_attribute("data-code", "not_found")
    expect(customer.get_by_test_id("code-error")).to_contain_text("nicht gültig")
    no_horizontal_scroll(customer)
    entry.fill(f"{code[:3]} {code[3:]}")  # as read out; the field keeps digits only
    expect(entry).to_have_value(code)
    entry.press("Enter")
    expect(customer).to_have_url(re.compile(r"/chat"))
    expect(customer.get_by_test_id("adviser-name")).to_have_text("Anna Berger")
    send(customer, "Hier ist Herr Telefon.")
    expect(message(console, "Hier ist Herr Telefon.", "customer")).to_be_visible()

    # The code is single-use.
    again = users.page()
    again.goto(base + "/code?lang=en")
    again.get_by_test_id("code-input").fill(code)
    again.get_by_test_id("code-submit").click()
    expect(again.get_by_test_id("code-error")).to_contain_text(re.compile(r"not valid|expired"))

    # "I have a code" in the widget: a second code, typed in the chat app itself.
    console.get_by_test_id("open-code").click()
    console.get_by_test_id("phone-code-name").fill("Frau Widget")
    console.get_by_test_id("phone-code-create").click()
    expect(console.get_by_test_id("phone-code")).to_have_attribute(
        "data-code", re.compile(r"^\d{6}$")
    )
    code2 = console.get_by_test_id("phone-code").get_attribute("data-code") or ""
    console.keyboard.press("Escape")
    shop = users.page()
    shop.goto(base + "/demo")
    shop.get_by_test_id("visavis-launcher").click()
    frame = chat_frame(shop)
    frame.get_by_test_id("way-code").click()
    frame.get_by_test_id("code-input").fill(code2)
    frame.get_by_test_id("code-submit").click()
    expect(frame.get_by_test_id("adviser-name")).to_have_text("Anna Berger")
    send(frame, "Über das Widget mit Code")
    tab(console, "Frau Widget").click()
    expect(message(console, "Über das Widget mit Code", "customer")).to_be_visible()


# ---------------------------------------------------------------- appointments (R5.6)
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


# ---------------------------------------------------------------- proactive (R5.3)
def test_proactive_invitation_only_while_an_adviser_is_free(
    live_server: LiveServer, users: Users
) -> None:
    base = live_server.base_url
    teams(live_server, ("baufi", "Baufinanzierung", "kredit", ALWAYS))
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
    time.sleep(2.5)  # past the rule's time on page: nobody free, no invitation
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

    visitor.get_by_test_id("visavis-invitation-decline").click()
    expect(invitation).to_be_hidden()
    expect(visitor.get_by_test_id("visavis-launcher")).to_be_focused()
    assert visitor.evaluate("sessionStorage.getItem('visavis.declined')") == "1"
    assert visitor.evaluate("localStorage.length") == 0 and ctx.cookies() == []
    # Declined for this visit: not again on the next page, though Anna is free.
    visitor.goto(base + "/demo")
    expect(visitor.get_by_test_id("visavis-launcher")).to_contain_text("verfügbar")
    time.sleep(2)
    expect(invitation).to_be_hidden()

    # Another visitor accepts: the chat panel opens.
    other = users.page(locale="en-GB")
    other.goto(base + "/demo")
    invitation = other.get_by_test_id("visavis-invitation")
    expect(invitation).to_contain_text("Questions about a mortgage?")
    other.get_by_test_id("visavis-invitation-accept").click()
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
        ("baufi", "Baufinanzierung", "kredit", ALWAYS),
        ("technik", "Technik-Hotline", "konto", ALWAYS),
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
    time.sleep(2.5)  # ... well past the rule's time on page
    expect(invitation).to_be_hidden()  # but he is not in Baufinanzierung

    anna = users.page()
    login(anna, base, "anna@musterbank.test", available=True)
    expect(invitation).to_be_visible()
    expect(invitation).to_contain_text("Fragen zur Baufinanzierung?")
    # Anna steps away: gone again, while Tom stays free and the button says so
    anna.get_by_test_id("status-toggle").select_option("away")
    expect(invitation).to_be_hidden()
    expect(launcher).to_contain_text("verfügbar")
    time.sleep(1)
    expect(invitation).to_be_hidden()

    # Available but busy: with her team's limit of one chat reached, Anna is not free.
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


# ---------------------------------------------------------------- transfers (R4.3)
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
    expect(note).to_contain_text("Interne Notiz – für Kunden unsichtbar")
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
