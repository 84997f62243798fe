"""Signing in real Chromium: the adviser (desktop console) puts a library PDF up for
signature with a box dragged on the page; the customer (a phone: 390x844, touch) sees
the box on the stage, signs by drawing on the canvas, ticks the consent; the server
seals; both download the signed PDF, which pyHanko's own validator and `visavis
verify` accept — and reject once one byte is changed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sample_files
from conftest import LiveServer
from playwright.sync_api import Page, expect
from zygote import run_visavis

from .browser import PASSWORD, Users, login, queue_entry, start_chat

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
SEAL_MS = 120_000  # an upper bound for sealing on a busy machine; the test waits for the state


def room(server: LiveServer, users: Users) -> tuple[Page, Page]:
    base = server.base_url
    server.add_adviser("anna@bank.test", PASSWORD, "Anna Berger")
    customer = users.page(**PHONE)
    console = users.page(viewport={"width": 1280, "height": 900})
    customer.goto(base + "/chat")
    start_chat(customer, "Erika Muster", None, "Ich möchte den Vertrag unterschreiben.")
    login(console, base, "anna@bank.test", available=True)
    queue_entry(console, "Erika Muster").get_by_test_id("accept").click()
    expect(customer.get_by_test_id("adviser-name")).to_have_text("Anna Berger")
    expect(console.get_by_test_id("doc-stage")).to_be_visible()
    return customer, console


def drag(app: Page, testid: str, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A pointer drag across an element, in fractions of its box. Hovering the start
    first lets Playwright scroll it into view and wait until nothing covers it."""
    el = app.get_by_test_id(testid)
    el.scroll_into_view_if_needed()
    box = el.bounding_box()
    assert box is not None
    w, h = box["width"], box["height"]
    el.hover(position={"x": w * start[0], "y": h * start[1]})
    box = el.bounding_box()
    assert box is not None
    x0, y0 = box["x"] + w * start[0], box["y"] + h * start[1]
    x1, y1 = box["x"] + w * end[0], box["y"] + h * end[1]
    app.mouse.down()
    for i in range(1, 16):
        # a wavy line, like a signature
        t = i / 15
        app.mouse.move(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t + (6 if i % 2 else -6))
    app.mouse.up()


def download(app: Page, path: Path) -> bytes:
    button = app.get_by_test_id("signed-download")
    expect(button).to_be_visible(timeout=SEAL_MS)
    with app.expect_download() as d:
        button.click()
    d.value.save_as(path)
    assert d.value.suggested_filename == "Vertrag (unterschrieben).pdf"
    return path.read_bytes()


def verdicts(server: LiveServer, pdf: Path, pem: Path) -> tuple[int, int]:
    """Exit codes of `visavis verify` and of pyHanko's own CLI validator (0: valid)."""
    ours = run_visavis(["verify", str(pdf), "--trust", str(pem)], server.env, timeout=120)
    pyhanko = subprocess.run(
        [str(Path(sys.executable).parent / "pyhanko"), "sign", "validate", "--trust", str(pem),
         "--trust-replace", "--no-revocation-check", "--executive-summary", str(pdf)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return ours.returncode, pyhanko.returncode


def test_customer_on_a_phone_signs_by_drawing_and_both_download(
    live_server: LiveServer, users: Users, tmp_path: Path
) -> None:
    pdf = tmp_path / "Vertrag.pdf"
    pdf.write_bytes(sample_files.pdf(2, text="Vertrag"))
    live_server.cli("library", "add", str(pdf), "--name", "Vertrag.pdf")
    customer, console = room(live_server, users)

    # The adviser shares the PDF and puts it up: a box dragged on page 1.
    console.get_by_test_id("shelf-toggle").click()
    console.get_by_test_id("library-open").click()
    entry = console.get_by_test_id("library-entry").filter(has_text="Vertrag.pdf")
    entry.get_by_test_id("library-share").click()
    expect(console.get_by_test_id("doc-stage")).to_have_attribute("data-presenter", "me")
    console.get_by_test_id("sign-prepare-open").click()
    expect(console.get_by_test_id("sign-prepare")).to_be_visible()
    expect(console.get_by_test_id("sign-sheet").locator("img")).to_be_visible()
    drag(console, "sign-sheet", (0.1, 0.75), (0.5, 0.85))
    box = console.get_by_test_id("sign-box-customer")
    expect(box).to_be_visible()
    # keyboard alternative: the box moves with the arrow keys
    box.focus()
    console.keyboard.press("ArrowUp")
    console.get_by_test_id("sign-send").click()
    expect(console.get_by_test_id("sign-waiting")).to_be_visible()

    # The customer sees the document with the box, and the signing panel.
    expect(customer.get_by_test_id("sign-spot")).to_be_visible()
    expect(customer.get_by_test_id("sign-panel")).to_be_visible()
    consent_text = customer.get_by_test_id("sign-consent-text")
    expect(consent_text).to_contain_text("elektronisch")
    # signing without a signature, then without the consent: the panel says what is missing
    customer.get_by_test_id("sign-submit").click()
    expect(customer.get_by_test_id("sign-pad").get_by_role("alert")).to_have_text(
        "Bitte unterschreiben Sie zuerst."
    )
    drag(customer, "sign-canvas", (0.1, 0.6), (0.9, 0.4))
    assert users.problems == []
    expect(customer.get_by_test_id("sign-canvas")).to_have_attribute("data-drawn", "true")
    customer.get_by_test_id("sign-submit").click()
    expect(customer.get_by_test_id("sign-pad").get_by_role("alert")).to_have_text(
        "Bitte bestätigen Sie das Einverständnis."
    )
    customer.get_by_test_id("sign-consent").check()
    customer.get_by_test_id("sign-submit").click()

    # Sealed: both download the same signed PDF.
    expect(customer.get_by_test_id("sign-completed")).to_be_visible(timeout=SEAL_MS)
    from_customer = download(customer, tmp_path / "customer.pdf")
    from_adviser = download(console, tmp_path / "adviser.pdf")
    assert from_customer == from_adviser

    pem = tmp_path / "seal.pem"
    pem.write_text(live_server.cli("seal-cert"))
    assert verdicts(live_server, tmp_path / "customer.pdf", pem) == (0, 0)
    changed = bytearray(from_customer)
    changed[len(changed) // 3] ^= 0x01
    (tmp_path / "changed.pdf").write_bytes(bytes(changed))
    ours, theirs = verdicts(live_server, tmp_path / "changed.pdf", pem)
    assert ours != 0 and theirs != 0

    # The adviser's history lists the signing.
    line = "Unterschrieben und versiegelt – „Vertrag (unterschrieben).pdf“"
    expect(console.get_by_text(line)).to_be_visible()
    assert users.problems == []
