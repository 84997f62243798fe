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
apart from the database), and the CPU of the server, of the load generator and of
all other processes on the machine (a shared machine distorts the figures; noisy
steps are repeated, see `--retries`, and `--nice -5` helps).

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
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import random
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import websockets
from _common import (
    PASSWORD,
    WS_IMPLS,
    Server,
    emit_result,
    exit_on_sigterm,
    machine_busy_seconds,
    percentile,
    raise_nofile,
    table,
)
from websockets.asyncio.client import ClientConnection

loads: Callable[[str | bytes], Any]
try:  # faster parsing keeps the load generator from becoming the bottleneck
    import orjson

    loads = orjson.loads
except ImportError:  # pragma: no cover
    loads = json.loads

BENCH = "chat_latency"
CUSTOMER, ADVISER = "customer", "adviser"
SIDE_CODE = {CUSTOMER: "c", ADVISER: "a"}
CODE_SIDE = {"c": CUSTOMER, "a": ADVISER}


# ---------------------------------------------------------------- plans and results
@dataclass
class ConvPlan:
    idx: int
    cid: str
    token: str


@dataclass
class AdviserPlan:
    email: str
    cookie: str
    convs: list[ConvPlan]


@dataclass
class WorkerPlan:
    worker: int
    ws_url: str
    advisers: list[AdviserPlan]
    duration_s: float
    drain_s: float
    rate_hz: float
    text_chars: int
    seed: int
    setup_timeout_s: float
    connect_concurrency: int


@dataclass
class WorkerResult:
    worker: int
    ok: bool = True
    error: str = ""
    sockets: int = 0
    conversations: int = 0
    setup_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    ack_ms: list[float] = field(default_factory=list)
    loop_lag_ms: list[float] = field(default_factory=list)
    ping_ms: list[float] = field(default_factory=list)  # app-level ping RTT, one socket
    sent: int = 0
    acked: int = 0
    refused: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    gaps: int = 0
    unacked: int = 0
    closed_early: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    cpu_s: float = 0.0  # during the sending window
    window_s: float = 0.0


# ---------------------------------------------------------------- the load generator
class Stats:
    def __init__(self) -> None:
        self.sent: dict[str, int] = {}  # client_id -> send time ns
        self.acked: set[str] = set()
        self.refused: set[str] = set()
        self.delivered: set[str] = set()
        self.latencies_ms: list[float] = []
        self.ack_ms: list[float] = []
        self.duplicated = 0
        self.gaps = 0
        self.closed_early = 0
        self.errors: Counter[str] = Counter()


class Sock:
    """One client WebSocket: a reader task that checks seqs and records deliveries."""

    def __init__(self, ws: ClientConnection, role: str, stats: Stats) -> None:
        self.ws = ws
        self.role = role
        self.stats = stats
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.last_seq: dict[str, int] = {}  # conversation -> highest seq received
        self.subscribed: set[str] = set()
        self.sub_event = asyncio.Event()
        self.closing = False
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        stats = self.stats
        try:
            async for raw in self.ws:
                now = time.monotonic_ns()
                if isinstance(raw, str) and raw.startswith('{"v":1,"type":"queue.'):
                    continue  # queue snapshots/positions: not measured, skip the parse
                frame = loads(raw)
                kind = frame["type"]
                if kind == "event":
                    self._on_event(frame, now)
                elif kind == "ack":
                    fid = frame.get("id")
                    sent_at = stats.sent.get(fid) if fid else None
                    if sent_at is not None:
                        stats.acked.add(fid)
                        stats.ack_ms.append((now - sent_at) / 1e6)
                    else:
                        self._answer(frame)
                elif kind == "error":
                    fid = frame.get("id")
                    stats.errors[frame.get("code", "?")] += 1
                    if fid and fid in stats.sent:
                        stats.refused.add(fid)
                    else:
                        self._answer(frame)
                elif kind == "subscribed":
                    self.subscribed.add(frame["conversation"]["id"])
                    self.sub_event.set()
                    self._answer(frame)
                else:
                    self._answer(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closing:
                stats.closed_early += 1
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("socket closed"))

    def _answer(self, frame: dict[str, Any]) -> None:
        fid = frame.get("id")
        if fid is not None:
            fut = self.pending.pop(fid, None)
            if fut is not None and not fut.done():
                fut.set_result(frame)

    def _on_event(self, frame: dict[str, Any], now: int) -> None:
        stats = self.stats
        cid = frame["conversation_id"]
        seq = frame["seq"]
        last = self.last_seq.get(cid, 0)
        if seq <= last:
            stats.duplicated += 1
            return
        if seq != last + 1:
            stats.gaps += 1
        self.last_seq[cid] = seq
        if frame["kind"] != "chat.message":
            return
        client_id = frame.get("client_id") or ""
        if client_id not in stats.sent or CODE_SIDE[client_id[-8]] == self.role:
            return  # not ours, or the sender's own echo
        if client_id in stats.delivered:
            stats.duplicated += 1
            return
        stats.delivered.add(client_id)
        sent_ns = int(frame["body"]["text"].split(" ", 1)[0])
        stats.latencies_ms.append((now - sent_ns) / 1e6)

    async def request(self, type_: str, timeout: float, **fields: Any) -> dict[str, Any]:
        fid = f"r{random.getrandbits(48):x}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[fid] = fut
        await self.ws.send(json.dumps({"v": 1, "type": type_, "id": fid, **fields}))
        return await asyncio.wait_for(fut, timeout)

    async def wait_subscribed(self, cids: set[str], timeout: float) -> None:
        async def wait() -> None:
            while not cids <= self.subscribed:
                self.sub_event.clear()
                await self.sub_event.wait()

        await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 5)
        self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)


