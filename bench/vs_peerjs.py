"""visavis against the PeerJS server (npm `peer`), side by side in one run: the same
load at 100 / 500 / 1,000 pairs, 1 message/s each way per pair, the same text.

visavis: exactly bench/chat_latency.py's step (a customer socket per conversation,
advisers with `--chats-per-adviser` conversations on one socket; every message is
committed to the database before it is delivered). PeerJS: the same pairs over its
relay (bench/peerjs_load.py; the "adviser" peer also talks to its customers over one
socket), which stores nothing. Latency = send -> arrival at the other side's socket.
Target at 1,000 pairs: visavis p99 <= 5 x PeerJS's p99.

The PeerJS server is installed into bench/peerjs/ (`npm ci`, its own package.json and
lock; not part of the frontend build) and run with Node.js.

    python bench/vs_peerjs.py                          # 100,500,1000 pairs, 20 s each
    python bench/vs_peerjs.py --n 100 --duration 10
    python bench/vs_peerjs.py --n 1000 --rounds 3      # 3 pairs of steps, in turn

`--rounds K` runs both K times at each N, in turn (the order swapped every round),
and judges the median of the rounds' ratios: a shared machine's speed drifts from
minute to minute (the same server's CPU a message by a third), and one round's
ratio says as much about that minute as about the two servers.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import psutil
from _common import ROOT, cpu_of_tree, emit_result, exit_on_sigterm, free_port, raise_nofile, table
from chat_latency import HEADERS, row
from chat_latency import parse_args as chat_latency_args
from chat_step import Step, measured_step, run_workers
from peerjs_load import AdviserPlan, ConvPlan, WorkerPlan, worker_main

BENCH = "vs_peerjs"
PEERJS_DIR = ROOT / "bench" / "peerjs"
PEERJS_BIN = PEERJS_DIR / "node_modules" / "peer" / "dist" / "bin" / "peerjs.js"
TARGET_RATIO = 5.0


def ensure_peerjs() -> str:
    """Install the pinned PeerJS server (bench/peerjs/package-lock.json) if needed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("bench/vs_peerjs.py runs the PeerJS server with Node.js: install nodejs")
    lock = PEERJS_DIR / "package-lock.json"
    modules = PEERJS_DIR / "node_modules"
    if not PEERJS_BIN.is_file() or lock.stat().st_mtime > modules.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEERJS_DIR, check=True
        )
    return node


