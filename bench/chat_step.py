"""One step of bench/chat_latency.py: a fresh server, N conversations, the workers of
chat_load.py sending for --duration seconds, and the figures of the step."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing as mp
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from _common import (
    PASSWORD,
    Groups,
    Server,
    cpu_by_name,
    machine_busy_seconds,
    named_cpu_seconds,
    percentile,
)
from chat_load import AdviserPlan, ConvPlan, WorkerPlan, worker_main


@dataclass
class Step:
    n: int
    ws: str
    workers: int
    sockets: int = 0
    sent: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    gaps: int = 0
    unacked: int = 0
    refused: int = 0
    overloaded: int = 0  # refused as overloaded and resent (not an error: said, not queued)
    closed_early: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    p50_ms: float = math.nan
    p90_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    ack_p50_ms: float = math.nan
    ack_p99_ms: float = math.nan
    msgs_per_s: float = 0.0
    server_cpu_pct: float = 0.0
    # each server process's share (a `--workers` parent and its workers, two nodes),
    # busiest first: one process at its limit while another idles is an uneven split
    server_cpu_by_process_pct: list[float] = field(default_factory=list)
    msgs_per_group: float = math.nan  # chat messages per group commit during the window
    attempts: int = 1  # runs of this step (--repeat-failed)
    server_cpu_ms_per_msg: float = math.nan  # server CPU time per chat message sent
    server_rss_mb: float = 0.0
    client_cpu_pct: list[float] = field(default_factory=list)
    # PostgreSQL's and Redis's processes during the window (0: none ran)
    postgres_cpu_pct: float = 0.0
    redis_cpu_pct: float = 0.0
    other_cpu_pct: float = 0.0  # the rest of the machine (other processes) during the window
    client_loop_lag_p99_ms: float = math.nan
    ping_p50_ms: float = math.nan
    ping_p99_ms: float = math.nan
    create_per_s: float = 0.0
    setup_s: float = 0.0

    def clean(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.gaps
            or self.unacked
            or self.refused
            or self.closed_early
            or self.errors
        )

    def held(self, p99_limit_ms: float) -> bool:
        return self.clean() and self.p99_ms < p99_limit_ms


async def http_setup(
    server: Server, n: int, emails: list[str], concurrency: int
) -> tuple[list[str], list[ConvPlan], float]:
    """Log the advisers in and create n conversations; return cookies, plans, creates/s."""
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=60, limits=limits, trust_env=False
    ) as http:
        cookies = []
        for email in emails:
            r = await http.post("/api/v1/session", json={"email": email, "password": PASSWORD})
            r.raise_for_status()
            cookies.append(r.cookies["visavis_session"])
            http.cookies.clear()
        sem = asyncio.Semaphore(concurrency)

        async def create(i: int) -> ConvPlan:
            async with sem:
                r = await http.post(
                    "/api/v1/conversations",
                    json={"customer_name": f"Bench {i}", "topic": "beratung", "language": "de"},
                )
                if r.status_code != 201:
                    raise RuntimeError(f"create conversation: {r.status_code} {r.text}")
                data = r.json()
                return ConvPlan(i, data["conversation"]["id"], data["token"])

        t = time.monotonic()
        convs = await asyncio.gather(*(create(i) for i in range(n)))
        rate = n / max(1e-9, time.monotonic() - t)
        return cookies, list(convs), rate


# builds the server of a step from (ws implementation or None, environment)
ServerFactory = Callable[[str | None, dict[str, str]], Server]


def _one_server(ws: str | None, env: dict[str, str]) -> Server:
    return Server(ws=ws, env=env, start_timeout_s=120.0)


def run_step(
    n: int, ws: str, args: argparse.Namespace, make_server: ServerFactory = _one_server
) -> Step:
    per_adviser = args.chats_per_adviser
    n_adv = math.ceil(n / per_adviser)
    workers = max(1, min(args.workers, n_adv))
    # An adviser socket sends rate x chats frames/s; the probe socket 20 pings/s more.
    frames_per_s = max(100, int(4 * per_adviser * args.rate))
    env = {
        "VISAVIS_CONVERSATIONS_PER_MINUTE": "1000000",
        "VISAVIS_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
        "VISAVIS_WS_FRAMES_PER_SECOND": str(frames_per_s),
        "VISAVIS_WS_FRAME_BURST": str(max(40, 2 * frames_per_s)),
        "VISAVIS_LOG_LEVEL": args.log_level,
    }
    step = Step(n=n, ws=ws, workers=workers)
    impl = None if ws == "default" else ws
    with make_server(impl, env) as server:
        t_setup = time.monotonic()
        # unique per step: on PostgreSQL (VISAVIS_DATABASE_URL) every step shares one
        # database, and the advisers of the step before are still there
        run = secrets.token_hex(3)
        emails = [f"bench{i}.{run}@bench.example" for i in range(n_adv)]
        server.add_advisers([(e, PASSWORD, f"A{i}", per_adviser) for i, e in enumerate(emails)])
        cookies, convs, step.create_per_s = asyncio.run(http_setup(server, n, emails, 16))
        advisers = [
            AdviserPlan(e, c, convs[i * per_adviser : (i + 1) * per_adviser])
            for i, (e, c) in enumerate(zip(emails, cookies, strict=True))
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
        if not server.alive():
            raise RuntimeError(f"N={n} ({ws}): the server died")
    return step


class Metered(Protocol):
    """What a step measures of the server: CPU and memory of all its processes (a
    `--workers` parent with its workers, two nodes behind nginx: their sum)."""

    def cpu_seconds(self) -> float: ...

    def cpu_by_process(self) -> dict[int, float]: ...

    def chat_groups(self) -> Groups | None:
        """The group commits so far, or None: it stores nothing"""

    def rss(self) -> int: ...


def run_workers(
    step: Step,
    plans: list[WorkerPlan],
    target: Any,
    server: Metered,
    args: argparse.Namespace,
) -> None:
    """Run the load generator processes (`target(plan, barrier, out)` each, as
    chat_load.worker_main) against a started server; fill in the step's figures."""
    n, ws, workers = step.n, step.ws, len(plans)
    server_cpu_s = server.cpu_seconds

    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers + 1)
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(p, barrier, out)) for p in plans]
    for p in procs:
        p.start()
    results: list[dict[str, Any]] = []
    t_setup = time.monotonic()
    try:
        try:
            barrier.wait(args.setup_timeout + 30)
        except threading.BrokenBarrierError:
            pass  # a worker failed in setup; its result says why
        step.setup_s += time.monotonic() - t_setup
        by0, groups0 = server.cpu_by_process(), server.chat_groups()
        named0 = named_cpu_seconds()
        cpu0, busy0, t0 = server_cpu_s(), machine_busy_seconds(), time.monotonic()
        if not barrier.broken:
            time.sleep(args.duration)
        window = max(1e-9, time.monotonic() - t0)
        server_cpu = server_cpu_s() - cpu0
        machine_busy = machine_busy_seconds() - busy0
        named = cpu_by_name(named0, named_cpu_seconds())
        step.server_cpu_pct = 100 * server_cpu / window
        by1, groups1 = server.cpu_by_process(), server.chat_groups()
        if groups0 is not None and groups1 is not None and groups1.commits > groups0.commits:
            step.msgs_per_group = (groups1.messages - groups0.messages) / (
                groups1.commits - groups0.commits
            )
        step.server_cpu_by_process_pct = sorted(
            (100 * (by1[pid] - by0[pid]) / window for pid in by1.keys() & by0.keys()),
            reverse=True,
        )
        step.server_rss_mb = server.rss() / 2**20
        deadline = time.monotonic() + args.drain + args.setup_timeout + 60
        while len(results) < workers and time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                results.append(out.get(timeout=1))
            if all(not p.is_alive() for p in procs) and out.empty():
                break
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()
    bad = [r for r in results if not r["ok"]]
    if bad or len(results) < workers:
        msg = "; ".join(r["error"] for r in bad) or f"{len(results)}/{workers} workers reported"
        raise RuntimeError(f"N={n} ({ws}): {msg}")

    lat = sorted(x for r in results for x in r["latencies_ms"])
    ack = sorted(x for r in results for x in r["ack_ms"])
    lag = sorted(x for r in results for x in r["loop_lag_ms"])
    ping = sorted(x for r in results for x in r["ping_ms"])
    step.ping_p50_ms, step.ping_p99_ms = percentile(ping, 50), percentile(ping, 99)
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r["errors"])
        for key in (
            "sent",
            "delivered",
            "lost",
            "duplicated",
            "gaps",
            "unacked",
            "refused",
            "overloaded",
        ):
            setattr(step, key, getattr(step, key) + r[key])
        step.closed_early += r["closed_early"]
        step.sockets += r["sockets"]
        step.client_cpu_pct.append(100 * r["cpu_s"] / max(1e-9, r["window_s"]))
    client_cpu = sum(r["cpu_s"] for r in results)
    postgres_cpu, redis_cpu = named.get("postgres", 0.0), named.get("redis-server", 0.0)
    step.postgres_cpu_pct = 100 * postgres_cpu / window
    step.redis_cpu_pct = 100 * redis_cpu / window
    rest = machine_busy - server_cpu - client_cpu - postgres_cpu - redis_cpu
    step.other_cpu_pct = max(0.0, 100 * rest / window)
    step.errors = dict(errors)
    step.p50_ms, step.p90_ms = percentile(lat, 50), percentile(lat, 90)
    step.p99_ms, step.max_ms = percentile(lat, 99), (lat[-1] if lat else math.nan)
    step.ack_p50_ms, step.ack_p99_ms = percentile(ack, 50), percentile(ack, 99)
    step.client_loop_lag_p99_ms = percentile(lag, 99)
    step.msgs_per_s = step.sent / args.duration
    if step.sent:
        step.server_cpu_ms_per_msg = step.server_cpu_pct / 100 * args.duration * 1000 / step.sent