async def connect(url: str, role: str, stats: Stats, cookie: str | None = None) -> Sock:
    headers = {"Cookie": f"visavis_session={cookie}"} if cookie else None
    ws = await websockets.connect(
        url,
        additional_headers=headers,
        compression=None,  # the server has per-message deflate off
        ping_interval=None,  # browsers send no protocol pings; the app pings
        max_size=2**24,
        open_timeout=30,
        proxy=None,
    )
    return Sock(ws, role, stats)


async def sender(
    sock: Sock,
    conv: ConvPlan,
    side: str,
    worker: int,
    start: float,
    end: float,
    period: float,
    pad: str,
) -> None:
    loop = asyncio.get_running_loop()
    stats = sock.stats
    k = 0
    at = start
    prefix = f"bm{worker:02d}x{conv.idx:06d}"
    code = SIDE_CODE[side]
    while at < end and k < 1_000_000:
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        client_id = f"{prefix}{code}{k:07d}"  # the side code is client_id[-8]
        now = time.monotonic_ns()
        stats.sent[client_id] = now
        frame = {
            "v": 1,
            "type": "chat.send",
            "id": client_id,
            "conversation_id": conv.cid,
            "client_id": client_id,
            "text": f"{now} {pad}",
        }
        try:
            await sock.ws.send(json.dumps(frame))
        except websockets.ConnectionClosed:
            return
        k += 1
        at += period


async def loop_lag(stop: asyncio.Event, out: list[float], every_s: float = 0.05) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(every_s)
        out.append((loop.time() - t - every_s) * 1000)


async def ping_probe(sock: Sock, end: float, out: list[float], every_s: float = 0.05) -> None:
    """Server responsiveness apart from the database: `ping` -> `pong` round trips."""
    loop = asyncio.get_running_loop()
    for _ in range(100_000):
        if loop.time() >= end:
            return
        t = time.monotonic_ns()
        try:
            await sock.request("ping", 10.0)
        except Exception:
            return
        out.append((time.monotonic_ns() - t) / 1e6)
        await asyncio.sleep(every_s)


