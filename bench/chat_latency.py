"""Chat delivery latency under load: N concurrent conversations on a real server.

Every conversation has a customer socket and an adviser socket (advisers serve
`--chats-per-adviser` conversations each over one socket, as the console does).
Both sides send one chat message per second (jittered start) for `--duration`
seconds. The send time (CLOCK_MONOTONIC, ns) is the first word of the text; the
latency is the time from send to arrival of the `event` at the *other* side's
socket. Every message is committed before it is delivered (the server's design),
so this is commit + fan-out + two WebSocket hops.

Counted per step:
- lost: acked by the server but never delivered to the other side (after a drain);
- duplicated: a socket received the same (conversation, seq) twice, or the other
  side received the same client_id twice;
- gaps: a socket saw a seq jump (the protocol promises none);
- unacked: sent but neither acked nor refused before the drain ended.

Also reported: `ack p99` (send -> the sender's `ack`: the server's processing incl.
the commit) and `ping p99` (one socket pings every 50 ms: the server's responsiveness
apart from the database), and the CPU of the server, of the load generator, of
PostgreSQL's and Redis's processes (`PG/Redis CPU%`, when they run on this machine)
and of all other processes on the machine (a shared machine distorts the figures;
noisy steps are repeated, see `--retries`, and `--nice -5` helps).

The ramp over `--n` stops at the first step with p99 >= `--p99-ms` or any loss,
duplicate, gap, unacked message or error. The load generator runs in `--workers`
processes (spawned; each owns whole advisers with their conversations), separate
from the server; their CPU use is reported so a CPU-bound client is visible.

    python bench/chat_latency.py                      # ramp 10..800, 20 s each
    python bench/chat_latency.py --nice -5 --compare-ws-at 50
    python bench/chat_latency.py --n 100 --duration 10 --compare-ws-at off
    python bench/chat_latency.py --ws wsproto --n 200 --workers 2 --compare-ws-at off
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from typing import Any

from _common import WS_IMPLS, emit_result, exit_on_sigterm, raise_nofile, table
from chat_step import Step, measured_step

BENCH = "chat_latency"


# ---------------------------------------------------------------- output
HEADERS = [
    "N", "ws", "sockets", "msg/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "ack p99", "ping p99",
    "lost", "dup", "gaps", "unacked", "overl", "errors", "srv CPU%", "srv ms/msg", "srv RSS MB",
    "client CPU%", "PG/Redis CPU%", "other CPU%", "loop lag p99", "held",
]  # fmt: skip


def databases_cpu(s: Step) -> str:
    """PostgreSQL's and Redis's CPU during the step, as `PG/Redis`."""
    return f"{round(s.postgres_cpu_pct)}/{round(s.redis_cpu_pct)}"


def row(s: Step, p99_limit: float) -> list[Any]:
    return [
        s.n, s.ws, s.sockets, round(s.msgs_per_s), s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms,
        s.ack_p99_ms, s.ping_p99_ms, s.lost, s.duplicated, s.gaps, s.unacked, s.overloaded,
        ",".join(f"{k}:{v}" for k, v in s.errors.items()) or "0",
        round(s.server_cpu_pct), s.server_cpu_ms_per_msg, round(s.server_rss_mb),
        "/".join(str(round(c)) for c in s.client_cpu_pct), databases_cpu(s),
        round(s.other_cpu_pct),
        s.client_loop_lag_p99_ms,
        "yes" if s.held(p99_limit) else "NO",
    ]  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", default="10,25,50,100,200,400,800", help="ramp of conversation counts")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of sending per step")
    p.add_argument("--rate", type=float, default=1.0, help="messages per second per side")
    p.add_argument("--drain", type=float, default=10.0, help="max seconds to wait for stragglers")
    p.add_argument("--p99-ms", type=float, default=50.0, help="latency target")
    p.add_argument("--chats-per-adviser", type=int, default=50, help="1..50 (server limit)")
    p.add_argument("--workers", type=int, default=1, help="load-generator processes")
    p.add_argument("--text-chars", type=int, default=60, help="length of each chat text")
    p.add_argument(
        "--ws",
        default="default",
        choices=["default", *WS_IMPLS],
        help="uvicorn ws implementation; default = `python -m visavis serve` as shipped",
    )
    p.add_argument(
        "--compare-ws-at",
        default="auto",
        help="N at which to compare ws implementations: a number, 'auto' "
        "(highest N held in the ramp) or 'off'",
    )
    p.add_argument("--log-level", default="info", help="server log level")
    p.add_argument("--connect-concurrency", type=int, default=50)
    p.add_argument("--setup-timeout", type=float, default=180.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--noisy-pct",
        type=float,
        default=30.0,
        help="a step during which other processes used more CPU than this is repeated",
    )
    p.add_argument("--retries", type=int, default=2, help="repeats of a noisy step (0..5)")
    p.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness increment for the bench, its server and workers (negative needs root): "
        "on a shared machine, -5 keeps other jobs from distorting the figures",
    )
    p.add_argument("--retry-wait", type=float, default=20.0, help="seconds before a repeat")
    p.add_argument(
        "--repeat-failed",
        type=int,
        default=0,
        help="repeats of a step that missed the p99 target (0..5), the best kept: on a "
        "shared machine one stall of PostgreSQL or the load client fails a step alone",
    )
    args = p.parse_args(argv)
    if not 0 <= args.repeat_failed <= 5:
        p.error("--repeat-failed must be 0..5")
    if not 1 <= args.chats_per_adviser <= 50:
        p.error("--chats-per-adviser must be 1..50")
    if not 0 <= args.retries <= 5:
        p.error("--retries must be 0..5")
    if args.duration <= 0 or args.duration > 600 or args.rate <= 0 or args.rate > 50:
        p.error("--duration must be in (0, 600] and --rate in (0, 50]")
    return args


def ws_available(impl: str) -> bool:
    mod = {"websockets-sansio": "websockets", "wsproto": "wsproto", "websockets": "websockets"}
    try:
        __import__(mod[impl])
        return True
    except ImportError:
        return False


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_nofile(65536)
    exit_on_sigterm()
    if args.nice:
        os.nice(args.nice)  # inherited by the server subprocess and the workers
    ramp = [int(x) for x in args.n.split(",") if x.strip()]
    print(
        f"chat_latency: ramp {ramp}, {args.duration:g} s per step, {args.rate:g} msg/s each way "
        f"per conversation, {args.chats_per_adviser} chats per adviser socket, "
        f"{args.workers} client process(es), server ws={args.ws}, nice {os.nice(0)}",
        flush=True,
    )
    steps: list[Step] = []
    failure = ""
    for n in ramp:
        try:
            step = measured_step(n, args.ws, args)
        except Exception as exc:
            failure = str(exc)
            print(f"step N={n} failed: {exc}", file=sys.stderr, flush=True)
            break
        steps.append(step)
        print(table(HEADERS, [row(step, args.p99_ms)]), flush=True)
        if not step.held(args.p99_ms):
            break
    held = [s.n for s in steps if s.held(args.p99_ms)]
    highest = max(held) if held else 0

    compare: list[Step] = []
    skipped: list[str] = []
    at = args.compare_ws_at
    compare_n = highest if at == "auto" else (0 if at == "off" else int(at))
    if compare_n and not failure:
        print(f"\ncomparing uvicorn ws implementations at N={compare_n} ...", flush=True)
        for impl in WS_IMPLS:
            if not ws_available(impl):
                skipped.append(impl)
                continue
            try:
                compare.append(measured_step(compare_n, impl, args))
            except Exception as exc:
                print(f"  {impl} failed: {exc}", file=sys.stderr)
                skipped.append(impl)

    print("\n== chat delivery latency (send -> event at the other side's socket) ==")
    print(table(HEADERS, [row(s, args.p99_ms) for s in steps]))
    noisy = [s.n for s in steps + compare if s.other_cpu_pct > args.noisy_pct]
    if noisy:
        print(
            f"note: other processes on this machine used > {args.noisy_pct:g} % CPU "
            f"during N={noisy} "
            "(see 'other CPU%'); those figures are pessimistic"
        )
    busy = [s.n for s in steps if any(c > 85 for c in s.client_cpu_pct)]
    if busy:
        print(f"note: a client process was CPU-bound (>85 %) at N={busy}; try --workers 2")
    print(f"\nhighest N held at p99 < {args.p99_ms:g} ms with nothing lost: {highest}")
    if compare:
        print(f"\n== uvicorn ws implementations at N={compare_n} ==")
        print(table(HEADERS, [row(s, args.p99_ms) for s in compare]))
    if skipped:
        print(f"not compared (not installed or failed): {', '.join(skipped)}")
    if failure:
        print(f"error: {failure}", file=sys.stderr)

    emit_result(
        BENCH,
        {
            "ok": not failure,
            "error": failure or None,
            "p99_target_ms": args.p99_ms,
            "duration_s": args.duration,
            "rate_hz": args.rate,
            "ws": args.ws,
            "highest_n_held": highest,
            "steps": [{k: v for k, v in asdict(s).items()} for s in steps],
            "ws_compare_n": compare_n or None,
            "ws_compare": [asdict(s) for s in compare],
        },
    )
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
