"""Two Chromium contexts fill in one form together: the adviser opens it with a value
entered before opening, the customer's page fills in its prefill values, both see
who is in which field, a value the server refuses (a phone number `phonenumbers`
does not take) shows its error on both sides, submitting is refused while the form
is incomplete, then submitted, confirmed by the customer and downloaded as PDF and
JSON by both."""

from __future__ import annotations

import json
from pathlib import Path

import pypdfium2
import pytest
from conftest import LiveServer
from forms_samples import every_kind_json
from playwright.sync_api import Locator, Page, expect

from .browser import PASSWORD, Users, login, message, start_chat
from .test_axe import violations

pytestmark = pytest.mark.e2e


def field(app: Page, name: str) -> Locator:
    return app.locator(f'[data-testid="vv-form"] [data-testid="form-field"][data-field="{name}"]')


def pdf_text(path: Path) -> str:
    pdf = pypdfium2.PdfDocument(path.read_bytes())
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def test_a_form_filled_in_together(live_server: LiveServer, users: Users, tmp_path: Path) -> None:
    base = live_server.base_url
    template = tmp_path / "every-kind.json"
    template.write_bytes(every_kind_json())
    live_server.cli("form", "add", str(template))
    live_server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    customer = users.page(accept_downloads=True)
    console = users.page(accept_downloads=True)
    console.clock.install()  # runs as usual; paused below to hold an edit back

    # The customer's chat came with a value for forms (?prefill_email=).
    customer.goto(base + "/chat?prefill_email=erika%40example.org")
    start_chat(customer, "Erika Groß", None, "Ich möchte meine Daten angeben.")
    login(console, base, "anna@musterbank.test", available=True)
    console.get_by_test_id("queue-entry").filter(has_text="Erika Groß").get_by_test_id(
        "accept"
    ).click()
    expect(message(console, "Daten angeben", "customer")).to_be_visible()

    # The adviser picks the template, enters a value before opening, opens it.
    console.get_by_test_id("form-pick").click()
    console.get_by_test_id("form-template").select_option("every-kind")
    draft = console.get_by_test_id("form-picker")
    draft.locator("#vvf-count").fill("3")
    assert violations(console) == []  # the picker with its draft form
    draft.get_by_test_id("form-open").click()
    expect(console.get_by_test_id("form-picker")).to_have_count(0)

    # Both see it; the customer's page filled in its name and e-mail address.
    for app in (customer, console):
        expect(app.locator('[data-testid="vv-form"][data-status="open"]')).to_be_visible()
        expect(field(app, "count").locator("input")).to_have_value("3")
        expect(field(app, "name").locator("input")).to_have_value("Erika Groß")
        expect(field(app, "mail").locator("input")).to_have_value("erika@example.org")
    expect(message(console, "Formular geöffnet: Alle Arten")).to_be_visible()

    # Who is in which field: the adviser sees the customer at the phone field.
    field(customer, "phone").locator("input").focus()
    expect(field(console, "phone").get_by_test_id("form-occupied")).to_have_text(
        "Die Kundin oder der Kunde tippt …"
    )
    # A number the browser lets through but the server's phonenumbers refuses: the
    # server's error at the field, on both sides, with aria-invalid and its text.
    field(customer, "phone").locator("input").fill("030 12")
    for app in (customer, console):
        phone = field(app, "phone")
        expect(phone.locator("input")).to_have_value("030 12")
        expect(phone.locator("input")).to_have_attribute("aria-invalid", "true")
        expect(phone.get_by_test_id("form-errors")).to_contain_text("gültige Telefonnummer")
        described = phone.locator("input").get_attribute("aria-describedby") or ""
        assert "vvf-phone-err" in described.split()
    # Errors, the "is typing" marker, radio groups, checkboxes: accessible (axe, WCAG AA).
    assert violations(customer) == []
    assert violations(console) == []
    # A phone number makes "when?" appear (dependentRequired), on both sides.
    expect(field(console, "when")).to_be_visible()
    field(customer, "phone").locator("input").blur()
    expect(field(console, "phone").get_by_test_id("form-occupied")).to_have_count(0)

    # The adviser corrects it; the error goes on both sides.
    field(console, "phone").locator("input").fill("030 1234567")
    for app in (customer, console):
        expect(field(app, "phone").locator("input")).to_have_value("030 1234567")
        expect(field(app, "phone").get_by_test_id("form-errors")).to_have_count(0)
    field(console, "when").get_by_label("Ja").check()
    expect(field(customer, "when").get_by_label("Ja")).to_be_checked()

    # Two people at one field: the adviser's edit is held back (their page's clock
    # paused: it waits for a pause in typing) while the customer's change of the same
    # field lands. Sent then, based on the old revision, it is refused: the adviser
    # sees the customer's value and a notice quoting what they typed.
    console.clock.pause_at(console.evaluate("() => Date.now()") + 1000)
    field(console, "code").locator("input").fill("AAA")
    field(customer, "code").locator("input").fill("BBB")
    field(customer, "answer").get_by_label("Ja").check()  # sent after "code"
    expect(field(console, "answer").get_by_label("Ja")).to_be_checked()  # so "code" came too
    expect(field(console, "code").locator("input")).to_have_value("AAA")  # still held back
    console.clock.resume()
    conflict = field(console, "code").get_by_test_id("form-conflict")
    expect(conflict).to_contain_text("Die Kundin oder der Kunde hat dieses Feld gerade geändert")
    expect(conflict).to_contain_text("„AAA“")
    expect(field(console, "code").locator("input")).to_have_value("BBB")
    expect(field(customer, "code").locator("input")).to_have_value("BBB")
    expect(field(customer, "code").get_by_test_id("form-conflict")).to_have_count(0)

    # Submitting an incomplete form is refused: the missing field is marked for both.
    console.get_by_test_id("form-submit").click()
    expect(console.get_by_test_id("form-message")).to_contain_text("noch nicht vollständig")
    expect(field(console, "agree").get_by_test_id("form-errors")).to_contain_text("Bitte ausfüllen")
    field(customer, "agree").locator("input").check()
    expect(field(console, "agree").locator("input")).to_be_checked()
    expect(field(console, "agree").get_by_test_id("form-errors")).to_have_count(0)
    console.get_by_test_id("form-submit").click()

    # Submitted: the customer confirms; both see it.
    expect(customer.get_by_test_id("form-state")).to_contain_text("bestätigen Sie")
    expect(field(customer, "name").locator("input")).to_be_disabled()
    customer.get_by_test_id("form-confirm").click()
    for app in (customer, console):
        expect(app.locator('[data-testid="vv-form"][data-status="confirmed"]')).to_be_visible()
    expect(message(customer, "Formular bestätigt: Alle Arten")).to_be_visible()
    assert violations(customer) == []  # disabled fields, confirmation, downloads

    # Downloads: the customer's with their token, the adviser's from the log line.
    with customer.expect_download() as got:
        customer.get_by_test_id("form-pdf").click()
    pdf = tmp_path / "customer.pdf"
    got.value.save_as(pdf)
    text = pdf_text(pdf)
    assert "Erika Groß" in text and "030 1234567" in text and "erika@example.org" in text
    with customer.expect_download() as got:
        customer.get_by_test_id("form-json").click()
    saved = tmp_path / "customer.json"
    got.value.save_as(saved)
    record = json.loads(saved.read_text())
    assert record["status"] == "confirmed" and record["values"]["count"] == 3
    assert record["values"]["when"] == "ja" and record["values"]["agree"] is True
    with console.expect_download() as got:
        console.get_by_test_id("form-line-pdf").click()
    pdf = tmp_path / "adviser.pdf"
    got.value.save_as(pdf)
    assert "Alle Arten" in pdf_text(pdf)


