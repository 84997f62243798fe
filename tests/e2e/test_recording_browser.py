"""Recording a real call between two Chromium contexts (fake camera and microphone)
through a real visavis server and a real Janus: the adviser asks, both consent in
the dialog, the red indicator shows on both sides and each browser opens one extra
send-only connection (with the call's own tracks: no second getUserMedia); the
customer's withdrawal stops it on both sides and closes those connections; the
finished WebM has an audio and a video track of the recorded length, and the
console plays it back from the conversation's history."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer
from playwright.sync_api import Page, expect

from .browser import Users, stored_conversation
from .calls import COUNT_GUM, chat_pair, gum_calls, panel, start_video_call, status

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("janus") is None or shutil.which("ffprobe") is None,
        reason="janus / ffmpeg not installed (apt-get install janus ffmpeg)",
    ),
]

# Every peer connection a page makes, to count the open ones.
TRACK_PCS = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})();
"""
OPEN_PCS = "() => window.__pcs.filter(pc => pc.connectionState !== 'closed').length"
RECORDED_S = 10


@pytest.fixture
def init_scripts() -> list[str]:
    return [COUNT_GUM, TRACK_PCS]


def open_pcs(page: Page) -> int:
    return int(page.evaluate(OPEN_PCS))


def recordings(page: Page, base_url: str, cid: str, timeout_s: float = 60) -> Any:
    """The conversation's finished recordings, once there are any (as the console)."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = page.request.get(f"{base_url}/api/v1/conversations/{cid}/recordings")
        assert got.status == 200, got.text()
        found = got.json()["recordings"]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_consented_recording_plays_back_and_withdrawal_stops_it(
    live_server: LiveServer, users: Users, tmp_path: Path
) -> None:
    customer, console, _ = chat_pair(live_server, users, "Rita")
    start_video_call(customer, console)
    for app in (customer, console):
        expect(status(app)).to_have_attribute("data-state", "connected")
    gum_before = (gum_calls(customer), gum_calls(console))
    assert (open_pcs(customer), open_pcs(console)) == (1, 1)

    # Only the adviser can ask; nothing is recorded before both agreed.
    expect(customer.get_by_test_id("recording-start")).to_have_count(0)
    console.get_by_test_id("recording-start").click()
    for app in (customer, console):
        dialog = app.get_by_test_id("recording-consent")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Einwilligung jederzeit widerrufen")
    console.get_by_test_id("recording-agree").click()
    expect(console.get_by_test_id("recording-waiting")).to_be_visible()
    expect(customer.get_by_test_id("recording-indicator")).to_have_count(0)
    assert (open_pcs(customer), open_pcs(console)) == (1, 1)
    customer.get_by_test_id("recording-agree").click()

    # Running: the indicator on both sides, one send-only connection each, connected.
    for app in (customer, console):
        indicator = app.get_by_test_id("recording-indicator")
        expect(indicator).to_have_text("● Aufnahme läuft")
        expect(indicator).to_have_attribute("aria-live", "assertive")
        expect(indicator).to_have_attribute("data-link", "connected", timeout=20_000)
    started = time.monotonic()
    assert (open_pcs(customer), open_pcs(console)) == (2, 2)
    assert (gum_calls(customer), gum_calls(console)) == gum_before  # the call's own tracks

    # The recorded length is wall-clock time; the call stays up meanwhile.
    console.wait_for_timeout(RECORDED_S * 1000)
    expect(status(customer)).to_have_attribute("data-state", "connected")

    # The customer withdraws: it stops at once on both sides, connections closed.
    stop = customer.get_by_test_id("recording-stop")
    expect(stop).to_have_text("Einwilligung widerrufen")
    stop.click()
    recorded_s = time.monotonic() - started
    for app in (customer, console):
        expect(app.get_by_test_id("recording-indicator")).to_have_count(0)
    customer.wait_for_function(f"() => ({OPEN_PCS})() === 1")
    console.wait_for_function(f"() => ({OPEN_PCS})() === 1")
    expect(panel(customer)).to_have_attribute("data-phase", "active")  # the call goes on

    # Processed in the background: the file is an audio + video WebM of that length.
    stored = stored_conversation(customer)
    cid = str(json.loads(stored)["conversation_id" if "conversation_id" in stored else "id"])
    [rec] = recordings(console, live_server.base_url, cid)
    assert {f["participant"] for f in rec["files"]} == {"customer", "adviser"}
    url = f"/api/v1/conversations/{cid}/recordings/{rec['recording_id']}/customer"
    got = console.request.get(live_server.base_url + url + "?download=1")
    assert got.status == 200
    out = tmp_path / "customer.webm"
    out.write_bytes(got.body())
    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries",
             "stream=codec_type:format=duration", "-of", "json", str(out)],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    assert sorted(s["codec_type"] for s in probe["streams"]) == ["audio", "video"], probe
    duration = float(probe["format"]["duration"])
    assert abs(duration - recorded_s) < 2.5, (duration, recorded_s)

    # The console plays it back from the conversation's history.
    console.get_by_test_id("call-hangup").click()
    console.get_by_test_id("end-conversation").click()
    console.get_by_test_id("confirm-end").click()
    # the end is written (the customer sees it) before the history is opened and read
    expect(customer.get_by_test_id("ended-banner")).to_be_visible()
    console.get_by_test_id("history-tab").click()
    console.get_by_test_id("history-entry").filter(has_text="Kunde Rita").click()
    entry = console.locator('[data-testid="history-recording"]', has_text="Kundin oder Kunde")
    expect(entry).to_have_count(1)
    entry.get_by_test_id("recording-play").click()
    video = entry.get_by_test_id("recording-video")
    expect(video).to_be_visible()
    console.wait_for_function(
        """() => { const v = document.querySelector('vv-console-app')?.shadowRoot
              ?.querySelector('vv-history')?.shadowRoot?.querySelector('video');
              return v && v.readyState >= 2 && v.currentTime > 0.5; }""",
        timeout=20_000,
    )
    # the console's list and playback are in the audit chain, which still verifies
    assert live_server.cli("audit", "verify").startswith("ok: ")
    actions = {json.loads(line)["action"] for line in live_server.cli("audit", "list").splitlines()}
    assert {"recording.list", "recording.play"} <= actions, actions
