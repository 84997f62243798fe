"""A real Chromium (fake camera and microphone) sends to a real Janus through the
recorder: the publisher's packet dump holds Chromium's RTCP sender reports for both
streams and no more than 20 bytes of any packet; the finished WebM is aligned by
them (`sync == "rtcp"`) and its later track starts exactly that much later; no pcap
is left anywhere."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright

from visavis.recording.janus import janus_available
from visavis.recording.janus_admin import PCAP_TRUNCATE, pcap_path
from visavis.recording.recorder import Recorder
from visavis.recording.rtcp_sync import SyncError, read_capture
from visavis.recording.sealed_file import read_range

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (janus_available() and shutil.which("ffprobe") and Path(CHROMIUM).exists()),
        reason="needs janus, ffmpeg (ffprobe) and chromium",
    ),
]
ARGS = ["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
ORIGIN = "http://127.0.0.1:9/"  # served by the page's route: a secure context for media
PUBLISH_JS = """
async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = new RTCPeerConnection({ iceServers: [] });
  for (const t of stream.getTracks()) pc.addTransceiver(t, { direction: "sendonly" });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((ok) => {
    if (pc.iceGatheringState === "complete") return ok();
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") ok();
    });
  });
  window.__pc = pc;
  return pc.localDescription.sdp;
}
"""


async def wait_for_sender_reports(pcap: Path, streams: int, timeout_s: float = 90) -> None:
    """Until the dump holds a sender report of each stream (Chromium sends them every
    1 s for video, every 5 s for audio)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            if len(read_capture(pcap).reports) >= streams:
                return
        except (FileNotFoundError, SyncError):
            pass  # not created or not flushed yet
        assert loop.time() < deadline, f"no sender report of {streams} streams in {pcap}"
        await asyncio.sleep(0.25)


def record_sizes(pcap: Path) -> list[tuple[int, int]]:
    data = pcap.read_bytes()
    sizes, pos = [], 24
    while pos + 16 <= len(data):
        incl, orig = struct.unpack_from("<II", data, pos + 8)
        sizes.append((incl - 42, orig - 42))
        pos += 16 + incl
    return sizes


def pcaps_in(root: Path) -> list[Path]:
    return list(root.rglob("*.pcap"))


def stream_starts(path: Path) -> dict[str, float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time", "-of", "json",
         str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {s["codec_type"]: float(s["start_time"]) for s in json.loads(out)["streams"]}


async def publish(page: Page, recorder: Recorder, rid: str, name: str) -> None:
    await page.route(ORIGIN, lambda route: route.fulfill(body="<title>r</title>",
                                                         content_type="text/html"))  # fmt: skip
    await page.goto(ORIGIN)
    offer = await page.evaluate(PUBLISH_JS)
    answer = await recorder.do_publish(rid, name, offer)
    await page.evaluate("(sdp) => window.__pc.setRemoteDescription({type: 'answer', sdp})", answer)


async def test_audio_and_video_are_aligned_by_the_sender_reports(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "data", secrets.token_bytes(32))
    rid = "sync" + secrets.token_hex(4)
    try:
        await recorder.do_open(rid)
        pcap = pcap_path(recorder.raw_dir(rid), "anna")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await browser.new_page()
            await publish(page, recorder, rid, "anna")
            await wait_for_sender_reports(pcap, streams=2)
            sizes = record_sizes(pcap)
            await page.evaluate("() => window.__pc.close()")
            await browser.close()
        await recorder.do_close(rid)
        # only headers were dumped: 20 bytes of each packet, of packets longer than that
        assert sizes and all(kept <= PCAP_TRUNCATE for kept, _ in sizes)
        assert max(full for _, full in sizes) > 200
        files = await recorder.do_finish(rid)
    finally:
        await recorder.do_shutdown()
    assert not pcaps_in(tmp_path)
    [f] = files
    assert f.sync == "rtcp", f
    assert set(f.offsets_s) == {"audio", "video"} and min(f.offsets_s.values()) == 0
    plain = tmp_path / "anna.webm"
    plain.write_bytes(b"".join(read_range(recorder.sealed_path(rid, "anna"), recorder.key, 0,
                                          f.bytes)))  # fmt: skip
    starts = stream_starts(plain)
    assert set(starts) == {"audio", "video"}
    for kind, offset in f.offsets_s.items():
        # WebM counts in milliseconds; Chromium's first video packet begins a keyframe
        assert starts[kind] == pytest.approx(offset, abs=0.0015), (starts, f.offsets_s)
