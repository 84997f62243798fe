"""What a new user met, in real Chromium: the chat follows new entries after a call and
a transfer (and says "new messages" when scrolled up), call buttons whose state and
labels match what is shown, accepting a call turns the microphone on, device lines
folded, a transfer's call lines named by who did them, language names, and a header
that does not jump."""

from __future__ import annotations

import pytest
from conftest import LiveServer
from playwright.sync_api import Locator, Page, Route, expect

from .browser import PASSWORD, PHONE, Users, login, message, queue_entry, send, start_chat
from .calls import chat_pair, panel, status, wait_stats
from .ways_in import adviser_id, tab

pytestmark = pytest.mark.e2e


def newest(app: Page) -> Locator:
    return app.get_by_test_id("message").last


def fill_chat(sender: Page, receiver: Page, n: int) -> None:
    for i in range(n):
        send(sender, f"Zeile {i} " + "mit etwas mehr Text, damit die Liste scrollt. " * 2)
    expect(message(receiver, f"Zeile {n - 1} ")).to_be_visible()


def scroll_list_to_top(app: Page) -> None:
    app.evaluate(
        """() => {
            const list = document.querySelector('vv-chat-app').shadowRoot
                .querySelector('vv-messages');
            list.scrollTop = 0;
            list.dispatchEvent(new Event('scroll'));
        }"""
    )


def test_customer_chat_follows_after_a_call_and_hints_when_scrolled_up(
    live_server: LiveServer, users: Users
) -> None:
    customer = users.page(**PHONE)
    console = users.page()
    live_server.add_adviser("lena@musterbank.test", PASSWORD, "Lena Lang")
    customer.goto(live_server.base_url + "/chat")
    start_chat(customer, "Kunde Paul", None, "Hallo, eine Frage.")
    login(console, live_server.base_url, "lena@musterbank.test")
    queue_entry(console, "Kunde Paul").get_by_test_id("accept").click()
    fill_chat(console, customer, 12)
    expect(newest(customer)).to_be_in_viewport()

    # The adviser calls; the customer only taps "Accept" (on a phone): the microphone
    # comes on with it, and the adviser hears it.
    console.get_by_test_id("call-audio").click()
    expect(customer.get_by_test_id("want-media")).to_contain_text("Mikrofon")
    customer.get_by_test_id("call-accept").click()
    expect(status(customer)).to_have_attribute("data-state", "connected")
    mic = customer.get_by_test_id("call-mic")
    expect(mic).to_have_attribute("data-state", "on")
    wait_stats(console, lambda s: s["audioIn"] > 20, what="the customer's audio at the adviser")
    # Toggles: named by the device, pressed while on; short labels visible on the phone.
    expect(mic).to_have_accessible_name("Mikrofon")
    expect(mic).to_have_attribute("aria-pressed", "true")
    cam = customer.get_by_test_id("call-camera")
    expect(cam).to_have_attribute("aria-pressed", "false")
    for testid, label in (("call-mic", "Mikrofon"), ("call-camera", "Kamera"),
                          ("call-hangup", "Auflegen")):  # fmt: skip
        expect(customer.get_by_test_id(testid).get_by_text(label, exact=True)).to_be_visible()

    # Device lines are folded: the customer mutes and unmutes twice, the chat shows the
    # latest line per person and an expander for the rest.
    for _ in range(4):
        before = mic.get_attribute("data-state")
        mic.click()
        expect(mic).not_to_have_attribute("data-state", before or "")
    media = customer.locator('[data-kind="call.media"]')
    expect(customer.get_by_test_id("media-fold")).to_have_attribute("aria-expanded", "false")
    expect(media).to_have_count(2)  # the adviser's line and the customer's latest
    expect(media.last).to_contain_text("Sie: Kamera aus, Mikrofon an")
    customer.get_by_test_id("media-fold").click()
    expect(customer.get_by_test_id("media-fold")).to_have_attribute("aria-expanded", "true")
    expect(media).to_have_count(6)  # all five of the customer's
    customer.get_by_test_id("media-fold").click()
    expect(media).to_have_count(2)
    # The adviser's live chat folds the same way.
    expect(console.locator('[data-kind="call.media"]')).to_have_count(2)
    expect(console.get_by_test_id("media-fold")).to_be_visible()

    console.get_by_test_id("call-hangup").click()
    expect(panel(customer)).to_have_count(0)
    send(console, "Nach dem Anruf: noch etwas?")
    expect(message(customer, "Nach dem Anruf")).to_be_in_viewport()

    # Scrolled up, a new message does not pull the reader down: a hint says it came.
    scroll_list_to_top(customer)
    send(console, "Eine ganz neue Nachricht")
    hint = customer.get_by_test_id("new-messages")
    expect(hint).to_be_visible()
    expect(hint).to_have_accessible_name("Neue Nachrichten")
    expect(message(customer, "ganz neue Nachricht")).not_to_be_in_viewport()
    hint.click()
    expect(message(customer, "ganz neue Nachricht")).to_be_in_viewport()
    expect(hint).to_have_count(0)