class PeerServer:
    """`peerjs --port P` on loopback, stopped on exit."""

    def __init__(self, node: str, log: Path) -> None:
        self.port = free_port()
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        cmd = [
            node, str(PEERJS_BIN), "--port", str(self.port), "--host", "127.0.0.1",
            "--concurrent_limit", "100000", "--alive_timeout", "600000",
        ]  # fmt: skip
        self.log = log.open("ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the PeerJS server exited at start: see {log}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"the PeerJS server is not up after 30 s: see {log}")

    def cpu_seconds(self) -> float:
        t = psutil.Process(self.proc.pid).cpu_times()
        return float(t.user + t.system)

    def cpu_by_process(self) -> dict[int, float]:
        return cpu_of_tree(psutil.Process(self.proc.pid))

    def chat_groups(self) -> None:
        return None  # it stores nothing

    def rss(self) -> int:
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def peerjs_step(n: int, ws: str, args: Any) -> Step:
    per = args.chats_per_adviser
    n_adv = math.ceil(n / per)
    workers = max(1, min(args.workers, n_adv))
    step = Step(n=n, ws="peerjs", workers=workers)
    server = PeerServer(args.node, Path(f"/tmp/vs-peerjs-{os.getpid()}.log"))
    try:
        t_setup = time.monotonic()
        advisers = [
            AdviserPlan(
                f"a{i:04d}",
                "",
                [
                    ConvPlan(j, f"c{j:05d}", f"a{i:04d}")
                    for j in range(i * per, min(n, (i + 1) * per))
                ],
            )
            for i in range(n_adv)
        ]
        plans = [
            WorkerPlan(
                worker=w,
                ws_url=server.ws_url,
                advisers=advisers[w::workers],
                duration_s=args.duration,
                drain_s=args.drain,
                rate_hz=args.rate,
                text_chars=args.text_chars,
                seed=args.seed * 1000 + w,
                setup_timeout_s=args.setup_timeout,
                connect_concurrency=args.connect_concurrency,
            )
            for w in range(workers)
        ]
        step.setup_s = time.monotonic() - t_setup
        run_workers(step, plans, worker_main, server, args)
        if server.proc.poll() is not None:
            raise RuntimeError(f"N={n} (peerjs): the PeerJS server died")
    finally:
        server.stop()
    return step


def quietest_peerjs_step(n: int, args: Any) -> Step:
    """peerjs_step, repeated like chat_step.measured_step while the machine is busy."""
    steps = [peerjs_step(n, "peerjs", args)]
    while steps[-1].other_cpu_pct > args.noisy_pct and len(steps) <= args.retries:
        time.sleep(args.retry_wait)
        steps.append(peerjs_step(n, "peerjs", args))
    return min(steps, key=lambda s: s.other_cpu_pct)


def shown(step: Step, args: Any) -> Step:
    """The step, its row printed as it ends."""
    print(table(HEADERS, [row(step, args.p99_ms)]), flush=True)
    return step


def main(argv: list[str] | None = None) -> int:
    defaults = ["--n", "100,500,1000", "--workers", "2", "--compare-ws-at", "off"]
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--rounds", type=int, default=1, help="pairs of steps at each N (1..9)")
    extra, rest = own.parse_known_args(sys.argv[1:] if argv is None else argv)
    args = chat_latency_args([*defaults, *rest])
    if not 1 <= extra.rounds <= 9:
        print("--rounds must be 1..9", file=sys.stderr)
        return 2
    rounds: int = extra.rounds
    raise_nofile(65536)
    exit_on_sigterm()
    args.node = ensure_peerjs()
    node_version = subprocess.run([args.node, "--version"], capture_output=True, text=True)
    ramp = [int(x) for x in args.n.split(",") if x.strip()]
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"vs_peerjs: pairs {ramp}, {args.duration:g} s per step, {args.rate:g} msg/s each way "
        f"per pair, {args.text_chars} characters, {args.chats_per_adviser} pairs per adviser "
        f"socket, {args.workers} client process(es), {rounds} round(s); PeerJS server 1.0.2 "
        f"on Node.js {node_version.stdout.strip()}; load {load_before}",
        flush=True,
    )
    pairs: list[tuple[Step, Step]] = []
    failure = ""
    for n in ramp:
        for r in range(rounds):
            try:
                # the order swaps every round: neither server always runs first
                if r % 2 == 0:
                    ours = shown(measured_step(n, "default", args), args)
                theirs = shown(quietest_peerjs_step(n, args), args)
                if r % 2 == 1:
                    ours = shown(measured_step(n, "default", args), args)
            except Exception as exc:
                failure = str(exc)
                print(f"step N={n} failed: {exc}", file=sys.stderr, flush=True)
                break
            pairs.append((ours, theirs))
        if failure:
            break
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())

    print("\n== all steps (visavis: ws=default, PeerJS: ws=peerjs) ==")
    print(table(HEADERS, [row(s, args.p99_ms) for p in pairs for s in p]))
    side = [
        "pairs", "visavis p50", "visavis p99", "PeerJS p50", "PeerJS p99", "p99 ratio",
        "visavis lost", "PeerJS lost", "visavis CPU ms/msg", "PeerJS CPU ms/msg", "other CPU%",
    ]  # fmt: skip
    rows = []
    for ours, theirs in pairs:
        ratio = ours.p99_ms / theirs.p99_ms if theirs.p99_ms else math.nan
        rows.append([
            ours.n, ours.p50_ms, ours.p99_ms, theirs.p50_ms, theirs.p99_ms, ratio,
            ours.lost + ours.unacked, theirs.lost, ours.server_cpu_ms_per_msg,
            theirs.server_cpu_ms_per_msg, f"{ours.other_cpu_pct:.0f}/{theirs.other_cpu_pct:.0f}",
        ])  # fmt: skip
    print("\n== visavis (commits every message) vs PeerJS (stores nothing), latency in ms ==")
    print(table(side, rows))
    at_1000 = [(o, t) for o, t in pairs if o.n == 1000]
    verdict: bool | None = None
    median_ratio: float | None = None
    if at_1000:
        ratios = [o.p99_ms / t.p99_ms for o, t in at_1000]
        median_ratio = statistics.median(ratios)
        verdict = median_ratio <= TARGET_RATIO and all(o.clean() for o, _ in at_1000)
        each = f" (rounds: {', '.join(f'{x:.1f}' for x in ratios)})" if len(ratios) > 1 else ""
        print(
            f"\nat 1,000 pairs: visavis p99 = {median_ratio:.1f} x PeerJS p99{each} "
            f"(target <= {TARGET_RATIO:g}): {'held' if verdict else 'NOT held'}"
        )
    print(f"load (uptime) before: {load_before}; after: {load_after}")
    if failure:
        print(f"error: {failure}", file=sys.stderr)
    emit_result(
        BENCH,
        {
            "ok": not failure,
            "error": failure or None,
            "duration_s": args.duration,
            "rate_hz": args.rate,
            "text_chars": args.text_chars,
            "target_ratio": TARGET_RATIO,
            "rounds": rounds,
            "median_ratio_at_1000": median_ratio,
            "held_at_1000": verdict,
            "load_before": load_before,
            "load_after": load_after,
            "steps": [{"n": o.n, "visavis": asdict(o), "peerjs": asdict(t)} for o, t in pairs],
        },
    )
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
