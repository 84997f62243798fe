"""Call setup and recovery: real Chromium, real visavis, real coturn.

Per mode (`direct`: no ICE servers, host candidates; `turn`: relay-only through a
coturn started here on loopback with visavis' TURN REST credentials), `--runs` times:

1. A fresh customer (own browser context, fake camera and microphone) starts a chat at
   /chat; the adviser (console, signed in once) accepts it.
2. The customer clicks "Video call" and turns camera and microphone on (pre-call check);
   the adviser's console rings.
3. Measured from the adviser's click on "Accept" (a capturing click listener in the
   console page, `Date.now()`) to the first decoded video frame on each side (`getStats()`
   `inbound-rtp framesDecoded > 0`, polled every 5 ms in each page). This includes the
   adviser's getUserMedia (accepting turns camera and microphone on), the call.answer
   round trip, both peer connections, the offer/answer and candidates through the server,
   ICE, DTLS and the first key frame.
4. `turn` only: the media path is cut for real — coturn is killed (SIGKILL: every
   allocation is lost) and restarted on the same port 3 s later. Noticed: when both
   sides show "reconnecting" (nan if not within the 3 s). Recovery: from coturn
   answering STUN again until video decodes steadily again on both sides (the start
   of 0.5 s of decoded frames without a gap over 200 ms; ICE restart through perfect
   negotiation; no reload).
5. Hang up, end the conversation.

The floor, in the same run and browser: one page of the same server (same origin),
two bare RTCPeerConnections exchanging offer/answer/candidates in-process, both sending
the same fake camera and microphone (one getUserMedia inside the timed span, like the
adviser's), with the same ICE configuration per mode (`turn`: relay-only, credentials
signed here with coturn's secret). Timed from the start to the first decoded frame on
both. visavis / floor compares p50s.

    python bench/call_setup.py              # 5 runs per mode
    python bench/call_setup.py --runs 10 --modes direct
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import secrets
import shutil
import socket
import struct
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _common import PASSWORD, ROOT, Server, emit_result, percentile, table
from call_page_scripts import FLOOR, WATCH_FIRST_FRAME, WATCH_STEADY
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

sys.path.append(str(ROOT / "tests"))  # the Chromium and the coturn of the call tests
from coturn import TURNSERVER, Coturn
from e2e.browser import CHROMIUM, CHROMIUM_ARGS
from ports import free_udp_port

BENCH = "call_setup"
OUTAGE_S = 3.0
nan = float("nan")
TIMEOUT_MS = 20_000


# ---------------------------------------------------------------- coturn
def stun_answers(port: int) -> bool:
    """One STUN Binding request with a short timeout: a request sent before coturn
    listens is lost, so polling with these times its start to about 20 ms."""
    tid = os.urandom(12)
    request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.02)
        try:
            s.sendto(request, ("127.0.0.1", port))
            data, _ = s.recvfrom(2048)
        except OSError:
            return False
    return data[:2] == b"\x01\x01" and data[8:20] == tid


class Turn:
    """The tests' coturn (tests/coturn.py) on loopback in a temp dir, with the TURN REST
    secret; killable and restartable on the same port."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="visavis-bench-turn-"))
        self.coturn = Coturn(free_udp_port(), secrets.token_hex(16), self.dir / "coturn.log")
        self.url = self.coturn.url
        self.secret = self.coturn.secret

    def start(self) -> float:
        """Start; return time.time() when it first answered STUN (Coturn.start() itself
        waits a 0.2 s timeout after each lost request: too coarse to time recovery)."""
        if not os.path.exists(TURNSERVER):
            raise RuntimeError("turnserver not found: apt-get install coturn")
        with ThreadPoolExecutor(1) as pool:
            starting = pool.submit(self.coturn.start)
            while not (starting.done() or stun_answers(self.coturn.port)):
                pass
            answered = time.time()
            starting.result()  # its errors (turnserver exited, did not answer)
        return answered

    def kill(self) -> None:
        proc = self.coturn.proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5)
        self.coturn.stop()  # closes the log; nothing left to terminate

    def stop(self) -> None:
        self.coturn.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def credentials(self, label: str, ttl_s: int = 600) -> tuple[str, str]:
        username = f"{int(time.time()) + ttl_s}:{label}"
        digest = hmac.new(self.secret.encode(), username.encode(), hashlib.sha1).digest()
        return username, base64.b64encode(digest).decode()


# ---------------------------------------------------------------- one mode
@contextmanager
def visavis(turn: Turn | None) -> Iterator[Server]:
    env = {}
    if turn is not None:
        env = {
            "VISAVIS_ICE_URLS": turn.url,
            "VISAVIS_TURN_SECRET": turn.secret,
            "VISAVIS_ICE_TRANSPORT_POLICY": "relay",
        }
    with Server(env=env) as server:
        server.add_advisers([("bench@musterbank.test", PASSWORD, "Bench Beraterin", 5)])
        yield server


