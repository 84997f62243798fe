"""Recording CPU per stream: Janus (publish-only, `record: true`, no decoding) plus
its post-processing, against aiortc's transcoding `MediaRecorder`, in the same run
with the same real Chromium sender.

One Chromium (fake camera 640x480 and fake microphone, one getUserMedia) opens
`--streams` send-only peer connections per recorder, each with the same audio and
video track, like a browser's connection to the recorder during a recorded call.
Offers carry every candidate; both recorders answer on this machine's own address.

1. Janus, started by visavis' `Recorder` (data dir in a temporary directory): one
   room, one publisher per stream. Measured: Janus's CPU time over `--seconds` once
   every connection is up and media flows; then the post-processing (the `.mjr` files
   into one WebM in this process, sealing with AES-GCM, the RTCP sync): CPU time of
   any child processes (none now; `janus-pp-rec` before) plus this process's own during it
   (PyAV is already imported here, by aiortc: a server pays its import, ~0.13 s of
   CPU, once, at its first post-processing), the least of `--repeats`
   runs on copies of the raw files (the others were disturbed by other work on the
   shared machine). The same again for a
   short recording (`--short-seconds`): the two give the post-processing as a fixed
   cost per recorded stream plus a cost per recorded second (a line through both), and
   from it the total per stream for a 60 s and a 10 min consultation.
2. aiortc 1.16 in this process: one `RTCPeerConnection` and one
   `MediaRecorder(<n>.webm)` per stream (decodes VP8 and Opus, encodes again with
   libvpx and libopus). Measured: this process's CPU time over the same span and the
   recorder's `stop()`, minus this process's own CPU time during step 1's window
   (the Playwright client and the event loop, present in both).

CPU per stream = CPU seconds / (seconds * streams), in % of one core. Every output
file is checked with ffprobe (audio + video, duration within 25 % + 5 s of the
window: else "A+V ok" says NO — a recorder that fell behind on a busy machine drops
frames, and its CPU figure is then too low). `uptime`'s load is printed:
the Chromium sender shares the machine. For each Janus file the A/V alignment is
printed: how (RTCP sender reports or arrival) and by how much it differs from what
the first packets' arrival alone would have given.

    python bench/recording.py                  # 2 streams, 20 s each
    python bench/recording.py --streams 4 --seconds 60   # checks the per-second model
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
from _common import emit_result, table
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRecorder
from aiortc.mediastreams import MediaStreamTrack
from playwright.async_api import Page, async_playwright

from visavis.recording import janus as janus_module
from visavis.recording.mjr import read_mjr
from visavis.recording.recorder import Recorder
from visavis.recording.sealed_file import read_range

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        "--disable-background-networking", "--no-first-run"]  # fmt: skip

PAGE_JS = """
async () => {
  window.__stream = await navigator.mediaDevices.getUserMedia({
    audio: true, video: { width: 640, height: 480, frameRate: 30 } });
  window.__pcs = {};
  window.__offer = async (key) => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    for (const t of window.__stream.getTracks()) pc.addTransceiver(t, { direction: "sendonly" });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((ok) => {
      if (pc.iceGatheringState === "complete") return ok();
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") ok();
      });
    });
    window.__pcs[key] = pc;
    return pc.localDescription.sdp;
  };
  window.__answer = async (key, sdp) => {
    const pc = window.__pcs[key];
    await pc.setRemoteDescription({ type: "answer", sdp });
  };
  window.__sent = async (key) => {
    let bytes = 0;
    (await window.__pcs[key].getStats()).forEach((r) => {
      if (r.type === "outbound-rtp") bytes += r.bytesSent; });
    return bytes;
  };
  window.__close = (prefix) => {
    for (const [k, pc] of Object.entries(window.__pcs)) if (k.startsWith(prefix)) pc.close();
  };
}
"""


class Blank(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>recording bench</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def children_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


async def wait_flowing(page: Page, keys: list[str], min_bytes: int = 200_000) -> None:
    """Until every connection has sent some media (ICE, DTLS and a keyframe done)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent = [await page.evaluate("(k) => window.__sent(k)", k) for k in keys]
        if all(b >= min_bytes for b in sent):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"media did not flow on every connection: {sent}")


