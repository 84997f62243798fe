"""A chaos run's client (tests/chaos_run.py): one resilient socket, a customer's (one
conversation) or an adviser's (several), behaving as docs/protocol.md asks of one: it
reconnects, says `hello`, re-subscribes with the highest seq it has and resends, in
order, every message it got no `ack` for, with the same `client_id`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

# Unacked chat messages a client has on one socket at a time.
WINDOW = 20


@dataclass
class Message:
    conv: str
    client_id: str
    frame: str
    created_ns: int
    sent: bool = False  # sent on some socket before (a later send is a resend)


class Client:
    """One resilient socket: a customer (one conversation) or an adviser (several)."""

    def __init__(
        self, name: str, ws_url: str, convs: list[str], *, token: str = "", cookie: str = ""
    ) -> None:
        self.name = name
        self.ws_url = ws_url
        self.convs = convs
        self.token = token
        self.cookie = cookie
        self.ws: ClientConnection | None = None
        self.wake = asyncio.Event()  # something to send, or an ack made room
        self.unacked: dict[str, Message] = {}  # in send order
        self.written: dict[str, list[str]] = {c: [] for c in convs}  # client_ids in send order
        self.seqs: dict[str, list[int]] = {c: [] for c in convs}  # every seq received
        self.acked_ns: list[float] = []
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.refused: Counter[str] = Counter()
        self.doubles = 0
        self.reconnects = -1  # the first connect is not a reconnect
        self.resends = 0
        self.counter = 0
        self.record: list[dict[str, Any]] | None = None  # every event, for check_logs
        self.up = asyncio.Event()  # set while connected and subscribed
        self.sessions = 0  # times connected and subscribed

    def last_seq(self, conv: str) -> int:
        seen = self.seqs[conv]
        return seen[-1] if seen else 0  # appended only in increasing order

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, and reconnect after every loss, until `stop`."""
        backoff = 0.05
        while not stop.is_set():
            self.reconnects += 1
            try:
                await self._session()
                backoff = 0.05
            except (OSError, TimeoutError, websockets.WebSocketException, ConnectionError):
                # A cancellation that a timeout inside turned into TimeoutError is
                # still one: this task must end, not reconnect forever.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from None
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(1.0, backoff * 2)

    async def _session(self) -> None:
        headers = {"Cookie": f"visavis_session={self.cookie}"} if self.cookie else None
        ws = await websockets.connect(
            self.ws_url,
            additional_headers=headers,
            compression=None,
            ping_interval=None,
            open_timeout=10,
            proxy=None,
        )
        reader = asyncio.get_running_loop().create_task(self.read_frames(ws))
        try:
            hello = {"token": self.token} if self.token else {}
            welcome = await self.request(ws, "hello", **hello)
            if welcome["type"] != "welcome":
                raise ConnectionError(f"{self.name}: hello answered {welcome}")
            for conv in self.convs:
                sub = await self.request(
                    ws, "subscribe", conversation_id=conv, after_seq=self.last_seq(conv)
                )
                if sub["type"] != "subscribed":
                    raise ConnectionError(f"{self.name}: subscribe answered {sub}")
            self.ws = ws
            self.sessions += 1
            self.up.set()
            pump = asyncio.get_running_loop().create_task(self._pump(ws))
            try:
                await reader
            finally:
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)
        finally:
            if self.ws is ws:
                self.ws = None
                self.up.clear()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            with contextlib.suppress(Exception):
                ws.transport.abort()

    async def _pump(self, ws: ClientConnection) -> None:
        """Send the unacked messages in the order written, at most WINDOW unacked ones
        on this socket at a time: after a reconnect the backlog goes out as fast as the
        server acks it, not all at once (which, cut again, would be sent again)."""
        sent_here: set[str] = set()
        while True:
            self.wake.clear()
            in_flight = sum(1 for cid in sent_here if cid in self.unacked)
            for msg in list(self.unacked.values()):  # acks and writes change it meanwhile
                if in_flight >= WINDOW:
                    break
                if msg.client_id in sent_here or msg.client_id not in self.unacked:
                    continue
                await ws.send(msg.frame)
                sent_here.add(msg.client_id)
                in_flight += 1
                if msg.sent:
                    self.resends += 1
                msg.sent = True
            await self.wake.wait()

    async def request(self, ws: ClientConnection, type_: str, **fields: Any) -> dict[str, Any]:
        fid = f"r{random.getrandbits(48):x}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[fid] = fut
        try:
            await ws.send(json.dumps({"v": 1, "type": type_, "id": fid, **fields}))
            return await asyncio.wait_for(fut, 30)
        finally:
            self.pending.pop(fid, None)

    async def read_frames(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame["type"]
                fid = frame.get("id")
                if kind == "event":
                    self._on_event(frame)
                elif kind == "ack" and fid in self.unacked:
                    msg = self.unacked.pop(fid)
                    self.acked_ns.append(time.monotonic_ns() - msg.created_ns)
                    self.wake.set()
                elif kind == "error" and fid in self.unacked:
                    self.refused[frame.get("code", "?")] += 1
                    self.unacked.pop(fid)
                    self.wake.set()
                elif fid in self.pending:
                    fut = self.pending[fid]
                    if not fut.done():
                        fut.set_result(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("socket closed"))

    def _on_event(self, frame: dict[str, Any]) -> None:
        if self.record is not None:
            self.record.append(frame)
        conv, seq = frame["conversation_id"], frame["seq"]
        seen = self.seqs.get(conv)
        if seen is None:
            return
        if seen and seq <= seen[-1]:
            self.doubles += 1
            return
        seen.append(seq)

    def write(self, conv: str) -> None:
        """A new chat message; the pump sends it after the older unacked ones."""
        self.counter += 1
        client_id = f"{self.name}x{self.counter:07d}"
        frame = {
            "v": 1,
            "type": "chat.send",
            "id": client_id,
            "conversation_id": conv,
            "client_id": client_id,
            "text": f"{client_id} chaos",
        }
        self.unacked[client_id] = Message(conv, client_id, json.dumps(frame), time.monotonic_ns())
        self.written[conv].append(client_id)
        self.wake.set()

    def kill_socket(self) -> bool:
        """Cut the socket without a close handshake, as a lost network does."""
        ws = self.ws
        if ws is None:
            return False
        self.ws = None
        self.up.clear()
        ws.transport.abort()
        return True