async def run_worker(plan: WorkerPlan, barrier: Any) -> WorkerResult:
    rng = random.Random(plan.seed)
    stats = Stats()
    result = WorkerResult(worker=plan.worker)
    socks: list[Sock] = []
    sem = asyncio.Semaphore(plan.connect_concurrency)
    t_setup = time.monotonic()
    timeout = plan.setup_timeout_s

    async def adviser_up(a: AdviserPlan) -> Sock:
        async with sem:
            sock = await connect(plan.ws_url, ADVISER, stats, a.cookie)
            socks.append(sock)
            welcome = await sock.request("hello", timeout)
            if welcome["type"] != "welcome":
                raise RuntimeError(f"adviser hello refused: {welcome}")
        for conv in a.convs:  # one at a time per adviser, advisers in parallel
            ans = await sock.request("conversation.accept", timeout, conversation_id=conv.cid)
            if ans["type"] != "ack":
                raise RuntimeError(f"accept refused: {ans}")
        await sock.wait_subscribed({c.cid for c in a.convs}, timeout)
        return sock

    async def customer_up(conv: ConvPlan) -> Sock:
        async with sem:
            sock = await connect(plan.ws_url, CUSTOMER, stats)
            socks.append(sock)
            welcome = await sock.request("hello", timeout, token=conv.token)
            if welcome["type"] != "welcome":
                raise RuntimeError(f"customer hello refused: {welcome}")
            sub = await sock.request("subscribe", timeout, conversation_id=conv.cid, after_seq=0)
            if sub["type"] != "subscribed":
                raise RuntimeError(f"subscribe refused: {sub}")
            return sock

    try:
        adviser_socks = await asyncio.gather(*(adviser_up(a) for a in plan.advisers))
        convs = [c for a in plan.advisers for c in a.convs]
        customer_socks = await asyncio.gather(*(customer_up(c) for c in convs))
        result.setup_s = time.monotonic() - t_setup
        result.sockets = len(socks)
        result.conversations = len(convs)

        # All workers start sending together.
        await asyncio.to_thread(barrier.wait, timeout)
        loop = asyncio.get_running_loop()
        period = 1.0 / plan.rate_hz
        t0 = loop.time()
        end = t0 + plan.duration_s
        cpu0 = time.process_time()
        pad = "x" * max(0, plan.text_chars - 20)
        stop_lag = asyncio.Event()
        lag_task = loop.create_task(loop_lag(stop_lag, result.loop_lag_ms))
        tasks = []
        customer_of = {c.cid: s for c, s in zip(convs, customer_socks, strict=True)}
        for a, asock in zip(plan.advisers, adviser_socks, strict=True):
            for conv in a.convs:
                for side, sock in ((CUSTOMER, customer_of[conv.cid]), (ADVISER, asock)):
                    start = t0 + rng.random() * period
                    tasks.append(
                        loop.create_task(
                            sender(sock, conv, side, plan.worker, start, end, period, pad)
                        )
                    )
        if plan.worker == 0 and customer_socks:
            tasks.append(loop.create_task(ping_probe(customer_socks[0], end, result.ping_ms)))
        await asyncio.gather(*tasks)
        result.cpu_s = time.process_time() - cpu0
        result.window_s = loop.time() - t0
        stop_lag.set()
        await lag_task

        # Drain: wait until every acked message arrived on the other side.
        drain_end = loop.time() + plan.drain_s
        while loop.time() < drain_end:
            answered = len(stats.acked) + len(stats.refused)
            if answered >= len(stats.sent) and stats.acked <= stats.delivered:
                break
            await asyncio.sleep(0.05)
    except Exception as exc:
        with contextlib.suppress(Exception):
            barrier.abort()
        result.ok = False
        result.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    finally:
        await asyncio.gather(*(s.close() for s in socks), return_exceptions=True)

    result.latencies_ms = stats.latencies_ms
    result.ack_ms = stats.ack_ms
    result.sent = len(stats.sent)
    result.acked = len(stats.acked)
    result.refused = len(stats.refused)
    result.delivered = len(stats.delivered)
    result.lost = len(stats.acked - stats.delivered)
    result.unacked = len(stats.sent) - len(stats.acked | stats.refused)
    result.duplicated = stats.duplicated
    result.gaps = stats.gaps
    result.closed_early = stats.closed_early
    result.errors = dict(stats.errors)
    return result


def worker_main(plan: WorkerPlan, barrier: Any, out: Any) -> None:
    raise_nofile(65536)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    try:
        result = asyncio.run(run_worker(plan, barrier))
    except BaseException as exc:  # report, never hang the parent
        with contextlib.suppress(Exception):
            barrier.abort()
        result = WorkerResult(worker=plan.worker, ok=False, error=f"{type(exc).__name__}: {exc}")
    out.put(asdict(result))


