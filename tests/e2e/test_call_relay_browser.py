"""Real calls through a real coturn relay: TURN credentials from visavis, forged
ones that make no connection, recovery after the media path was cut, credentials
renewed during a long call.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from conftest import LiveServer
from coturn import Coturn
from playwright.sync_api import expect

from .browser import Users, message, send
from .calls import (
    COUNT_GUM,
    WATCH_STEADY,
    assert_ice_config,
    chat_pair,
    frames_rising,
    ice_ufrag,
    more_frames,
    panel,
    relay_server,
    start_video_call,
    stats,
    status,
    turn_expiry,
    wait_stats,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def init_scripts() -> list[str]:
    """As in the other call tests, every browser context counts its getUserMedia calls."""
    return [COUNT_GUM]


def test_relay_through_coturn(
    coturn: Coturn,
    server_factory: Callable[..., LiveServer],
    users_for: Callable[[LiveServer], Users],
) -> None:
    server = relay_server(server_factory, coturn, coturn.secret)
    users = users_for(server)
    customer, console, _ = chat_pair(server, users, "Emil")
    customer.get_by_test_id("call-video").click()
    # The pre-call check got a relay candidate from coturn with visavis' credentials.
    turn_check = customer.get_by_test_id("check-turn")
    expect(turn_check).to_have_attribute("data-result", "relay")
    expect(turn_check).to_have_attribute("data-candidates", "relay")
    customer.get_by_test_id("call-cancel").click()
    expect(panel(customer)).to_have_count(0)

    start_video_call(customer, console)
    for app, who in ((customer, "customer"), (console, "adviser")):
        s = frames_rising(app, who)
        wait_stats(app, lambda x: x["audioIn"] > 0, what=f"{who} audio")
        s = wait_stats(app, lambda x: x["local"] is not None, what="selected pair")
        assert s["local"] == "relay" and s["remote"] == "relay", s
        assert_ice_config(app, [{"urls": [coturn.url]}], policy="relay")
        cfg = s["config"][0]
        assert cfg["username"].endswith(("-customer", "-adviser")) and cfg["credential"]


def test_forged_turn_credentials_make_no_connection(
    coturn: Coturn,
    server_factory: Callable[..., LiveServer],
    users_for: Callable[[LiveServer], Users],
) -> None:
    # visavis signs with a secret coturn does not know: every allocation is refused.
    server = relay_server(server_factory, coturn, "not-the-" + coturn.secret)
    users = users_for(server)
    customer, console, _ = chat_pair(server, users, "Frida")
    customer.get_by_test_id("call-video").click()
    expect(customer.get_by_test_id("check-turn")).to_have_attribute("data-result", "no-relay")
    customer.get_by_test_id("call-camera").click()
    console.get_by_test_id("call-accept").click()
    expect(panel(console)).to_have_attribute("data-phase", "active")
    time.sleep(6)
    for app in (customer, console):
        s = stats(app)
        assert s["state"] != "connected" and s["videoIn"] == 0 and s["local"] is None, s
        expect(status(app)).to_have_attribute("data-state", "connecting")
    # The chat is unaffected.
    send(customer, "Das Video klappt nicht.")
    expect(message(console, "Das Video klappt nicht.", "customer")).to_be_visible()


def test_media_recovers_after_the_relay_was_cut(
    coturn: Coturn,
    server_factory: Callable[..., LiveServer],
    users_for: Callable[[LiveServer], Users],
) -> None:
    """Relay-only, the TURN server is killed and comes back 3 s later on the same
    port (all allocations lost): both sides show "reconnecting", ICE restarts, media
    returns without a reload and in the same conversation."""
    server = relay_server(server_factory, coturn, coturn.secret)
    users = users_for(server)
    customer, console, _ = chat_pair(server, users, "Gero")
    start_video_call(customer, console)
    for app, who in ((customer, "customer"), (console, "adviser")):
        frames_rising(app, who)
        app.evaluate("window.__notReloaded = true")

    assert coturn.proc is not None
    coturn.proc.kill()  # the media path is gone, abruptly
    coturn.proc.wait(5)
    cut = time.monotonic()
    # Down for 3 s, and at least until both sides show it.
    for app in (customer, console):
        expect(status(app)).to_have_attribute("data-state", "reconnecting", timeout=8000)
        expect(status(app)).to_contain_text("verbinde neu")
    noticed = time.monotonic() - cut
    time.sleep(max(0.0, 3 - noticed))
    for app in (customer, console):
        app.evaluate(WATCH_STEADY)
    coturn.stop()
    coturn.start()
    back = time.time() * 1000
    steady = []
    for app in (customer, console):
        app.wait_for_function("() => window.__steadyAt !== null", timeout=20_000, polling=50)
        steady.append(float(app.evaluate("window.__steadyAt")))
    recovered = (max(steady) - back) / 1000
    print(
        f"\nrecovery: 'reconnecting' on both sides {noticed:.2f} s after the cut; video"
        f" decoding steadily again on both sides {recovered:.2f} s after the TURN server"
        " came back"
    )
    for app in (customer, console):
        expect(status(app)).to_have_attribute("data-state", "connected")
        assert app.evaluate("window.__notReloaded === true")
        assert stats(app)["local"] == "relay"
    assert recovered < 6  # bounded by Chromium's 3 s receive-timing reset at worst
    # Same conversation, chat continues.
    send(console, "Wieder da.")
    expect(message(customer, "Wieder da.", "adviser")).to_be_visible()


def test_turn_credentials_are_renewed_during_a_long_call(
    coturn: Coturn,
    server_factory: Callable[..., LiveServer],
    users_for: Callable[[LiveServer], Users],
) -> None:
    """Credentials live 60 s here (VISAVIS_TURN_TTL_S, the minimum). Each side fetches
    new ones at 80 % of their life and restarts ICE with them, so media keeps flowing;
    when the relay is lost after the first credentials expired, the call still recovers
    (a new allocation with the old ones would be refused)."""
    server = server_factory(
        VISAVIS_ICE_URLS=coturn.url,
        VISAVIS_TURN_SECRET=coturn.secret,
        VISAVIS_ICE_TRANSPORT_POLICY="relay",
        VISAVIS_TURN_TTL_S="60",
    )
    users = users_for(server)
    customer, console, _ = chat_pair(server, users, "Lotte")
    start_video_call(customer, console)
    first: dict[int, tuple[int, str]] = {}
    for app, who in ((customer, "customer"), (console, "adviser")):
        frames_rising(app, who)
        first[id(app)] = (turn_expiry(app), ice_ufrag(app))
    expires = max(e for e, _ in first.values())
    assert expires - time.time() <= 60

    # Renewed after about 48 s: later expiry, and ICE restarted (new ufrag) to use them.
    for app, who in ((customer, "customer"), (console, "adviser")):
        app.wait_for_function(
            f"() => +window.__visavisCall.pc.getConfiguration().iceServers[0].username"
            f".split(':')[0] > {first[id(app)][0]}",
            timeout=70_000,
            polling=500,
        )
        # ... and ICE restarted with them: the new ufrag comes with the next local
        # description, which for the polite side is its answer to the other's offer
        app.wait_for_function(
            "old => (window.__visavisCall.pc.localDescription.sdp"
            ".match(/a=ice-ufrag:(\\S+)/) || [])[1] !== old",
            arg=first[id(app)][1],
            timeout=20_000,
        )
        more_frames(app, f"{who} after renewal")
        assert stats(app)["local"] == "relay"

    # The first credentials are dead now; cut the relay and bring it back.
    time.sleep(max(0.0, expires + 1 - time.time()))
    assert coturn.proc is not None
    coturn.proc.kill()
    coturn.proc.wait(5)
    for app in (customer, console):
        expect(status(app)).to_have_attribute("data-state", "reconnecting", timeout=8000)
    coturn.stop()
    coturn.start()
    for app, who in ((customer, "customer"), (console, "adviser")):
        expect(status(app)).to_have_attribute("data-state", "connected", timeout=20_000)
        more_frames(app, f"{who} after the cut")
        assert turn_expiry(app) > expires
