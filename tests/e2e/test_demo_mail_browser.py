"""`visavis demo` without a mail server: its mail catcher takes the invitations and
booking confirmations, /demo/mail shows them (escaped, links clickable, strict CSP),
and the link in an invitation leads the customer into the chat."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, free_port
from playwright.sync_api import Browser, expect

from .browser import Users, message

pytestmark = pytest.mark.e2e


@dataclass
class Demo:
    base_url: str
    email: str
    password: str


def _found(label: str, text: str) -> str:
    for line in text.splitlines():
        if line.strip().startswith(label):
            return line.split(label, 1)[1].strip()
    raise AssertionError(f"{label!r} not in the demo's output:\n{text}")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("VISAVIS_")  # the demo as a new user starts it: no mail server
    }
    env |= {"VISAVIS_DATA_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "demo.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "visavis", "demo", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 180  # an upper bound (the demo encodes a video first)
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            text = log.read_text()
            # The demo's output names the mailbox.
            assert _found("Mails the demo sent:", text) == f"{base}/demo/mail", text
            yield Demo(base, _found("Adviser login:", text), _found("Password:", text))
        finally:
            proc.terminate()
            proc.wait(10)


def test_demo_invitation_and_booking_arrive_in_the_demo_mailbox(
    demo: Demo, browser: Browser
) -> None:
    users = Users(browser, demo.base_url)
    try:
        # The demo page links the mailbox; before any mail it says how to get one.
        page = users.page()
        page.goto(demo.base_url + "/demo")
        page.get_by_role("link", name="Demo-Postfach").click()
        expect(page.get_by_test_id("demo-mail-empty")).to_be_visible()

        # The adviser invites a customer by e-mail from the console.
        console = users.page()
        console.goto(demo.base_url + "/console")
        console.get_by_test_id("login-email").fill(demo.email)
        console.get_by_test_id("login-password").fill(demo.password)
        console.get_by_test_id("login-submit").click()
        console.get_by_test_id("open-invite").click()
        console.get_by_test_id("invite-email").fill("erika@example.org")
        console.get_by_test_id("invite-name").fill("Erika <b>Muster</b>")
        console.get_by_test_id("invite-send").click()
        expect(console.get_by_test_id("invite-sent")).to_contain_text("erika@example.org")
        console.get_by_test_id("invite-close").click()

        # The adviser offers a slot tomorrow; a customer books it on the booking page.
        console.get_by_test_id("slots-tab").click()
        console.get_by_test_id("slot-time").fill("10:00")
        console.get_by_test_id("slot-add").click()
        expect(console.get_by_test_id("my-slot")).to_have_count(1)
        customer = users.page()
        customer.goto(demo.base_url + "/book")
        customer.get_by_test_id("book-slot").first.click()
        customer.get_by_test_id("book-name").fill("Max Kunde")
        customer.get_by_test_id("book-email").fill("max@example.org")
        customer.get_by_test_id("book-submit").click()
        expect(customer.get_by_test_id("book-done")).to_be_visible()

        page.reload()
        mails = page.get_by_test_id("demo-mail")
        invitation = mails.filter(has_text="erika@example.org")
        expect(invitation).to_have_count(1)
        expect(invitation).to_contain_text("Anna Berger lädt Sie zu einer Beratung ein")
        # The customer's name is shown as text, not as markup.
        expect(invitation).to_contain_text("Erika <b>Muster</b>")
        assert invitation.locator("b").count() == 0
        booking = mails.filter(has_text="Guten Tag Max Kunde")
        expect(booking).to_have_count(1)
        expect(booking).to_contain_text("invite.ics")

        # The invitation's link is a link, and it leads into the conversation.
        link = invitation.locator("pre a").first
        assert (link.get_attribute("href") or "").startswith(demo.base_url + "/join/")
        link.click()
        page.get_by_test_id("composer").fill("Hallo aus dem Demo-Postfach")
        page.get_by_test_id("send").click()
        expect(message(page, "Hallo aus dem Demo-Postfach", "customer")).to_be_visible()
        console.get_by_test_id("chats-tab").click()
        console.get_by_test_id("conversation-tab").filter(has_text="Erika").first.click()
        expect(message(console, "Hallo aus dem Demo-Postfach", "customer")).to_be_visible()
    finally:
        users.close()


def test_the_mailbox_is_demo_only(live_server: LiveServer) -> None:
    r = httpx.get(live_server.base_url + "/demo/mail")
    assert r.status_code == 404
    assert "visavis demo" in r.text
