"""Real calls between two Chromium contexts (fake camera and microphone) through a
real visavis server: video, audio only, gentle start, hang-up and history, TURN
relay through a real coturn, forged TURN credentials, and recovery after the media
path was cut.

Media is checked with the peer connection's own statistics (`getStats()`), which the
apps expose for tests as `window.__visavisCall.pc` (nothing else). Every test also
asserts that no request went to another origin and that no CSP violation or uncaught
error happened; and each live peer connection was configured with exactly the ICE
servers the visavis server handed out (never a default STUN server).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import LiveServer
from coturn import Coturn
from playwright.sync_api import Frame, FrameLocator, Locator, Page, Playwright, expect

from .browser import (
    PASSWORD,
    TIMEOUT_MS,
    Users,
    chat_frame,
    login,
    message,
    queue_entry,
    send,
    start_chat,
)

pytestmark = pytest.mark.e2e

# Counts getUserMedia calls per page (gentle start: none until a device is turned on).
COUNT_GUM = """
(() => {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return;
  const orig = md.getUserMedia.bind(md);
  window.__gumCalls = 0;
  md.getUserMedia = (c) => { window.__gumCalls += 1; return orig(c); };
})();
"""

# What the tests read from the live peer connection.
STATS_JS = """
async () => {
  const pc = window.__visavisCall && window.__visavisCall.pc;
  if (!pc) return null;
  const report = await pc.getStats();
  const out = {
    state: pc.connectionState, videoIn: 0, videoInStreams: 0, videoById: {}, audioIn: 0,
    videoOut: 0, audioOut: 0, local: null, remote: null,
    config: pc.getConfiguration().iceServers || [],
    policy: pc.getConfiguration().iceTransportPolicy,
  };
  let pair = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") {
      out.videoIn += s.framesDecoded || 0; out.videoInStreams += 1;
      out.videoById[s.id] = s.framesDecoded || 0;
    }
    if (s.type === "inbound-rtp" && s.kind === "audio") out.audioIn += s.packetsReceived || 0;
    if (s.type === "outbound-rtp" && s.kind === "video") out.videoOut += s.framesEncoded || 0;
    if (s.type === "outbound-rtp" && s.kind === "audio") out.audioOut += s.packetsSent || 0;
    if (s.type === "transport" && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId);
  });
  if (pair) {
    const l = report.get(pair.localCandidateId), r = report.get(pair.remoteCandidateId);
    out.local = l ? l.candidateType : null; out.remote = r ? r.candidateType : null;
  }
  return out;
}
"""


# ---------------------------------------------------------------- fixtures & helpers
@pytest.fixture(autouse=True)
def _close_forgotten_sockets() -> None:
    """Overrides conftest's async autouse fixture: these tests use no WsClient, and an
    asyncio runner around sync Playwright (which runs its own loop) cannot start."""


@pytest.fixture
def init_scripts() -> list[str]:
    """Every browser context here counts its getUserMedia calls (see `gum_calls`)."""
    return [COUNT_GUM]


App = Page | Frame


def chat_pair(
    server: LiveServer,
    users: Users,
    name: str,
    *,
    widget: bool = False,
    customer_locale: str = "de-DE",
    adviser_locale: str = "de-DE",
) -> tuple[Page, Page, App]:
    """A customer (standalone /chat, or the widget on the demo page) in a running chat
    with an adviser. Returns (customer page, console page, the customer app's frame)."""
    email = f"{name.lower()}@musterbank.test"
    server.add_adviser(email, PASSWORD, f"Beraterin {name}")
    customer = users.page(locale=customer_locale)
    console = users.page(locale=adviser_locale)
    if widget:
        customer.goto(server.base_url + "/demo")
        customer.get_by_test_id("visavis-launcher").click()
        ui: Page | FrameLocator = chat_frame(customer)
    else:
        customer.goto(server.base_url + "/chat")
        ui = customer
    start_chat(ui, f"Kunde {name}", None, "Können wir kurz sprechen?")
    login(console, server.base_url, email)
    queue_entry(console, f"Kunde {name}").get_by_test_id("accept").click()
    expect(message(console, "kurz sprechen", "customer")).to_be_visible()
    expect(ui.get_by_test_id("adviser-name")).to_have_text(f"Beraterin {name}")
    app: App = customer
    if widget:
        app = next(f for f in customer.frames if "/chat" in f.url)
    return customer, console, app


def stats(app: App) -> dict[str, Any]:
    result = app.evaluate(STATS_JS)
    return result or {"state": "none", "videoIn": 0, "audioIn": 0, "videoOut": 0, "local": None}


def wait_stats(
    app: App, check: Callable[[dict[str, Any]], bool], timeout_s: float = 15, what: str = ""
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        last = stats(app)
        if check(last):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or 'stats'}: {last}")


def decoded_since(now: dict[str, Any], before: dict[str, Any]) -> int:
    """Frames decoded between two stats samples, per stream: after an outage the video
    m-line is replaced, so a stream (and its counter) may vanish and a new one start."""
    old: dict[str, int] = before.get("videoById", {})
    return sum(max(0, n - old.get(i, 0)) for i, n in now.get("videoById", {}).items())


def frames_rising(app: App, what: str) -> dict[str, Any]:
    """Video frames decoded, and more of them a moment later."""
    wait_stats(app, lambda s: s["videoIn"] > 0, what=f"{what}: first decoded frame")
    return more_frames(app, f"{what}: frames rising")


def more_frames(app: App, what: str) -> dict[str, Any]:
    """More video frames decoded from now on (the stream may be a new one)."""
    before = stats(app)
    return wait_stats(app, lambda s: decoded_since(s, before) > 5, what=what)


def ice_ufrag(app: App) -> str:
    """The local ICE username fragment: it changes with every ICE restart."""
    return str(
        app.evaluate(
            "() => (window.__visavisCall.pc.localDescription.sdp.match(/a=ice-ufrag:(\\S+)/) || [])[1]"
        )
    )


# Date.now() when video decodes steadily again: the start of the first run of decoded
# frames lasting 0.5 s without a gap over 200 ms (a burst of old frames right after an
# outage, followed by a freeze, does not count).
WATCH_STEADY = """
() => {
  // Frames decoded since the last look, per stream (streams may vanish and new start).
  let seen = null;
  const decodedSince = async () => {
    const cur = {};
    (await window.__visavisCall.pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") cur[s.id] = s.framesDecoded || 0;
    });
    let d = 0;
    if (seen) for (const id in cur) d += Math.max(0, cur[id] - (seen[id] || 0));
    seen = cur;
    return d;
  };
  window.__steadyAt = null;
  let lastInc = 0, runStart = null;
  const tick = async () => {
    const d = await decodedSince(), now = Date.now();
    if (d > 0) {
      if (runStart === null || now - lastInc > 200) runStart = now;
      lastInc = now;
      if (now - runStart >= 500) { window.__steadyAt = runStart; return; }
    } else if (runStart !== null && now - lastInc > 200) {
      runStart = null;
    }
    setTimeout(tick, 30);
  };
  tick();
}
"""


def gum_calls(app: App) -> int:
    return int(app.evaluate("window.__gumCalls || 0"))


def panel(app: Page | FrameLocator) -> Locator:
    return app.get_by_test_id("call-panel")


def status(app: Page | FrameLocator) -> Locator:
    return app.get_by_test_id("call-status")


def assert_ice_config(app: App, servers: list[dict[str, Any]], policy: str = "all") -> None:
    """The peer connection uses exactly what the server handed out (R10.1)."""
    s = stats(app)
    got = [sorted(x["urls"] if isinstance(x["urls"], list) else [x["urls"]]) for x in s["config"]]
    assert got == [sorted(x["urls"]) for x in servers], s["config"]
    assert s["policy"] == policy


# ---------------------------------------------------------------- (a) video both ways
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
    expect(mic).to_have_attribute("aria-label", "Mikrofon stummschalten")
    mic.focus()
    console.keyboard.press("Enter")
    expect(mic).to_have_attribute("data-state", "muted")
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


# ---------------------------------------------------------------- (b) audio only, in the widget
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

    # Switching audio → video inside the same call (R4.1): the adviser turns the camera on.
    console.get_by_test_id("call-camera").click()
    frames_rising(app, "customer after the adviser turned the camera on")
    expect(frame.get_by_test_id("remote-video")).to_be_visible()

    frame.get_by_test_id("call-hangup").click()
    expect(message(console, "Audioanruf,")).to_have_count(1)
    expect(message(frame, "Audioanruf,")).to_have_count(1)


# ---------------------------------------------------------------- (c) gentle start
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


# ---------------------------------------------------------------- (d) hang up, history, again
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


# ---------------------------------------------------------------- (e) TURN relay
def relay_server(
    server_factory: Callable[..., LiveServer], turn: Coturn, secret: str
) -> LiveServer:
    return server_factory(
        VISAVIS_ICE_URLS=turn.url,
        VISAVIS_TURN_SECRET=secret,
        VISAVIS_ICE_TRANSPORT_POLICY="relay",
    )


def start_video_call(customer: Page, console: Page) -> None:
    customer.get_by_test_id("call-video").click()
    customer.get_by_test_id("call-camera").click()
    customer.get_by_test_id("call-mic").click()
    expect(customer.get_by_test_id("call-mic")).to_have_attribute("data-state", "on")
    console.get_by_test_id("call-accept").click()


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


# ---------------------------------------------------------------- (f) recovery
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


def turn_expiry(app: App) -> int:
    """When the TURN credentials the peer connection uses expire (the username is
    "<unix expiry>:<label>", TURN REST)."""
    return int(stats(app)["config"][0]["username"].split(":")[0])


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
        assert ice_ufrag(app) != first[id(app)][1], f"{who}: no ICE restart after renewal"
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
    before = stats(customer)
    time.sleep(1)
    assert decoded_since(stats(customer), before) > 5, "the customer's video stalled"
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


# ---------------------------------------------------------------- phone
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
