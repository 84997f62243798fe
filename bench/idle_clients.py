"""The clients of bench/idle_sockets.py: idle sockets that count what the server sends
them and keep themselves alive with the app's ping, and the advisers who accept."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from _common import PASSWORD, Server
from websockets.asyncio.client import ClientConnection

QUEUE_POSITION = '{"v":1,"type":"queue.position"'
QUEUE_SNAPSHOT = '{"v":1,"type":"queue.snapshot"'


@dataclass
class Counts:
    queue_position: int = 0
    queue_snapshot: int = 0
    other_frames: int = 0  # all but pong
    closed: int = 0
    keepalive_pings: int = 0
    close_codes: Counter[int] = field(default_factory=Counter)


class IdleSock:
    def __init__(self, ws: ClientConnection, counts: Counts) -> None:
        self.ws = ws
        self.counts = counts
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.heartbeat_s = 25.0
        self.conversation = ("", "")  # (id, token) of a customer socket, to come back
        self.last_seq = 0  # the highest event seq it got, as the web client keeps it
        self.closing = False
        self.n = 0
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                if isinstance(raw, str) and raw.startswith(QUEUE_POSITION):
                    self.counts.queue_position += 1
                    continue
                if isinstance(raw, str) and raw.startswith(QUEUE_SNAPSHOT):
                    self.counts.queue_snapshot += 1
                    continue
                frame = json.loads(raw)
                if frame["type"] != "pong":
                    self.counts.other_frames += 1
                if frame["type"] == "event" and frame["seq"] > self.last_seq:
                    self.last_seq = frame["seq"]
                fut = self.pending.pop(frame.get("id") or "", None)
                if fut is not None and not fut.done():
                    fut.set_result(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closing:
                self.counts.closed += 1
                self.counts.close_codes[self.ws.close_code or 1006] += 1
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("socket closed"))

    async def request(self, type_: str, timeout: float, **fields: Any) -> dict[str, Any]:
        self.n += 1
        fid = f"i{self.n}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[fid] = fut
        await self.ws.send(json.dumps({"v": 1, "type": type_, "id": fid, **fields}))
        return await asyncio.wait_for(fut, timeout)

    async def close(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 10)
        self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)


async def create_conversations(server: Server, n: int, concurrency: int) -> list[tuple[str, str]]:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=60, limits=limits, trust_env=False
    ) as http:
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> tuple[str, str]:
            async with sem:
                r = await http.post("/api/v1/conversations", json={"customer_name": f"Idle {i}"})
                if r.status_code != 201:
                    raise RuntimeError(f"create conversation: {r.status_code} {r.text}")
                data = r.json()
                return data["conversation"]["id"], data["token"]

        return list(await asyncio.gather(*(one(i) for i in range(n))))


async def advisers_accept(
    server: Server, convs: list[tuple[str, str]], args: argparse.Namespace, counts: Counts
) -> list[IdleSock]:
    """Add advisers, log them in, open their sockets and accept every conversation."""
    per = args.chats_per_adviser
    n_adv = -(-len(convs) // per)
    emails = [f"idle{i}@bench.example" for i in range(n_adv)]
    await asyncio.to_thread(
        server.add_advisers, [(e, PASSWORD, f"A{i}", per) for i, e in enumerate(emails)]
    )
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, trust_env=False) as http:
        cookies = []
        for email in emails:
            r = await http.post("/api/v1/session", json={"email": email, "password": PASSWORD})
            r.raise_for_status()
            cookies.append(r.cookies["visavis_session"])
            http.cookies.clear()

    async def one(i: int) -> IdleSock:
        ws = await websockets.connect(
            server.ws_url,
            additional_headers={"Cookie": f"visavis_session={cookies[i]}"},
            compression=None,
            ping_interval=None,
            max_size=2**24,
            open_timeout=args.timeout,
            proxy=None,
        )
        sock = IdleSock(ws, counts)
        welcome = await sock.request("hello", args.timeout)
        if welcome["type"] != "welcome":
            raise RuntimeError(f"adviser hello refused: {welcome}")
        sock.heartbeat_s = float(welcome["heartbeat_s"])
        for cid, _token in convs[i * per : (i + 1) * per]:
            ans = await sock.request("conversation.accept", args.timeout, conversation_id=cid)
            if ans["type"] != "ack":
                raise RuntimeError(f"accept refused: {ans}")
        return sock

    return list(await asyncio.gather(*(one(i) for i in range(n_adv))))


async def open_socket(
    url: str, cid: str, token: str, state: str, counts: Counts, timeout: float
) -> IdleSock:
    ws = await websockets.connect(
        url, compression=None, ping_interval=None, max_size=2**20, open_timeout=timeout, proxy=None
    )
    sock = IdleSock(ws, counts)
    try:
        welcome = await sock.request("hello", timeout, token=token)
        if welcome["type"] != "welcome":
            raise RuntimeError(f"hello refused: {welcome}")
        sock.heartbeat_s = float(welcome["heartbeat_s"])
        if state == "ended" and welcome["conversation"]["status"] != "ended":
            ack = await sock.request("conversation.end", timeout, conversation_id=cid)
            if ack["type"] != "ack" and ack.get("code") != "invalid_state":
                raise RuntimeError(f"end refused: {ack}")
        sub = await sock.request("subscribe", timeout, conversation_id=cid, after_seq=0)
        if sub["type"] != "subscribed":
            raise RuntimeError(f"subscribe refused: {sub}")
    except BaseException:
        await sock.close()
        raise
    return sock


async def keepalive(sock: IdleSock, stop: asyncio.Event, rng: random.Random) -> None:
    """From the moment the socket is open until `stop`: ping every heartbeat_s +- 20 %."""
    delay = rng.uniform(0.3, 1.0) * sock.heartbeat_s
    for _ in range(10_000):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
            return
        if sock.ws.close_code is not None:
            return
        with contextlib.suppress(Exception):
            await sock.ws.send(json.dumps({"v": 1, "type": "ping"}))
            sock.counts.keepalive_pings += 1
        delay = rng.uniform(0.8, 1.2) * sock.heartbeat_s


async def wait_quiet(counts: Counts, quiet_s: float, max_s: float) -> float:
    """Wait until no frame arrived for quiet_s (bounded by max_s); return seconds waited."""
    t0 = time.monotonic()
    last = -1
    last_change = t0
    while time.monotonic() - t0 < max_s:
        now_total = counts.queue_position + counts.queue_snapshot + counts.other_frames
        if now_total != last:
            last, last_change = now_total, time.monotonic()
        elif time.monotonic() - last_change >= quiet_s:
            break
        await asyncio.sleep(0.2)
    return time.monotonic() - t0