def test_an_admin_keeps_the_templates_in_the_console(
    live_server: LiveServer, users: Users, tmp_path: Path
) -> None:
    base = live_server.base_url
    live_server.add_adviser("root@musterbank.test", PASSWORD, "Root", role="admin")
    live_server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    good = tmp_path / "every-kind.json"
    good.write_bytes(every_kind_json())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**json.loads(every_kind_json()), "id": "Falsch"}))
    admin = users.page()
    login(admin, base, "root@musterbank.test")
    admin.get_by_test_id("forms-tab").click()
    view = admin.get_by_test_id("form-templates")
    expect(view).to_be_visible()
    view.get_by_test_id("form-template-file").set_input_files(str(good))
    expect(view.get_by_test_id("form-templates-message")).to_have_text(
        "Alle Arten: Version 1 gespeichert."
    )
    expect(view.get_by_test_id("form-template")).to_have_count(1)
    expect(view.get_by_test_id("form-template")).to_contain_text("Version 1 · 16 Felder")
    # a wrong file: the server's words, naming where the problem is
    view.get_by_test_id("form-template-file").set_input_files(str(bad))
    expect(view.get_by_test_id("form-templates-problem")).to_contain_text(
        "id: 'Falsch' does not match"
    )
    assert violations(admin) == []
    view.get_by_role("button", name="Alle Arten entfernen").click()
    expect(view.get_by_test_id("form-template")).to_have_count(0)
    # an adviser has no such view
    adviser = users.page()
    login(adviser, base, "anna@musterbank.test")
    expect(adviser.get_by_test_id("history-tab")).to_be_visible()
    expect(adviser.get_by_test_id("forms-tab")).to_have_count(0)