def measured_step(
    n: int, ws: str, args: argparse.Namespace, make_server: ServerFactory = _one_server
) -> Step:
    """run_step, repeated (up to --retries times) while other processes load the machine,
    the quietest attempt kept; then, while it misses the p99 target, up to
    --repeat-failed times more, the best kept (one that held, else the lowest p99)."""
    best: Step | None = None
    for attempt in range(args.retries + 1):
        step = run_step(n, ws, args, make_server)
        if best is None or step.other_cpu_pct < best.other_cpu_pct:
            best = step
        if step.other_cpu_pct <= args.noisy_pct or attempt == args.retries:
            break
        print(
            f"  N={n} ({ws}): other processes used {step.other_cpu_pct:.0f} % CPU "
            f"(p99 {step.p99_ms:.0f} ms); repeating in {args.retry_wait:g} s",
            flush=True,
        )
        time.sleep(args.retry_wait)
    assert best is not None
    runs = 1
    for _ in range(args.repeat_failed):
        if best.held(args.p99_ms):
            break
        print(f"  N={n} ({ws}): p99 {best.p99_ms:.1f} ms missed the target; once more", flush=True)
        step = run_step(n, ws, args, make_server)
        runs += 1
        if step.held(args.p99_ms) or step.p99_ms < best.p99_ms:
            best = step
    best.attempts = runs
    return best
