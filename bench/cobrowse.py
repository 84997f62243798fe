"""Co-browsing, the customer's side: what the mirror costs and how fast the adviser's
pointer shows. Real Chromium (two contexts: the customer on the demo shop's form page
/demo/konto, an adviser signed in with a socket of their own) against a real server.

- `weight` — the host page before consent: every request the demo page makes until
  the widget shows its availability, and the gzip size of `/widget.js`. The recorder
  `/cobrowse.js` must not be among them (it comes only after consent). Target:
  unchanged, i.e. no co-browsing request and the loader within its 3 KB budget
  (tests/integration/test_queue_live.py).
- `snapshot` — the first full snapshot after consent: the bytes of the mirror's binary
  frames the customer's browser sends until it is complete — the mirror stream is
  deflated in the browser (frontend/src/cobrowse/packing.ts), so these are the bytes on
  the wire — and, as baselines, the same chunks as JSON `cobrowse.batch` frames with
  base64 data (how they travelled before the binary frame), and the same events as
  uncompressed JSON. Target: <= 30 KB.
- `activity` — `--seconds` of the customer scrolling, moving the mouse and typing into
  the form; bytes of mirror frames per minute as sent, and the same two baselines.
  Target: <= 30 KB/min.
- `pointer` — the adviser's pointer: `--pointers` positions sent at 20 a second from
  the adviser's page, each timed until the customer's page moved its pointer there
  (a MutationObserver on the pointer's data-x; both pages in one browser, so one
  clock: performance.timeOrigin + now()). p50/p99. Target: p99 <= 20 ms.
- `mirror` — the adviser's live mirror in the real console (/console, accepted from the
  queue, co-browsing asked for and consented in the UI): `--changes` changes of a
  marker element's text on the customer's page (its sequence number, one every
  `--gap-ms`), each timed from the change until the console's replayer (@rrweb/replay
  in the /console/mirror iframe, same origin as the console) shows that number — a
  MutationObserver on the mirrored document, set up from the console page. The whole
  way: rrweb's recorder, the recorder's 50 ms batching, the chat frame's socket, the
  server's relay, the console's socket and the replayer. Both pages are in one browser
  on one machine, so one clock (performance.timeOrigin + now() on both sides).
  p50/p99. Target: p99 <= 100 ms. Split in three: change → the recorder's flush (the
  batch's sent_at, Date.now(), ms), → the console's socket got it, → drawn.

    python bench/cobrowse.py
    python bench/cobrowse.py --seconds 30 --pointers 400 --changes 300
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import sys
import traceback
import zlib
from typing import Any

from _common import PASSWORD, ROOT, Server, emit_result, exit_on_sigterm, percentile, table
from playwright.sync_api import Browser, WebSocket, expect, sync_playwright

sys.path.append(str(ROOT / "tests"))  # the Chromium of the browser tests
from e2e.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    chat_frame,
    login,
    queue_entry,
    start_chat,
)
from e2e.cobrowse import ADVISER_SOCKET, Adviser, sent_chunks, stream_events

BENCH = "cobrowse"
KB = 1024
EMAIL = "bench@musterbank.test"

# In the customer's page: when the pointer reached each x (the adviser sends x = i).
WATCH_POINTER = """() => {
  const seen = (window.__ptr = {});
  const host = document.getElementById("visavis-cobrowse");
  const ptr = host.shadowRoot.querySelector('[data-testid="cobrowse-pointer"]');
  new MutationObserver(() => {
    const x = ptr.dataset.x;
    if (x && !(x in seen)) seen[x] = performance.timeOrigin + performance.now();
  }).observe(ptr, { attributes: true, attributeFilter: ["data-x"] });
}"""

SEND_POINTERS = """async ([cid, n]) => {
  const sent = {};
  for (let i = 1; i <= n; i++) {
    sent[i] = performance.timeOrigin + performance.now();
    const frame = { type: "cobrowse.pointer", conversation_id: cid, x: i, y: 200 };
    window.__cb.send({ ...frame, visible: true });
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return sent;
}"""

MARKER = "bench-mirror-marker"
# In the customer's page, before consent (so the first snapshot has it): the element
# whose text the mirror part changes.
ADD_MARKER = """id => {
  const el = document.createElement("p");
  el.id = id;
  el.textContent = "0";
  document.body.append(el);
}"""

# In the console: when the mirrored marker showed each number. The replayer draws into
# an iframe (about:blank, no scripts) inside the /console/mirror iframe; both are the
# console's origin, so the console page reaches in and observes the mirrored document.
WATCH_MIRROR = """([stage, id]) => {
  const seen = (window.__mirror = {});
  const doc = stage.contentDocument.querySelector("iframe").contentDocument;
  const look = () => {
    const el = doc.getElementById(id);
    const v = el && el.textContent;
    if (v && !(v in seen)) seen[v] = performance.timeOrigin + performance.now();
  };
  new MutationObserver(look).observe(doc, { subtree: true, childList: true, characterData: true });
}"""

# In the console, before its own scripts: every batch frame its socket got, with the
# time it came; the bench inflates them to find the batch with each number (the text of
# a node rrweb adds) and its sent_at (the customer's Date.now() when its recorder
# flushed), to split the way in three.
ARRIVALS = """(() => {
  window.__arrived = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const at = performance.timeOrigin + performance.now();
        if (typeof e.data === "string" && e.data.includes('"cobrowse.batch"'))
          window.__arrived.push([at, JSON.parse(e.data)]);
      });
    }
  };
})()"""

CHANGE_MARKER = """async ([id, n, gap]) => {
  const el = document.getElementById(id);
  const changed = {};
  for (let i = 1; i <= n; i++) {
    changed[i] = performance.timeOrigin + performance.now();
    el.textContent = String(i);
    await new Promise((ok) => setTimeout(ok, gap));
  }
  return changed;
}"""


ENVELOPE = 150  # a JSON cobrowse.batch frame around its data (ids, stream, n, sent_at)


def uncompressed(frames: list[dict[str, Any]]) -> int:
    """A baseline: the bytes of the same events sent as uncompressed JSON, a frame per
    batch (how the mirror travelled before it was deflated in the browser)."""
    return sum(len(json.dumps(batch).encode()) + ENVELOPE for batch in batches_of(frames))


def as_json(chunks: list[dict[str, Any]]) -> int:
    """A baseline: the bytes of the same chunks as JSON frames with base64 data (how the
    deflated mirror travelled before the binary frame)."""
    return sum(len(c["data"]) + ENVELOPE for c in chunks)


def batches_of(frames: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The events arrays of these chunks, stream by stream (each begins at chunk 0)."""
    out: list[list[dict[str, Any]]] = []
    inflater, pending = zlib.decompressobj(-zlib.MAX_WBITS), b""
    for f in frames:
        if f["n"] == 0:
            inflater, pending = zlib.decompressobj(-zlib.MAX_WBITS), b""
        pending += inflater.decompress(base64.b64decode(f["data"]))
        *lines, pending = pending.split(b"\n")
        out.extend(json.loads(line) for line in lines)
    return out