def new_context(browser: Browser) -> BrowserContext:
    ctx = browser.new_context(locale="de-DE")
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def sign_in(page: Page, base: str) -> None:
    page.goto(base + "/console")
    page.get_by_test_id("login-email").fill("bench@musterbank.test")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("conn-status")).to_have_attribute("data-state", "open")


def wait_value(page: Page, expr: str, timeout_s: float = 20) -> float:
    page.wait_for_function(f"() => ({expr}) !== null", timeout=timeout_s * 1000, polling=20)
    return float(page.evaluate(expr))


def one_run(
    browser: Browser, console: Page, base: str, n: int, turn: Turn | None
) -> dict[str, float]:
    ctx = new_context(browser)
    try:
        customer = ctx.new_page()
        customer.goto(base + "/chat")
        name = f"Kunde {n}-{secrets.token_hex(3)}"
        customer.get_by_test_id("start-name").fill(name)
        customer.get_by_test_id("start-message").fill("Bitte per Video.")
        customer.get_by_test_id("start-submit").click()
        console.get_by_test_id("queue-entry").filter(has_text=name).get_by_test_id("accept").click()
        expect(customer.get_by_test_id("adviser-name")).to_be_visible()

        customer.get_by_test_id("call-video").click()
        customer.get_by_test_id("call-camera").click()
        customer.get_by_test_id("call-mic").click()
        expect(customer.get_by_test_id("call-mic")).to_have_attribute("data-state", "on")
        expect(customer.get_by_test_id("precheck-video")).to_be_visible()
        accept = console.get_by_test_id("call-accept")
        expect(accept).to_be_enabled()
        if turn is not None:  # the pre-call check has finished (its TURN allocation too)
            expect(customer.get_by_test_id("check-turn")).to_have_attribute("data-result", "relay")

        for p in (customer, console):
            p.evaluate(WATCH_FIRST_FRAME)
        console.evaluate(
            """() => { window.__acceptAt = null; window.addEventListener("click",
                () => { if (window.__acceptAt === null) window.__acceptAt = Date.now(); },
                { capture: true, once: true }); }"""
        )
        accept.click()
        t_accept = wait_value(console, "window.__acceptAt")
        t_customer = wait_value(customer, "window.__firstFrameAt")
        t_adviser = wait_value(console, "window.__firstFrameAt")
        result = {
            "customer_ms": t_customer - t_accept,
            "adviser_ms": t_adviser - t_accept,
            "both_ms": max(t_customer, t_adviser) - t_accept,
        }

        if turn is not None:
            time.sleep(0.5)  # media flowing for a moment
            turn.kill()
            cut = time.time()
            seen: dict[int, float] = {}
            while time.time() - cut < OUTAGE_S:  # when each side shows "reconnecting"
                for i, p in enumerate((customer, console)):
                    if (
                        i not in seen
                        and p.get_by_test_id("call-status").get_attribute("data-state")
                        == "reconnecting"
                    ):
                        seen[i] = time.time()
                time.sleep(0.02)
            result["detect_ms"] = (max(seen.values()) - cut) * 1000 if len(seen) == 2 else nan
            for p in (customer, console):
                p.evaluate(WATCH_STEADY)
            back = turn.start() * 1000
            t1 = wait_value(customer, "window.__steadyAt", 30)
            t2 = wait_value(console, "window.__steadyAt", 30)
            result["recovery_ms"] = max(t1, t2) - back

        customer.get_by_test_id("call-hangup").click()
        expect(customer.get_by_test_id("call-panel")).to_have_count(0)
        customer.get_by_test_id("end-conversation").click()
        customer.get_by_test_id("confirm-end").click()
        expect(customer.get_by_test_id("ended-banner")).to_be_visible()
        console.get_by_test_id("close-tab").click()
        return result
    finally:
        ctx.close()


def floor_run(page: Page, turn: Turn | None) -> dict[str, Any]:
    servers: list[dict[str, Any]] = []
    policy = "all"
    if turn is not None:
        user, cred = turn.credentials("floor")
        servers = [{"urls": [turn.url], "username": user, "credential": cred}]
        policy = "relay"
    result: dict[str, Any] = page.evaluate(
        FLOOR, {"iceServers": servers, "iceTransportPolicy": policy}
    )
    return result


def stats(values: list[float]) -> dict[str, float]:
    v = sorted(values)
    return {"p50": percentile(v, 50), "p95": percentile(v, 95), "min": v[0] if v else float("nan")}