def test_after_a_transfer_the_chat_follows_and_call_lines_name_the_caller(
    live_server: LiveServer, users: Users
) -> None:
    base = live_server.base_url
    live_server.add_adviser("anna@musterbank.test", PASSWORD, "Anna Berger")
    live_server.add_adviser("ben@musterbank.test", PASSWORD, "Ben Schulz")
    anna, ben = users.page(), users.page()
    login(anna, base, "anna@musterbank.test", available=True)
    login(ben, base, "ben@musterbank.test", available=True)
    customer = users.page(**PHONE)
    customer.goto(base + "/chat")
    start_chat(customer, "Bob Kunde", None, "Eine Frage zur Karte.")
    queue_entry(anna, "Bob Kunde").get_by_test_id("accept").click()
    # The console names the customer's language, not its code.
    expect(anna.locator("vv-chat-pane header")).to_contain_text("Deutsch")
    fill_chat(anna, customer, 10)

    # Anna calls; the customer accepts; Anna hangs up.
    anna.get_by_test_id("call-audio").click()
    customer.get_by_test_id("call-accept").click()
    expect(status(anna)).to_have_attribute("data-state", "connected")
    anna.get_by_test_id("call-hangup").click()
    expect(panel(customer)).to_have_count(0)

    # Anna hands the customer to Ben directly.
    anna.get_by_test_id("transfer-open").click()
    anna.get_by_test_id("transfer-colleague").select_option(
        adviser_id(live_server, "ben@musterbank.test")
    )
    anna.get_by_test_id("transfer-mode-blind").check()
    anna.get_by_test_id("transfer-go").click()
    moved = message(customer, "Sie werden jetzt von Ben Schulz beraten")
    expect(moved).to_be_in_viewport()
    tab(ben, "Bob Kunde").click()
    send(ben, "Guten Tag, hier ist Ben.")
    expect(message(customer, "hier ist Ben", "adviser")).to_be_in_viewport()

    # Ben's console: Anna's call lines are Anna's, not "Sie" (his own are).
    media = ben.locator('[data-kind="call.media"]').filter(has_text="Anna Berger")
    expect(media).to_have_count(1)
    expect(ben.locator('[data-kind^="call."]').filter(has_text="Sie")).to_have_count(0)
    expect(ben.locator('[data-kind="call.requested"]')).to_contain_text("Anna Berger hat")
    expect(anna.locator('[data-kind="call.requested"]')).to_contain_text("Sie haben")


def test_the_header_keeps_its_place_when_the_call_buttons_come(
    live_server: LiveServer, users: Users
) -> None:
    live_server.add_adviser("jo@musterbank.test", PASSWORD, "Jo Beispiel")
    customer = users.page(**PHONE)
    customer.goto(live_server.base_url + "/chat")
    start_chat(customer, "Kundin Ute", None, "Guten Tag")
    expect(customer.get_by_test_id("call-video")).to_be_hidden()

    def box() -> list[list[float]]:
        result: list[list[float]] = customer.evaluate(
            """() => {
                const app = document.querySelector('vv-chat-app').shadowRoot;
                const r = (el) => { const b = el.getBoundingClientRect();
                                    return [b.top, b.height]; };
                return [r(app.querySelector('header')), r(app.querySelector('vv-messages'))];
            }"""
        )
        return result

    waiting = box()
    console = users.page()
    login(console, live_server.base_url, "jo@musterbank.test")
    queue_entry(console, "Kundin Ute").get_by_test_id("accept").click()
    expect(customer.get_by_test_id("call-video")).to_be_visible()
    expect(customer.get_by_test_id("queue-position")).to_have_count(0)
    header_now = box()[0]
    assert header_now == waiting[0], (waiting, header_now)
    # The short labels stay: never icons alone.
    expect(customer.get_by_test_id("call-video").get_by_text("Video", exact=True)).to_be_visible()


def test_wording_for_customers_in_the_precheck(live_server: LiveServer, users: Users) -> None:
    customer, _, _ = chat_pair(live_server, users, "Wera")
    customer.get_by_test_id("call-video").click()
    check = customer.get_by_test_id("precheck")
    expect(check.get_by_test_id("check-turn")).to_have_attribute("data-result", "none")
    expect(check).not_to_contain_text("TURN")
    expect(check).not_to_contain_text("überspringen")


def test_the_other_ways_do_not_push_away_a_form_being_filled_in(
    live_server: LiveServer, users: Users
) -> None:
    """Nobody is free: the other ways stand above the form. But when that becomes known
    only after the customer began to type (a slow phone line), they stay below it: put
    above, they had moved the form and its button a screen down under the finger."""

    def ways_first(page: Page) -> bool:
        result: bool = page.evaluate(
            """() => {
                const root = document.querySelector('vv-chat-app').shadowRoot
                    .querySelector('vv-start-screen').shadowRoot;
                const ways = root.querySelector('vv-start-ways');
                const form = root.querySelector('form');
                return !!(ways.compareDocumentPosition(form)
                          & Node.DOCUMENT_POSITION_FOLLOWING);
            }"""
        )
        return result

    quick = users.page(**PHONE)
    quick.goto(live_server.base_url + "/chat")
    expect(quick.get_by_test_id("availability")).to_have_attribute("data-state", "busy")
    assert ways_first(quick)

    slow = users.page(**PHONE)
    held: list[Route] = []

    def hold(route: Route) -> None:  # answered once the name is typed
        held.append(route)

    slow.route("**/api/v1/availability*", hold)
    with slow.expect_request(lambda r: "/api/v1/availability" in r.url):
        slow.goto(live_server.base_url + "/chat")
    slow.get_by_test_id("start-name").fill("Kundin Ute")
    expect(slow.get_by_test_id("availability")).to_have_count(0)
    assert held
    box = slow.get_by_test_id("start-submit").bounding_box()
    for route in held:
        route.continue_()
    slow.unroute("**/api/v1/availability*", hold)
    expect(slow.get_by_test_id("availability")).to_have_attribute("data-state", "busy")
    assert not ways_first(slow)
    expect(slow.get_by_test_id("ways")).to_be_visible()
    moved = slow.get_by_test_id("start-submit").bounding_box()
    assert box is not None and moved is not None
    # the status line above the form came (a line or two), the ways (a screen) did not
    assert moved["y"] - box["y"] < 100, (box, moved)