def probe(path: Path) -> tuple[list[str], float, str]:
    """The file's stream kinds, duration and (last) video size with the file's bit rate."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "stream=codec_type,width,height:format=duration,bit_rate", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    info = json.loads(out)
    kinds = sorted(s["codec_type"] for s in info.get("streams", []))
    size = next((f"{s['width']}x{s['height']}" for s in info.get("streams", [])
                 if s.get("codec_type") == "video"), "-")  # fmt: skip
    kbps = int(info.get("format", {}).get("bit_rate") or 0) // 1000
    return kinds, float(info.get("format", {}).get("duration") or 0), f"{size} {kbps} kb/s"


def arrival_offsets(raw: Path) -> dict[str, float]:
    """Per participant: video start minus audio start by the first packets' arrival
    (`u` in the `.mjr` headers), what the post-processing did before the RTCP sync."""
    firsts: dict[str, dict[str, int]] = {}
    for mjr in raw.glob("*.mjr"):
        track = read_mjr(mjr)
        firsts.setdefault(mjr.name.split("-")[0], {})[track.kind] = track.first_us
    return {p: (f["video"] - f["audio"]) / 1e6 for p, f in firsts.items() if len(f) == 2}


async def run_janus(
    page: Page, work: Path, streams: int, seconds: float, repeats: int
) -> dict[str, Any]:
    recorder = Recorder(work / f"janus-data-{seconds:g}", secrets.token_bytes(32))
    me = psutil.Process()
    rid = "bench" + secrets.token_hex(4)
    await recorder.do_open(rid)
    keys = [f"j{i}" for i in range(streams)]
    for key in keys:
        offer = await page.evaluate("(k) => window.__offer(k)", key)
        answer = await recorder.do_publish(rid, key, offer)
        await page.evaluate("([k, s]) => window.__answer(k, s)", [key, answer])
    await wait_flowing(page, keys)
    pid = recorder.janus.pid
    assert pid is not None
    janus = psutil.Process(pid)
    j0, s0, t0 = cpu_s(janus), cpu_s(me), time.monotonic()
    await asyncio.sleep(seconds)
    j1, s1, t1 = cpu_s(janus), cpu_s(me), time.monotonic()
    await page.evaluate("(p) => window.__close(p)", "j")
    await recorder.do_close(rid)
    raw = recorder.raw_dir(rid)
    arrival = arrival_offsets(raw)
    backup = work / f"raw-{seconds:g}"
    shutil.copytree(raw, backup)
    # the same post-processing `repeats` times from copies of the raw files: the least
    # CPU time is the one least disturbed by the other work on the shared machine
    post_cpu, post_wall = [], []
    for rep in range(repeats):
        if rep:
            shutil.copytree(backup, raw)
        c0, p0, f0 = children_cpu_s(), cpu_s(me), time.monotonic()
        files = await recorder.do_finish(rid)
        c1, p1, f1 = children_cpu_s(), cpu_s(me), time.monotonic()
        post_cpu.append((c1 - c0) + (p1 - p0))
        post_wall.append(f1 - f0)
    await recorder.do_shutdown()
    checks = []
    for f in files:
        plain = work / f"janus-{seconds:g}-{f.participant}.webm"
        sealed = recorder.sealed_path(rid, f.participant)
        plain.write_bytes(b"".join(read_range(sealed, recorder.key, 0, f.bytes)))
        checks.append(probe(plain))
    sync = [
        {"sync": f.sync, "by_arrival_ms": round(1000 * arrival.get(f.participant, float("nan")), 1),
         "video_after_audio_ms": round(1000 * (f.offsets_s["video"] - f.offsets_s["audio"]), 1)}
        for f in files
    ]  # fmt: skip
    return {
        "window_s": t1 - t0,
        "recorder_cpu_s": j1 - j0,
        "post_cpu_s": min(post_cpu),
        "post_cpu_all_s": [round(c, 3) for c in post_cpu],
        "post_wall_s": min(post_wall),
        "own_cpu_s": s1 - s0,
        "files": checks,
        "sync": sync,
    }


async def run_aiortc(
    page: Page, work: Path, streams: int, seconds: float, own_baseline: float
) -> dict[str, Any]:
    me = psutil.Process()
    keys = [f"a{i}" for i in range(streams)]
    pcs: list[RTCPeerConnection] = []
    recorders: list[MediaRecorder] = []
    for i, key in enumerate(keys):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        rec = MediaRecorder(str(work / f"aiortc-{i}.webm"))
        pcs.append(pc)
        recorders.append(rec)

        def on_track(track: MediaStreamTrack, rec: MediaRecorder = rec) -> None:
            rec.addTrack(track)

        pc.on("track", on_track)
        offer = await page.evaluate("(k) => window.__offer(k)", key)
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await rec.start()
        await page.evaluate("([k, s]) => window.__answer(k, s)", [key, pc.localDescription.sdp])
    await wait_flowing(page, keys)
    s0, t0 = cpu_s(me), time.monotonic()
    await asyncio.sleep(seconds)
    t1 = time.monotonic()
    for rec in recorders:
        await rec.stop()
    s1 = cpu_s(me)
    await page.evaluate("(p) => window.__close(p)", "a")
    for pc in pcs:
        await pc.close()
    checks = [probe(work / f"aiortc-{i}.webm") for i in range(streams)]
    return {
        "window_s": t1 - t0,
        "recorder_cpu_s": (s1 - s0) - own_baseline * (t1 - t0),
        "post_cpu_s": 0.0,
        "own_cpu_s": s1 - s0,
        "files": checks,
    }


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--short-seconds", type=float, default=5.0,
                    help="a short Janus recording: fixed post-processing cost")  # fmt: skip
    ap.add_argument("--repeats", type=int, default=3,
                    help="post-process each recording this often, count the least")  # fmt: skip
    ap.add_argument("--keyframe-every", type=int, default=None,
                    help="Janus's PLI interval in s (default: the product's)")  # fmt: skip
    ap.add_argument("--pcap-seconds", type=float, default=None,
                    help="how long Janus dumps packet headers for the RTCP sync "
                    "(default: the product's)")  # fmt: skip
    args = ap.parse_args()
    if args.keyframe_every is not None:
        janus_module.KEYFRAME_REQUEST_S = args.keyframe_every
    if args.pcap_seconds is not None:
        # janus.py imported the name: patched there, where the dump's end is scheduled
        janus_module.PCAP_SECONDS = args.pcap_seconds  # type: ignore[attr-defined]
    load_before = os.getloadavg()
    http = ThreadingHTTPServer(("127.0.0.1", 0), Blank)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{http.server_address[1]}/"
    with tempfile.TemporaryDirectory(prefix="visavis-rec-bench-") as tmp:
        work = Path(tmp)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await browser.new_page()
            await page.goto(url)
            await page.evaluate(PAGE_JS)
            short = await run_janus(page, work, args.streams, args.short_seconds, args.repeats)
            janus = await run_janus(page, work, args.streams, args.seconds, args.repeats)
            baseline = janus["own_cpu_s"] / janus["window_s"]
            aio = await run_aiortc(page, work, args.streams, args.seconds, baseline)
            await browser.close()
    http.shutdown()
    load_after = os.getloadavg()

    def per_stream(r: dict[str, Any]) -> tuple[float, float, float]:
        """Recording: CPU over the window; post-processing: over the recorded media
        (the files are longer than the window: set-up and closing are in them too)."""
        rec = 100 * r["recorder_cpu_s"] / (r["window_s"] * args.streams)
        media_s = sum(d for _, d, _ in r["files"]) or 1.0
        post = 100 * r["post_cpu_s"] / media_s
        return rec, post, rec + post

    rows = []
    result: dict[str, Any] = {}
    for name, r in (("janus", janus), ("aiortc MediaRecorder", aio)):
        rec, post, total = per_stream(r)
        # a file far shorter or longer than the window: the recorder fell behind (dropped
        # frames, so its CPU figure is too low) or its timestamps are broken
        ok = all(k == ["audio", "video"] and abs(d - r["window_s"]) < 0.25 * r["window_s"] + 5
                 for k, d, _ in r["files"])  # fmt: skip
        durations = "/".join(f"{d:.1f}" for _, d, _ in r["files"])
        sizes = "/".join(sorted({s for _, _, s in r["files"]}))
        rows.append([name, rec, post, total, durations, sizes, "yes" if ok else "NO"])
        result[name.split()[0]] = {
            "recorder_pct": round(rec, 2), "post_pct": round(post, 2),
            "total_pct": round(total, 2), "files_ok": ok,
            "durations_s": [round(d, 2) for _, d, _ in r["files"]],
            "video_sizes": [s for _, _, s in r["files"]],
        }  # fmt: skip
    # post-processing CPU per recorded stream = fixed + per_s * its media seconds,
    # the line through the short and the main recording
    points: list[tuple[float, float]] = [
        (sum(d for _, d, _ in r["files"]) / len(r["files"]), r["post_cpu_s"] / args.streams)
        for r in (short, janus)
    ]
    (m1, c1), (m2, c2) = points
    per_s = (c2 - c1) / (m2 - m1)
    fixed = c1 - per_s * m1
    live = float(result["janus"]["recorder_pct"])

    def total_at(length_s: float) -> float:
        return live + 100 * (fixed / length_s + per_s)

    model = {
        "fixed_cpu_ms_per_stream": round(1000 * fixed, 1), "per_second_pct": round(100 * per_s, 3),
        "from_media_s": [round(m1, 1), round(m2, 1)],
        "total_pct_60s": round(total_at(60), 2), "total_pct_600s": round(total_at(600), 2),
        "predicted_post_pct_main": round(100 * (fixed / m2 + per_s), 2),
        "post_cpu_s_short": short["post_cpu_all_s"], "post_cpu_s_main": janus["post_cpu_all_s"],
    }  # fmt: skip
    sync = short["sync"] + janus["sync"]
    print(
        f"{args.streams} streams (VP8 640x480 + Opus from Chromium), {args.seconds:.0f} s each "
        f"(+ {args.short_seconds:.0f} s for the model); load before {load_before[0]:.2f}, "
        f"after {load_after[0]:.2f} (uptime 1-min)"
    )
    print(table(["recorder", "% core/stream", "post-proc %", "total %", "file s", "video",
                 "A+V ok"], rows))  # fmt: skip
    ratio = result["aiortc"]["total_pct"] / max(result["janus"]["total_pct"], 1e-9)
    print(
        f"aiortc / janus: {ratio:.1f}x; janus post-processing took "
        f"{janus['post_wall_s']:.2f} s wall for {args.streams} streams"
    )
    print(
        f"janus post-processing per stream: {1000 * fixed:.0f} ms CPU fixed + "
        f"{100 * per_s:.2f} % of a core per recorded second (from {m1:.1f} s and {m2:.1f} s files)"
    )
    print(table(["consultation", "recording %", "post-proc %", "total % per stream"],
                [[f"{n}", live, total_at(L) - live, total_at(L)]
                 for n, L in (("60 s", 60.0), ("10 min", 600.0))]))  # fmt: skip
    print("A/V: " + "; ".join(
        f"{x['sync']}: video {x['video_after_audio_ms']:+.1f} ms after audio "
        f"(by arrival {x['by_arrival_ms']:+.1f} ms)" for x in sync))  # fmt: skip
    emit_result(
        "recording",
        {"streams": args.streams, "seconds": args.seconds, **result,
         "aiortc_over_janus": round(ratio, 1), "janus_post_model": model, "janus_av_sync": sync,
         "load_1min": [round(load_before[0], 2), round(load_after[0], 2)]},
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