def run_mode(browser: Browser, mode: str, runs: int, warmup: int) -> dict[str, Any]:
    turn = Turn() if mode == "turn" else None
    try:
        if turn is not None:
            turn.start()
        with visavis(turn) as server:
            console_ctx = new_context(browser)
            try:
                console = console_ctx.new_page()
                sign_in(console, server.base_url)
                samples: list[dict[str, float]] = []
                for i in range(warmup + runs):
                    r = one_run(browser, console, server.base_url, i, turn)
                    tag = "warm-up" if i < warmup else f"run {i - warmup + 1}/{runs}"
                    print(
                        f"  {mode} {tag}: " + ", ".join(f"{k} {v:.0f}" for k, v in r.items()),
                        flush=True,
                    )
                    if i >= warmup:
                        samples.append(r)
            finally:
                console_ctx.close()

            floor_ctx = new_context(browser)
            try:
                page = floor_ctx.new_page()
                page.goto(server.base_url + "/healthz")  # same origin, nothing else running
                floors: list[dict[str, Any]] = []
                for i in range(warmup + runs):
                    f = floor_run(page, turn)
                    if i >= warmup:
                        floors.append(f)
                print(f"  {mode} floor: " + ", ".join(f"{f['ms']:.0f}" for f in floors), flush=True)
            finally:
                floor_ctx.close()
    finally:
        if turn is not None:
            turn.stop()

    out: dict[str, Any] = {
        k: stats([s[k] for s in samples])
        for k in ("customer_ms", "adviser_ms", "both_ms", "recovery_ms", "detect_ms")
        if samples and k in samples[0]
    }
    out["floor_ms"] = stats([float(f["ms"]) for f in floors])
    out["floor_local_candidate"] = sorted({str(f["local"]) for f in floors})
    out["ratio_p50"] = out["both_ms"]["p50"] / out["floor_ms"]["p50"]
    out["over_floor_p50_ms"] = out["both_ms"]["p50"] - out["floor_ms"]["p50"]
    out["samples"] = samples
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="measured runs per mode (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured runs first (default 1)")
    p.add_argument("--modes", default="direct,turn", help="direct,turn (default both)")
    p.add_argument("--target-over-floor-ms", type=float, default=100.0)
    p.add_argument("--target-recovery-ms", type=float, default=1000.0)
    args = p.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not set(modes) <= {"direct", "turn"}:
        p.error("--modes: direct and/or turn")

    results: dict[str, Any] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for mode in modes:
                    print(f"== {mode}", flush=True)
                    results[mode] = run_mode(browser, mode, args.runs, args.warmup)
            finally:
                browser.close()
    except Exception as exc:
        traceback.print_exc()
        emit_result(BENCH, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1

    rows: list[list[Any]] = []
    for mode, r in results.items():
        f = r["floor_ms"]
        for key, label in (
            ("customer_ms", "accept → 1st frame, customer"),
            ("adviser_ms", "accept → 1st frame, adviser"),
            ("both_ms", "accept → 1st frame, both"),
        ):
            ratio = r[key]["p50"] / f["p50"] if key == "both_ms" else float("nan")
            rows.append([mode, label, args.runs, r[key]["p50"], r[key]["p95"], ratio])
        rows.append([mode, "floor: 2 bare pcs, 1 page", args.runs, f["p50"], f["p95"], 1.0])
        if "recovery_ms" in r:
            rows.append([mode, "cut noticed (reconnecting)", args.runs, r["detect_ms"]["p50"],
                         r["detect_ms"]["p95"], float("nan")])  # fmt: skip
            rows.append([mode, "recovery after path back", args.runs, r["recovery_ms"]["p50"],
                         r["recovery_ms"]["p95"], float("nan")])  # fmt: skip
    print()
    print(table(["mode", "what", "n", "p50 ms", "p95 ms", "visavis/floor"], rows))
    checks: dict[str, bool] = {}
    for mode, r in results.items():
        checks[f"{mode}_within_floor_plus_target"] = (
            r["over_floor_p50_ms"] <= args.target_over_floor_ms
        )
        if "recovery_ms" in r:
            checks[f"{mode}_recovery_under_target"] = (
                r["recovery_ms"]["p95"] <= args.target_recovery_ms
            )
    print()
    for name, ok in checks.items():
        print(f"{name}: {'PASS' if ok else 'FAIL'}")
    payload: dict[str, Any] = {
        "ok": True,
        "runs": args.runs,
        "targets": {
            "over_floor_ms": args.target_over_floor_ms,
            "recovery_ms": args.target_recovery_ms,
        },
        "checks": checks,
    }
    for mode, r in results.items():
        payload[mode] = {k: v for k, v in r.items() if k != "samples"}
    emit_result(BENCH, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
