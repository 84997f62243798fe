"""The load generator of bench/chat_latency.py: one worker process's sockets, senders
and probes, and what it counted (see that file for what is measured)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import ws_client
from _common import raise_nofile
from ws_client import Closed, WsClient

loads: Callable[[str | bytes], Any]
dumps: Callable[[Any], str | bytes]
try:  # faster parsing keeps the load generator from becoming the bottleneck
    import orjson

    loads, dumps = orjson.loads, orjson.dumps
except ImportError:  # pragma: no cover
    loads, dumps = json.loads, json.dumps

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
    overloaded: int = 0  # `overloaded` answers, each resent after its retry_after_ms
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
        self.frames: dict[str, str | bytes] = {}  # client_id -> the chat.send frame, for resends
        self.last_tx: dict[str, int] = {}  # client_id -> time of the latest (re)send ns
        self.overloaded = 0
        self.delivered: set[str] = set()
        self.latencies_ms: list[float] = []
        self.ack_ms: list[float] = []
        self.duplicated = 0
        self.gaps = 0
        self.closed_early = 0
        self.errors: Counter[str] = Counter()

    def delivered_at(self, client_id: str, text: str, now: int) -> None:
        """A message arrived at the other side: its latency from the send time the
        text starts with, or a duplicate."""
        if client_id in self.delivered:
            self.duplicated += 1
            return
        self.delivered.add(client_id)
        self.latencies_ms.append((now - int(text.split(" ", 1)[0])) / 1e6)


class Sock:
    """One client WebSocket (bench/ws_client.py): checks seqs and records deliveries as
    its frames arrive."""

    ws: WsClient  # set by `connect`, once the server switched protocols

    def __init__(self, role: str, stats: Stats) -> None:
        self.role = role
        self.stats = stats
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.last_seq: dict[str, int] = {}  # conversation -> highest seq received
        self.subscribed: set[str] = set()
        self.sub_event = asyncio.Event()
        self.closing = False

    def on_message(self, raw: bytes) -> None:
        now = time.monotonic_ns()
        stats = self.stats
        if raw.startswith(b'{"v":1,"type":"queue.'):
            return  # queue snapshots/positions: not measured, skip the parse
        frame = loads(raw)
        kind = frame["type"]
        if kind == "event":
            self._on_event(frame, now)
        elif kind == "ack":
            fid = frame.get("id")
            sent_at = stats.sent.get(fid) if fid else None
            if sent_at is not None:
                stats.acked.add(fid)
                # of the transmission that was accepted (a resend's own wait shows in
                # the delivery latency, measured from the first send)
                tx = stats.last_tx.get(fid, sent_at)
                stats.ack_ms.append((now - tx) / 1e6)
            else:
                self._answer(frame)
        elif kind == "error":
            fid = frame.get("id")
            if fid and fid in stats.sent and frame.get("code") == "overloaded":
                # as the browser client does: resend after the hint, jittered
                stats.overloaded += 1
                wait = (frame.get("details") or {}).get("retry_after_ms", 500) / 1000
                asyncio.get_running_loop().call_later(
                    wait * (1 + random.random()), self._resend, fid
                )
                return
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

    def on_close(self) -> None:
        if not self.closing:
            self.stats.closed_early += 1
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("socket closed"))

    def _resend(self, client_id: str) -> None:
        if self.closing:
            return
        self.stats.last_tx[client_id] = time.monotonic_ns()
        with contextlib.suppress(Closed):
            self.ws.send_text(self.stats.frames[client_id])

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
        stats.delivered_at(client_id, frame["body"]["text"], now)

    async def request(self, type_: str, timeout: float, **fields: Any) -> dict[str, Any]:
        fid = f"r{random.getrandbits(48):x}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[fid] = fut
        self.ws.send_text(dumps({"v": 1, "type": type_, "id": fid, **fields}))
        return await asyncio.wait_for(fut, timeout)

    async def wait_subscribed(self, cids: set[str], timeout: float) -> None:
        async def wait() -> None:
            while not cids <= self.subscribed:
                self.sub_event.clear()
                await self.sub_event.wait()

        await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        self.closing = True
        await self.ws.close()


async def connect(url: str, role: str, stats: Stats, cookie: str | None = None) -> Sock:
    headers = {"Cookie": f"visavis_session={cookie}"} if cookie else None
    sock = Sock(role, stats)
    sock.ws = await ws_client.connect(url, sock.on_message, sock.on_close, headers)
    return sock


def chat_send(conv: ConvPlan, side: str, client_id: str, text: str) -> dict[str, Any]:
    return {
        "v": 1,
        "type": "chat.send",
        "id": client_id,
        "conversation_id": conv.cid,
        "client_id": client_id,
        "text": text,
    }


def start_sender(
    sock: Any,  # Sock here, PeerSock in bench/peerjs_load.py: .ws and .stats
    conv: ConvPlan,
    side: str,
    worker: int,
    start: float,
    end: float,
    period: float,
    pad: str,
    make_frame: Callable[[ConvPlan, str, str, str], dict[str, Any]] = chat_send,
) -> asyncio.Future[None]:
    """Send one side's messages every `period` from `start` until `end` on loop timers
    (no task per sender); a late timer sends at once and keeps the schedule. The
    future is done after the last one."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    stats = sock.stats
    ws: WsClient = sock.ws
    prefix = f"bm{worker:02d}x{conv.idx:06d}"
    code = SIDE_CODE[side]
    k = 0

    def fire(at: float) -> None:
        nonlocal k
        if at >= end or k >= 1_000_000:
            done.set_result(None)
            return
        client_id = f"{prefix}{code}{k:07d}"  # the side code is client_id[-8]
        now = time.monotonic_ns()
        stats.sent[client_id] = now
        text = dumps(make_frame(conv, side, client_id, f"{now} {pad}"))
        stats.frames[client_id] = text  # resent as it was when refused `overloaded`
        try:
            ws.send_text(text)
        except Closed:
            done.set_result(None)
            return
        k += 1
        loop.call_at(at + period, fire, at + period)

    loop.call_at(start, fire, start)
    return done


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
        tasks: list[asyncio.Future[None]] = []
        customer_of = {c.cid: s for c, s in zip(convs, customer_socks, strict=True)}
        for a, asock in zip(plan.advisers, adviser_socks, strict=True):
            for conv in a.convs:
                for side, sock in ((CUSTOMER, customer_of[conv.cid]), (ADVISER, asock)):
                    start = t0 + rng.random() * period
                    tasks.append(
                        start_sender(sock, conv, side, plan.worker, start, end, period, pad)
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
    result.overloaded = stats.overloaded
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
