"""Real calls between two Chromium contexts (fake camera and microphone) through a
real visavis server: video, audio only, gentle start, hang-up and history, calling
again, and the phone layout.

How media is checked, and what every call test asserts besides: calls.py.
"""

from __future__ import annotations

import re
import time

import pytest
from conftest import LiveServer
from playwright.sync_api import Playwright, expect

from .browser import (
    PASSWORD,
    TIMEOUT_MS,
    Users,
    chat_frame,
    login,
    message,
    send,
    start_chat,
)
from .calls import (
    COUNT_GUM,
    assert_ice_config,
    chat_pair,
    frames_rising,
    gum_calls,
    panel,
    start_video_call,
    stats,
    status,
    wait_stats,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def init_scripts() -> list[str]:
    """Every browser context here counts its getUserMedia calls (see `gum_calls`)."""
    return [COUNT_GUM]


def test_customer_starts_video_adviser_accepts(live_server: LiveServer, users: Users) -> None:
    customer, console, _ = chat_pair(live_server, users, "Anna")

    # One click in the chat header; the pre-call check shows, nothing is captured yet.
    customer.get_by_test_id("call-video").click()
    expect(panel(customer)).to_have_attribute("data-phase", "outgoing")
    check = customer.get_by_test_id("precheck")
    expect(check).to_be_visible()
    expect(check.get_by_test_id("check-server")).to_have_attribute("data-result", "ok")
    expect(check.get_by_test_id("check-turn")).to_have_attribute("data-result", "none")
    expect(customer.get_by_test_id("precheck-video")).to_have_count(0)
    assert gum_calls(customer) == 0

    # The customer turns camera and microphone on: preview and level meter.
    customer.get_by_test_id("call-camera").click()
    expect(customer.get_by_test_id("precheck-video")).to_be_visible()
    customer.get_by_test_id("call-mic").click()
    expect(customer.get_by_test_id("call-mic")).to_have_attribute("data-state", "on")
    meter = customer.get_by_test_id("mic-level")
    expect(meter).to_be_visible()
    customer.wait_for_function(
        """() => [...document.querySelector('vv-chat-app').shadowRoot
              .querySelector('vv-call').shadowRoot.querySelectorAll('meter')]
              .some(m => m.value > 0)""",
        timeout=TIMEOUT_MS,
    )

    # The adviser sees the incoming call and accepts with one click.
    incoming = console.get_by_test_id("incoming-call")
    expect(incoming).to_contain_text("Videoanruf")
    expect(console.get_by_test_id("call-accept")).to_have_attribute(
        "aria-label", re.compile("Videoanruf von Kunde Anna annehmen")
    )
    console.get_by_test_id("call-accept").click()
    for app in (customer, console):
        expect(panel(app)).to_have_attribute("data-phase", "active")
        expect(status(app)).to_have_attribute("data-state", "connected")

    # Both decode video; both receive audio.
    for app, who in ((customer, "customer"), (console, "adviser")):
        s = frames_rising(app, who)
        assert s["audioIn"] > 0 or wait_stats(app, lambda x: x["audioIn"] > 0)["audioIn"] > 0
        assert_ice_config(app, [])  # this server configures no ICE servers: none used
    expect(customer.get_by_test_id("remote-video")).to_be_visible()
    expect(console.get_by_test_id("remote-video")).to_be_visible()
    expect(panel(console)).to_have_attribute("data-remote-video", "on")

    # The chat stays usable during the call.
    send(customer, "Ich sehe Sie!")
    expect(message(console, "Ich sehe Sie!", "customer")).to_be_visible()
    # Who had which media is in the log.
    expect(message(console, "Kamera an, Mikrofon an")).to_have_count(2)

    # Keyboard: the call controls are buttons with labels, reachable by Tab.
    mic = console.get_by_test_id("call-mic")
    # A toggle named by its device: pressed while it is on (what its icon shows).
    expect(mic).to_have_accessible_name("Mikrofon")
    expect(mic).to_have_attribute("aria-pressed", "true")
    mic.focus()
    console.keyboard.press("Enter")
    expect(mic).to_have_attribute("data-state", "muted")
    expect(mic).to_have_attribute("aria-pressed", "false")
    expect(message(customer, "Kamera an, Mikrofon aus")).to_have_count(1)
    console.keyboard.press("Space")
    expect(mic).to_have_attribute("data-state", "on")

    console.get_by_test_id("call-hangup").click()
    for app in (customer, console):
        expect(panel(app)).to_have_count(0)
        expect(app.locator('[data-kind="call.ended"]')).to_contain_text(
            re.compile(r"Videoanruf, \d+ (Sek|Min)\.")
        )
    assert stats(customer)["state"] == "none"  # the peer connection is gone


def test_audio_only_call_in_the_widget(live_server: LiveServer, users: Users) -> None:
    page, console, app = chat_pair(live_server, users, "Ben", widget=True)
    frame = chat_frame(page)

    frame.get_by_test_id("call-audio").click()
    expect(panel(frame)).to_have_attribute("data-phase", "outgoing")
    frame.get_by_test_id("call-mic").click()  # inside the iframe: allow="microphone"
    expect(frame.get_by_test_id("call-mic")).to_have_attribute("data-state", "on")

    # An audio call: accepting turns on the adviser's microphone, not the camera.
    expect(console.get_by_test_id("incoming-call")).to_contain_text("Audioanruf")
    expect(console.get_by_test_id("want-media")).to_have_attribute("data-video", "off")
    console.get_by_test_id("call-accept").click()
    for ui in (frame, console):
        expect(status(ui)).to_have_attribute("data-state", "connected")
        expect(ui.get_by_test_id("call-stage")).to_have_count(0)  # no video area
    for a in (app, console):
        s = wait_stats(a, lambda x: x["audioIn"] > 20, what="audio packets")
        assert s["videoIn"] == 0
    expect(console.get_by_test_id("call-camera")).to_have_attribute("data-state", "off")

    # Switching audio → video inside the same call: the adviser turns the camera on.
    console.get_by_test_id("call-camera").click()
    frames_rising(app, "customer after the adviser turned the camera on")
    expect(frame.get_by_test_id("remote-video")).to_be_visible()

    frame.get_by_test_id("call-hangup").click()
    expect(message(console, "Audioanruf,")).to_have_count(1)
    expect(message(frame, "Audioanruf,")).to_have_count(1)


def test_customer_sees_the_adviser_with_own_camera_off(
    live_server: LiveServer, users: Users
) -> None:
    customer, console, _ = chat_pair(live_server, users, "Cem")
    customer.get_by_test_id("call-video").click()
    expect(customer.get_by_test_id("precheck")).to_contain_text("bleiben aus")
    console.get_by_test_id("call-accept").click()  # the adviser: camera and microphone on
    expect(status(customer)).to_have_attribute("data-state", "connected")

    # The customer sees and hears the adviser without ever being asked for a device.
    frames_rising(customer, "customer")
    wait_stats(customer, lambda s: s["audioIn"] > 0, what="customer audio")
    expect(customer.get_by_test_id("remote-video")).to_be_visible()
    expect(customer.get_by_test_id("local-video")).to_have_count(0)
    # The adviser receives no video (and no sound) from the customer.
    expect(console.get_by_test_id("remote-camera-off")).to_be_visible()
    time.sleep(1)
    s = stats(console)
    assert s["videoIn"] == 0 and s["audioIn"] == 0, s
    assert stats(customer)["videoOut"] == 0
    assert gum_calls(customer) == 0

    # Later the customer turns the camera on: tracks are added, renegotiated, received.
    customer.get_by_test_id("call-camera").click()
    frames_rising(console, "adviser after the customer's camera came on")
    assert gum_calls(customer) == 1
    expect(console.get_by_test_id("remote-video")).to_be_visible()
    # Device choice: the camera list is there and switching keeps the video flowing.
    customer.get_by_test_id("call-devices").click()
    select = customer.get_by_test_id("select-camera")
    expect(select).to_be_enabled()
    value = select.locator("option").first.get_attribute("value")
    assert value
    select.select_option(value)
    frames_rising(console, "adviser after the camera was switched")
    customer.get_by_test_id("call-camera").click()  # off again
    expect(customer.get_by_test_id("local-video")).to_have_count(0)
    expect(console.get_by_test_id("remote-camera-off")).to_be_visible()


def test_hang_up_decline_cancel_and_call_again(live_server: LiveServer, users: Users) -> None:
    customer, console, _ = chat_pair(live_server, users, "Dana", adviser_locale="en-US")

    # The adviser calls; the customer declines.
    console.get_by_test_id("call-audio").click()
    expect(console.get_by_test_id("outgoing-call")).to_be_visible()
    expect(customer.get_by_test_id("incoming-call")).to_contain_text("Audioanruf")
    customer.get_by_test_id("call-decline").click()
    expect(panel(console)).to_have_count(0)
    expect(console.locator('[data-kind="call.declined"]')).to_contain_text("declined")
    expect(customer.locator('[data-kind="call.declined"]')).to_contain_text(
        "Sie haben den Audioanruf abgelehnt"
    )

    # The customer calls and cancels while it rings.
    customer.get_by_test_id("call-video").click()
    expect(console.get_by_test_id("incoming-call")).to_contain_text("video call")
    customer.get_by_test_id("call-cancel").click()
    expect(panel(console)).to_have_count(0)
    expect(console.locator('[data-kind="call.ended"]')).to_contain_text("Video call cancelled")
    expect(customer.locator('[data-kind="call.ended"]')).to_contain_text("Videoanruf abgebrochen")

    # A real call, hung up by the customer: back to text with the whole history.
    customer.get_by_test_id("call-video").click()
    customer.get_by_test_id("call-camera").click()
    console.get_by_test_id("call-accept").click()
    frames_rising(console, "adviser")
    frames_rising(customer, "customer")
    customer.get_by_test_id("call-hangup").click()
    for app in (customer, console):
        expect(panel(app)).to_have_count(0)
        expect(app.get_by_test_id("call-video")).to_be_visible()
    expect(console.locator('[data-kind="call.ended"]').last).to_contain_text(
        re.compile(r"Video call, \d+ (s|min)")
    )
    send(customer, "Danke, noch eine Frage per Text.")
    expect(message(console, "noch eine Frage per Text", "customer")).to_be_visible()
    send(console, "Gern.")
    expect(message(customer, "Gern.", "adviser")).to_be_visible()
    kinds = customer.locator('[data-author="system"]').evaluate_all(
        "els => els.map(e => e.dataset.kind)"
    )
    assert [k for k in kinds if k.startswith("call.")] == [
        "call.requested", "call.declined",
        "call.requested", "call.ended",
        "call.requested", "call.started", "call.media", "call.media", "call.ended",
    ], kinds  # fmt: skip

    # The history survives a reload, and a new call works after it.
    customer.reload()
    expect(customer.locator('[data-kind="call.ended"]')).to_have_count(2)
    console.get_by_test_id("call-video").click()
    customer.get_by_test_id("call-accept").click()
    frames_rising(customer, "customer, second call")
    console.get_by_test_id("call-hangup").click()
    expect(panel(customer)).to_have_count(0)
    expect(customer.locator('[data-kind="call.ended"]')).to_have_count(3)


def test_phone_layout(live_server: LiveServer, users: Users, playwright: Playwright) -> None:
    phone = playwright.devices["Pixel 5"]
    customer = users.page(
        viewport=phone["viewport"],
        user_agent=phone["user_agent"],
        device_scale_factor=phone["device_scale_factor"],
        is_mobile=True,
        has_touch=True,
    )
    live_server.add_adviser("ida@musterbank.test", PASSWORD, "Ida Klein")
    console = users.page()
    customer.goto(live_server.base_url + "/chat")
    start_chat(customer, "Jonas", None, "Vom Handy")
    login(console, live_server.base_url, "ida@musterbank.test")
    console.get_by_test_id("queue-entry").get_by_test_id("accept").click()
    expect(customer.get_by_test_id("call-video")).to_be_in_viewport()
    start_video_call(customer, console)
    frames_rising(customer, "phone")
    width = phone["viewport"]["width"]
    box = customer.get_by_test_id("remote-video").bounding_box()
    assert box is not None and box["width"] >= width - 20, box  # video across the width
    for test_id in ("call-mic", "call-camera", "call-hangup", "call-flip", "composer"):
        expect(customer.get_by_test_id(test_id)).to_be_in_viewport()
    assert customer.evaluate("document.scrollingElement.scrollWidth") <= width
    # Front/back camera: the new track replaces the old one, video keeps flowing.
    flip = customer.get_by_test_id("call-flip")
    expect(flip).to_have_attribute("data-facing", "user")
    flip.tap()
    expect(flip).to_have_attribute("data-facing", "environment")
    expect(customer.get_by_test_id("call-camera")).to_have_attribute("data-state", "on")
    frames_rising(console, "adviser after the customer flipped the camera")
    customer.get_by_test_id("call-hangup").tap()
    expect(panel(customer)).to_have_count(0)
