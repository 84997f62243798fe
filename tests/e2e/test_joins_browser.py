"""Real Chromium against a real server: ways in to one adviser. Picking an adviser
in the portal, an e-mail invitation received by a real SMTP server (aiosmtpd on
loopback) whose link opens the conversation in a fresh browser (also on a phone), and
a phone code.
"""

from __future__ import annotations

import re
import struct
import time
import zlib
from collections.abc import Callable

import pytest
from conftest import LiveServer, Smtp, mail_text, smtp_env
from playwright.sync_api import expect

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
)
from .ways_in import no_horizontal_scroll, tab

pytestmark = pytest.mark.e2e


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
    # decode() waits for the image to arrive (and fails if it cannot be shown)
    assert photo.evaluate("img => img.decode().then(() => img.naturalWidth)") == 8
    expect(card.get_by_test_id("portal-status")).to_have_attribute("data-status", "available")
    # Live status: Anna steps away, the portal shows it without a reload.
    anna.get_by_test_id("status-toggle").select_option("away")
    # the server's answer in her console (status.set acked), then on the portal
    expect(anna.get_by_test_id("status-toggle")).to_have_attribute("data-status", "away")
    expect(card.get_by_test_id("portal-status")).to_have_attribute("data-status", "away")
    anna.get_by_test_id("status-toggle").select_option("available")
    expect(anna.get_by_test_id("status-toggle")).to_have_attribute("data-status", "available")
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
