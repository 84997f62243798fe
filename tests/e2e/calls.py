"""What the call browser tests share: scripts run in the pages (getUserMedia
counting, the peer connection's statistics, a steady-video watcher), a customer and an
adviser in a running chat, waiting on the statistics, and a server relaying through
coturn.

Media is checked with the peer connection's own statistics (`getStats()`), which the
apps expose for tests as `window.__visavisCall.pc` (nothing else); each live peer
connection must be configured with exactly the ICE servers the visavis server handed
out (never a default STUN server). Like every browser test, a call test also asserts
that no request went to another origin and that no CSP violation or uncaught error
happened (browser.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from conftest import LiveServer
from coturn import Coturn
from playwright.sync_api import Frame, FrameLocator, Locator, Page, expect

from .browser import PASSWORD, Users, chat_frame, login, message, queue_entry, start_chat

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
    """The peer connection uses exactly what the server handed out."""
    s = stats(app)
    got = [sorted(x["urls"] if isinstance(x["urls"], list) else [x["urls"]]) for x in s["config"]]
    assert got == [sorted(x["urls"]) for x in servers], s["config"]
    assert s["policy"] == policy


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


def turn_expiry(app: App) -> int:
    """When the TURN credentials the peer connection uses expire (the username is
    "<unix expiry>:<label>", TURN REST)."""
    return int(stats(app)["config"][0]["username"].split(":")[0])
