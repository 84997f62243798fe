"""Real calls that outlive a page: rejoining after a reload and after the WebSocket
was lost, and which of an adviser's console tabs holds the call.
"""

from __future__ import annotations

import time

import pytest
from conftest import LiveServer
from playwright.sync_api import expect

from .browser import (
    Users,
    message,
    send,
)
from .calls import (
    COUNT_GUM,
    chat_pair,
    frames_rising,
    gum_calls,
    ice_ufrag,
    more_frames,
    panel,
    start_video_call,
    stats,
    status,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def init_scripts() -> list[str]:
    """Every browser context here counts its getUserMedia calls (see `gum_calls`)."""
    return [COUNT_GUM]


def test_rejoin_after_reload_and_websocket_loss(live_server: LiveServer, users: Users) -> None:
    """The customer reloads during a call: the summary still has the active call, the
    app rejoins it (new peer connection, camera off) and the adviser's video comes back.
    Then both lose the network for a moment: "reconnecting", then media again."""
    customer, console, _ = chat_pair(live_server, users, "Hella")
    start_video_call(customer, console)
    frames_rising(customer, "customer")
    frames_rising(console, "adviser")

    customer.reload()
    expect(panel(customer)).to_have_attribute("data-phase", "active")
    frames_rising(customer, "customer after reload")
    expect(status(customer)).to_have_attribute("data-state", "connected")
    assert gum_calls(customer) == 0  # devices stay off after a reload until turned on

    ufrags = {id(a): ice_ufrag(a) for a in (customer, console)}
    for ctx in (customer.context, console.context):
        ctx.set_offline(True)
    for app in (customer, console):
        expect(status(app)).to_have_attribute("data-state", "reconnecting")
    time.sleep(2)
    for ctx in (customer.context, console.context):
        ctx.set_offline(False)
    t0 = time.monotonic()
    for app in (customer, console):
        expect(status(app)).to_have_attribute("data-state", "connected", timeout=15_000)
    # (Since the reload only the adviser sends: the customer's devices are off.)
    more_frames(customer, "frames after going online")
    for app in (customer, console):
        # The WebSocket came back: ICE was restarted (new credentials), not just waited for.
        assert ice_ufrag(app) != ufrags[id(app)]
    print(f"\nback online → call connected again after {time.monotonic() - t0:.2f} s")


def test_one_console_tab_holds_the_call_and_another_can_take_it(
    live_server: LiveServer, users: Users
) -> None:
    """The adviser has the console open in two tabs (one browser, one session). The tab
    that accepts holds the call; the other shows "in another tab" with "move here",
    which moves the media there; a tab opened during the call does not grab it."""
    customer, first, _ = chat_pair(live_server, users, "Jana")
    second = first.context.new_page()
    second.goto(live_server.base_url + "/console")
    second.get_by_test_id("conversation-tab").filter(has_text="Kunde Jana").click()

    customer.get_by_test_id("call-video").click()
    customer.get_by_test_id("call-camera").click()
    for tab in (first, second):
        expect(tab.get_by_test_id("call-accept")).to_be_visible()
    first.get_by_test_id("call-accept").click()
    expect(panel(first)).to_have_attribute("data-phase", "active")
    expect(second.get_by_test_id("call-elsewhere")).to_be_visible()
    frames_rising(first, "first tab")
    frames_rising(customer, "customer with the first tab")
    assert stats(second)["state"] == "none"  # no second peer connection
    assert gum_calls(second) == 0

    # A tab opened during the call joins nothing by itself.
    third = first.context.new_page()
    third.goto(live_server.base_url + "/console")
    third.get_by_test_id("conversation-tab").filter(has_text="Kunde Jana").click()
    expect(third.get_by_test_id("call-elsewhere")).to_be_visible()
    expect(panel(first)).to_have_attribute("data-phase", "active")
    more_frames(customer, "the customer's video goes on")
    third.close()

    # "Move here": the second tab holds the call now, the first lets go; the camera and
    # microphone the adviser had on in the first tab (the call.media log) come on here.
    expect(message(second, "Kamera an, Mikrofon an")).to_have_count(1)
    second.get_by_test_id("call-take").click()
    expect(panel(second)).to_have_attribute("data-phase", "active")
    expect(first.get_by_test_id("call-elsewhere")).to_be_visible()
    assert stats(first)["state"] == "none"
    expect(second.get_by_test_id("call-camera")).to_have_attribute("data-state", "on")
    s = frames_rising(second, "second tab")
    assert s["state"] == "connected"
    more_frames(customer, "customer after the move")
    expect(status(customer)).to_have_attribute("data-state", "connected")
    # The chat of both tabs goes on; hanging up from the holding tab ends it everywhere.
    send(customer, "Jetzt im anderen Fenster?")
    for tab in (first, second):
        expect(message(tab, "Jetzt im anderen Fenster?", "customer")).to_be_visible()
    second.get_by_test_id("call-hangup").click()
    for app in (customer, first, second):
        expect(panel(app)).to_have_count(0)