# ---------------------------------------------------------------- one step
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
    server_cpu_ms_per_msg: float = math.nan  # server CPU time per chat message sent
    server_rss_mb: float = 0.0
    client_cpu_pct: list[float] = field(default_factory=list)
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


def run_step(n: int, ws: str, args: argparse.Namespace) -> Step:
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
    with Server(ws=impl, env=env) as server:
        t_setup = time.monotonic()
        emails = [f"bench{i}@bench.example" for i in range(n_adv)]
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
        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(workers + 1)
        out = ctx.Queue()
        procs = [ctx.Process(target=worker_main, args=(p, barrier, out)) for p in plans]
        for p in procs:
            p.start()
        results: list[dict[str, Any]] = []
        try:
            try:
                barrier.wait(args.setup_timeout + 30)
            except threading.BrokenBarrierError:
                pass  # a worker failed in setup; its result says why
            step.setup_s = time.monotonic() - t_setup
            cpu0, busy0, t0 = server.cpu_seconds(), machine_busy_seconds(), time.monotonic()
            if not barrier.broken:
                time.sleep(args.duration)
            window = max(1e-9, time.monotonic() - t0)
            server_cpu = server.cpu_seconds() - cpu0
            machine_busy = machine_busy_seconds() - busy0
            step.server_cpu_pct = 100 * server_cpu / window
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
        if not server.alive():
            raise RuntimeError(f"N={n} ({ws}): the server died")

    lat = sorted(x for r in results for x in r["latencies_ms"])
    ack = sorted(x for r in results for x in r["ack_ms"])
    lag = sorted(x for r in results for x in r["loop_lag_ms"])
    ping = sorted(x for r in results for x in r["ping_ms"])
    step.ping_p50_ms, step.ping_p99_ms = percentile(ping, 50), percentile(ping, 99)
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r["errors"])
        for key in ("sent", "delivered", "lost", "duplicated", "gaps", "unacked", "refused"):
            setattr(step, key, getattr(step, key) + r[key])
        step.closed_early += r["closed_early"]
        step.sockets += r["sockets"]
        step.client_cpu_pct.append(100 * r["cpu_s"] / max(1e-9, r["window_s"]))
    client_cpu = sum(r["cpu_s"] for r in results)
    step.other_cpu_pct = max(0.0, 100 * (machine_busy - server_cpu - client_cpu) / window)
    step.errors = dict(errors)
    step.p50_ms, step.p90_ms = percentile(lat, 50), percentile(lat, 90)
    step.p99_ms, step.max_ms = percentile(lat, 99), (lat[-1] if lat else math.nan)
    step.ack_p50_ms, step.ack_p99_ms = percentile(ack, 50), percentile(ack, 99)
    step.client_loop_lag_p99_ms = percentile(lag, 99)
    step.msgs_per_s = step.sent / args.duration
    if step.sent:
        step.server_cpu_ms_per_msg = step.server_cpu_pct / 100 * args.duration * 1000 / step.sent
    return step


def measured_step(n: int, ws: str, args: argparse.Namespace) -> Step:
    """run_step, repeated (up to --retries times) while other processes load the machine;
    the quietest attempt is kept."""
    best: Step | None = None
    for attempt in range(args.retries + 1):
        step = run_step(n, ws, args)
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
    return best


# ---------------------------------------------------------------- output
HEADERS = [
    "N", "ws", "sockets", "msg/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "ack p99", "ping p99",
    "lost", "dup", "gaps", "unacked", "errors", "srv CPU%", "srv ms/msg", "srv RSS MB",
    "client CPU%", "other CPU%", "loop lag p99", "held",
]  # fmt: skip


def row(s: Step, p99_limit: float) -> list[Any]:
    return [
        s.n, s.ws, s.sockets, round(s.msgs_per_s), s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms,
        s.ack_p99_ms, s.ping_p99_ms, s.lost, s.duplicated, s.gaps, s.unacked,
        ",".join(f"{k}:{v}" for k, v in s.errors.items()) or "0",
        round(s.server_cpu_pct), s.server_cpu_ms_per_msg, round(s.server_rss_mb),
        "/".join(str(round(c)) for c in s.client_cpu_pct), round(s.other_cpu_pct),
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
    args = p.parse_args(argv)
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