def run(server: Server, seconds: float, pointers: int, changes: int, gap_ms: int) -> dict[str, Any]:
    base = server.base_url
    result: dict[str, Any] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        console = browser.new_context(locale="de-DE").new_page()
        login(console, base, EMAIL, PASSWORD, available=True)
        console.evaluate(ADVISER_SOCKET)
        console.wait_for_function("() => window.__cb.frames.some(f => f.type === 'welcome')")
        adviser = Adviser(console)

        page = browser.new_context(
            locale="de-DE", viewport={"width": 1280, "height": 800}
        ).new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        sent: list[str | bytes] = []

        def on_socket(ws: WebSocket) -> None:
            ws.on("framesent", lambda payload: sent.append(payload))

        page.on("websocket", on_socket)

        # weight: the host page until the widget shows the availability
        page.goto(base + "/demo/konto")
        expect(page.get_by_test_id("visavis-launcher")).to_contain_text("verfügbar")
        loader = gzip.compress(page.request.get(base + "/widget.js").body(), 9, mtime=0)
        before = [u.replace(base, "") for u in requests]
        result["weight"] = {
            "requests": before,
            "widget_js_gzip": len(loader),
            "cobrowse_before_consent": any("cobrowse" in u for u in before),
        }

        # a conversation, accepted by the adviser
        page.get_by_test_id("visavis-launcher").click()
        start_chat(chat_frame(page), "", None, "Bitte schauen Sie mit aufs Formular.")
        stored = next(f for f in page.frames if "/chat" in f.url).evaluate(
            "() => JSON.parse(localStorage.getItem('visavis.conversation'))"
        )
        adviser.cid = stored["conversation_id"]
        assert adviser.request("conversation.accept")["type"] == "ack"
        adviser.send({"type": "subscribe", "conversation_id": adviser.cid, "after_seq": 0})

        # snapshot: consent, then the frames until the first full snapshot is complete
        assert adviser.request("cobrowse.request")["type"] == "ack"
        chat_frame(page).get_by_test_id("cobrowse-accept").click()
        page.wait_for_function("() => !!window.__visavisCobrowse")
        adviser.wait_mirror(lambda events: any(e.get("type") == 2 for e in events))

        def mirror_frames() -> list[bytes]:
            return [f for f in sent if isinstance(f, bytes)]

        first: list[bytes] = []
        for f in mirror_frames():
            first.append(f)
            if any(e.get("type") == 2 for e in stream_events(sent_chunks(first))):
                break
        result["snapshot"] = {
            "frames": len(first),
            "bytes": sum(len(f) for f in first),
            "json_bytes": as_json(sent_chunks(first)),
            "uncompressed_bytes": uncompressed(sent_chunks(first)),
        }

        # activity: scroll, move, type for `seconds`
        start = len(mirror_frames())
        fields = ["demo-name", "demo-street", "demo-city", "demo-password", "demo-card"]
        t_end = page.evaluate("() => performance.now()") + seconds * 1000
        i = 0
        while page.evaluate("() => performance.now()") < t_end:
            page.mouse.move(100 + (i * 37) % 900, 100 + (i * 53) % 600, steps=5)
            page.mouse.wheel(0, 120 if (i // 10) % 2 == 0 else -120)
            page.get_by_test_id(fields[i % len(fields)]).press_sequentially("abc", delay=60)
            i += 1
        frames = mirror_frames()
        activity = frames[start:]
        per_min = 60.0 / seconds
        all_batches = batches_of(sent_chunks(frames))
        chunks = sent_chunks(activity)
        result["activity"] = {
            "seconds": seconds,
            "frames": len(activity),
            "bytes_per_min": round(sum(len(f) for f in activity) * per_min),
            "json_bytes_per_min": round(as_json(chunks) * per_min),
            "uncompressed_bytes_per_min": round(
                sum(len(json.dumps(b).encode()) + ENVELOPE for b in all_batches[-len(activity) :])
                * per_min
            ),
        }

        # pointer: adviser → customer page
        page.evaluate(WATCH_POINTER)
        sent_at: dict[str, float] = console.evaluate(SEND_POINTERS, [adviser.cid, pointers])
        page.wait_for_function(
            f"() => Object.keys(window.__ptr).length > 0 && '{pointers}' in window.__ptr"
        )
        seen: dict[str, float] = page.evaluate("() => window.__ptr")
        lat = sorted(seen[k] - sent_at[k] for k in seen if k in sent_at)
        result["pointer"] = {
            "sent": pointers,
            "shown": len(lat),
            "p50_ms": round(percentile(lat, 50), 2),
            "p99_ms": round(percentile(lat, 99), 2),
            "max_ms": round(lat[-1], 2),
        }
        page.context.close()  # its recorder stops: the mirror part runs alone
        result["mirror"] = mirror(browser, base, changes, gap_ms)
        browser.close()
    return result


def first_arrivals(got: list[tuple[float, dict[str, Any]]]) -> dict[str, tuple[float, float]]:
    """Each text node's text -> (when the console's socket got the chunk that completed the
    batch adding it, that batch's sent_at)."""
    arrived: dict[str, tuple[float, float]] = {}
    inflater, pending = None, b""
    for at, f in got:
        if f["n"] == 0:
            inflater, pending = zlib.decompressobj(-zlib.MAX_WBITS), b""
        if inflater is None:
            continue
        pending += inflater.decompress(base64.b64decode(f["data"]))
        *lines, pending = pending.split(b"\n")
        for line in lines:
            for ev in json.loads(line):
                for a in (ev.get("data") or {}).get("adds") or []:
                    node = a.get("node") or {}
                    if node.get("type") == 3 and node.get("textContent") not in arrived:
                        arrived[node["textContent"]] = (at, f["sent_at"])
    return arrived


def mirror(browser: Browser, base: str, changes: int, gap_ms: int) -> dict[str, Any]:
    """Customer DOM change → shown in the adviser's console mirror, through the server."""
    page = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 800}).new_page()
    page.goto(base + "/demo/konto")
    page.evaluate(ADD_MARKER, MARKER)
    page.get_by_test_id("visavis-launcher").click()
    frame = chat_frame(page)
    start_chat(frame, "Mira Spiegel", None, "Schauen Sie bitte mit?")
    console = browser.new_context(locale="de-DE").new_page()
    console.add_init_script(ARRIVALS)
    login(console, base, EMAIL, PASSWORD, available=True)
    queue_entry(console, "Mira Spiegel").get_by_test_id("accept").click()
    expect(frame.get_by_test_id("adviser-name")).to_be_visible()
    console.get_by_test_id("cobrowse-ask").click()
    frame.get_by_test_id("cobrowse-accept").click()
    expect(console.get_by_test_id("cobrowse-status")).to_have_attribute("data-phase", "started")
    stage = console.locator('[data-testid="cobrowse-stage"] iframe')
    mirrored = console.frame_locator('[data-testid="cobrowse-stage"] iframe').frame_locator(
        "iframe"
    )
    expect(mirrored.locator("#" + MARKER)).to_have_text("0")

    console.evaluate(WATCH_MIRROR, [stage.element_handle(), MARKER])
    changed: dict[str, float] = page.evaluate(CHANGE_MARKER, [MARKER, changes, gap_ms])
    console.wait_for_function("n => String(n) in window.__mirror", arg=changes)
    seen: dict[str, float] = console.evaluate("() => window.__mirror")
    lat = sorted(seen[k] - changed[k] for k in seen if k in changed)
    arrived = first_arrivals(console.evaluate("() => window.__arrived"))
    both = [k for k in seen if k in changed and k in arrived]
    # change → recorder's flush → console's socket → drawn (sent_at is Date.now(): ms)
    steps = {
        "flush": sorted(arrived[k][1] - changed[k] for k in both),
        "relay": sorted(arrived[k][0] - arrived[k][1] for k in both),
        "replay": sorted(seen[k] - arrived[k][0] for k in both),
    }
    page.context.close()
    console.context.close()
    return {
        "changes": changes,
        "gap_ms": gap_ms,
        "shown": len(lat),
        "p50_ms": round(percentile(lat, 50), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "max_ms": round(lat[-1], 2),
        "steps": {
            name: {
                "p50_ms": round(percentile(v, 50), 2),
                "p99_ms": round(percentile(v, 99), 2),
            }
            for name, v in steps.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=20.0, help="activity duration")
    p.add_argument("--pointers", type=int, default=200, help="pointer positions to time")
    p.add_argument("--changes", type=int, default=100, help="mirrored DOM changes to time")
    p.add_argument("--gap-ms", type=int, default=100, help="between two mirrored changes")
    args = p.parse_args(argv)
    exit_on_sigterm()
    load_before = os.getloadavg()
    try:
        with Server() as server:
            server.add_advisers([(EMAIL, PASSWORD, "Bench Beraterin", 5)])
            r = run(server, args.seconds, args.pointers, args.changes, args.gap_ms)
    except Exception as exc:  # the result line says why, for the harness
        traceback.print_exc()
        emit_result(BENCH, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    load_after = os.getloadavg()
    snap, act, ptr, w = r["snapshot"], r["activity"], r["pointer"], r["weight"]
    mir = r["mirror"]
    ok = (
        not w["cobrowse_before_consent"]
        and snap["bytes"] <= 30 * KB
        and act["bytes_per_min"] <= 30 * KB
        and ptr["p99_ms"] <= 20
        and mir["shown"] == mir["changes"]
        and mir["p99_ms"] <= 100
    )
    rows = [
        [
            "weight",
            "requests before consent",
            len(w["requests"]),
            "co-browsing: " + str(w["cobrowse_before_consent"]),
        ],
        ["weight", "widget.js gzip B", w["widget_js_gzip"], "budget 3072 with API"],
        ["snapshot", "frames", snap["frames"], ""],
        ["snapshot", "B sent", snap["bytes"], "target <= 30720"],
        ["snapshot", "B as JSON frames, base64", snap["json_bytes"], "baseline"],
        ["snapshot", "B as plain JSON", snap["uncompressed_bytes"], "baseline"],
        ["activity", "frames", act["frames"], f"{act['seconds']} s"],
        ["activity", "B/min sent", act["bytes_per_min"], "target <= 30720"],
        ["activity", "B/min as JSON frames, base64", act["json_bytes_per_min"], "baseline"],
        ["activity", "B/min as plain JSON", act["uncompressed_bytes_per_min"], "baseline"],
        ["pointer", "shown / sent", ptr["shown"], ptr["sent"]],
        ["pointer", "p50 / p99 ms", ptr["p50_ms"], ptr["p99_ms"]],
        ["mirror", "shown / changed", mir["shown"], mir["changes"]],
        ["mirror", "p50 / p99 ms", mir["p50_ms"], mir["p99_ms"]],
        ["mirror", "max ms", mir["max_ms"], "target p99 <= 100"],
        *[
            ["mirror", f"{name}: p50 / p99 ms", st["p50_ms"], st["p99_ms"]]
            for name, st in mir["steps"].items()
        ],
    ]
    print(table(["part", "what", "value", ""], rows))
    print(f"load average before {load_before}, after {load_after}; {os.cpu_count()} cores")
    load = {"loadavg_before": list(load_before), "loadavg_after": list(load_after)}
    emit_result(BENCH, {"ok": ok, **r, **load})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
