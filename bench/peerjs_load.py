"""The load generator of bench/vs_peerjs.py against a PeerJS server (npm `peer`): the
pairs, pacing and counting of chat_load.py, over PeerJS's relay instead of visavis.

A PeerJS client opens `/peerjs?key=…&id=…&token=…`, gets `{"type": "OPEN"}`, and
sends `{"type": "CANDIDATE", "dst": ID, "payload": …}`; the server relays it to the
socket of that id with `src` set, and stores nothing (a message to an absent id waits
in memory for a few seconds, then is dropped). The "adviser" peer talks to
`--chats-per-adviser` customers over one socket, as the visavis adviser does; the
payload has the same text (send time + padding) and the conversation id.
For a PeerJS plan, ConvPlan.cid is the customer's peer id and ConvPlan.token the
adviser's.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
import traceback
from dataclasses import asdict
from typing import Any

import ws_client
from _common import raise_nofile
from chat_load import (
    ADVISER,
    CUSTOMER,
    AdviserPlan,
    ConvPlan,
    Stats,
    WorkerPlan,
    WorkerResult,
    loads,
    loop_lag,
    start_sender,
)
from ws_client import WsClient

KEY = "peerjs"


def candidate(conv: ConvPlan, side: str, client_id: str, text: str) -> dict[str, Any]:
    dst = conv.token if side == CUSTOMER else conv.cid
    payload = {"conversation_id": conv.cid, "client_id": client_id, "text": text}
    return {"type": "CANDIDATE", "dst": dst, "payload": payload}


class PeerSock:
    """One PeerJS client socket (bench/ws_client.py); records what the other side sent."""

    ws: WsClient  # set by `connect`, once the server switched protocols

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.opened = asyncio.Event()
        self.closing = False

    def on_message(self, raw: bytes) -> None:
        now = time.monotonic_ns()
        stats = self.stats
        frame = loads(raw)
        kind = frame.get("type")
        if kind == "CANDIDATE":
            payload = frame["payload"]
            stats.delivered_at(payload["client_id"], payload["text"], now)
        elif kind == "OPEN":
            self.opened.set()
        else:  # ERROR, ID-TAKEN, EXPIRE, LEAVE: the relay failed
            stats.errors[str(kind)] += 1

    def on_close(self) -> None:
        if not self.closing:
            self.stats.closed_early += 1

    async def close(self) -> None:
        self.closing = True
        await self.ws.close()


async def connect(base_ws: str, peer_id: str, stats: Stats, timeout: float) -> PeerSock:
    url = f"{base_ws}/peerjs?key={KEY}&id={peer_id}&token={secrets.token_hex(6)}"
    sock = PeerSock(stats)
    sock.ws = await ws_client.connect(url, sock.on_message, sock.on_close)
    await asyncio.wait_for(sock.opened.wait(), timeout)
    return sock


async def run_worker(plan: WorkerPlan, barrier: Any) -> WorkerResult:
    rng = random.Random(plan.seed)
    stats = Stats()
    result = WorkerResult(worker=plan.worker)
    socks: list[PeerSock] = []
    sem = asyncio.Semaphore(plan.connect_concurrency)
    t_setup = time.monotonic()

    async def up(peer_id: str) -> PeerSock:
        async with sem:
            sock = await connect(plan.ws_url, peer_id, stats, plan.setup_timeout_s)
            socks.append(sock)
            return sock

    try:
        adviser_socks = await asyncio.gather(*(up(a.email) for a in plan.advisers))
        convs = [c for a in plan.advisers for c in a.convs]
        customer_socks = await asyncio.gather(*(up(c.cid) for c in convs))
        result.setup_s = time.monotonic() - t_setup
        result.sockets = len(socks)
        result.conversations = len(convs)

        await asyncio.to_thread(barrier.wait, plan.setup_timeout_s)
        loop = asyncio.get_running_loop()
        period = 1.0 / plan.rate_hz
        t0 = loop.time()
        end = t0 + plan.duration_s
        cpu0 = time.process_time()
        pad = "x" * max(0, plan.text_chars - 20)
        stop_lag = asyncio.Event()
        lag_task = loop.create_task(loop_lag(stop_lag, result.loop_lag_ms))
        customer_of = {c.cid: s for c, s in zip(convs, customer_socks, strict=True)}
        tasks: list[asyncio.Future[None]] = []
        for a, asock in zip(plan.advisers, adviser_socks, strict=True):
            for conv in a.convs:
                for side, sock in ((CUSTOMER, customer_of[conv.cid]), (ADVISER, asock)):
                    start = t0 + rng.random() * period
                    tasks.append(
                        start_sender(
                            sock, conv, side, plan.worker, start, end, period, pad, candidate
                        )
                    )
        await asyncio.gather(*tasks)
        result.cpu_s = time.process_time() - cpu0
        result.window_s = loop.time() - t0
        stop_lag.set()
        await lag_task

        drain_end = loop.time() + plan.drain_s
        while loop.time() < drain_end:
            if len(stats.delivered) >= len(stats.sent):
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
    result.sent = len(stats.sent)
    result.acked = 0  # PeerJS acknowledges nothing
    result.delivered = len(stats.delivered)
    result.lost = len(set(stats.sent) - stats.delivered)
    result.duplicated = stats.duplicated
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


__all__ = ["AdviserPlan", "ConvPlan", "WorkerPlan", "worker_main"]
