"""The chaos run of tests/integration/test_chaos.py and bench/chaos.py: conversations
chatting both ways while random sockets are cut (no close handshake) and the server is
killed with SIGKILL and restarted on the same database.

Every client behaves as docs/protocol.md asks of one: it reconnects, says `hello`,
re-subscribes with the highest seq it has and resends, in order, every message it got
no `ack` for, with the same `client_id`. At the end each conversation's log, read
afresh with `after_seq=0`, must hold every message exactly once, each sender's in the
order sent, and every client must have seen every seq of its conversations once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

# Raised limits: a reconnecting adviser resends a burst; the run makes many conversations.
# Unacked chat messages a client has on one socket at a time.
WINDOW = 20
SERVER_ENV = {
    "VISAVIS_CONVERSATIONS_PER_MINUTE": "1000000",
    "VISAVIS_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
    "VISAVIS_WS_FRAMES_PER_SECOND": "2000",
    "VISAVIS_WS_FRAME_BURST": "4000",
}


@dataclass
class ChaosPlan:
    conversations: int
    chats_per_adviser: int
    duration_s: float
    rate_hz: float  # chat messages per second per side
    socket_kills: int
    server_kills: int
    seed: int = 1
    drain_s: float = 120.0


@dataclass
class ChaosResult:
    conversations: int = 0
    sockets: int = 0
    sent: int = 0  # distinct messages written by the clients
    stored: int = 0  # distinct messages in the logs at the end
    lost: int = 0  # acked by the server, not in the log
    not_stored: int = 0  # never acked and not in the log: still in a client's outbox
    doubled: int = 0  # in the log more than once
    out_of_order: int = 0  # a sender's messages whose log order differs from the send order
    unknown: int = 0  # messages in the log no client wrote
    delivery_gaps: int = 0  # a client never received a seq of its conversation
    delivery_doubles: int = 0  # a socket received a seq twice
    unacked: int = 0  # still without ack when the drain ended
    refused: dict[str, int] = field(default_factory=dict)  # error codes answered to chat.send
    socket_kills: int = 0
    server_kills: int = 0
    connects: int = 0  # connection attempts after the first (incl. refused ones)
    resends: int = 0
    ack_p50_ms: float = float("nan")
    ack_p99_ms: float = float("nan")
    drain_s: float = 0.0
    restart_s: list[float] = field(default_factory=list)  # SIGKILL -> /healthz answers again

    def clean(self) -> bool:
        return not (
            self.lost
            or self.doubled
            or self.out_of_order
            or self.unknown
            or self.delivery_gaps
            or self.delivery_doubles
            or self.unacked
            or self.not_stored
            or self.refused
        )


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


# ---------------------------------------------------------------- setup over HTTP
async def setup(
    base_url: str, ws_url: str, advisers: list[tuple[str, str]], plan: ChaosPlan
) -> tuple[list[Client], list[Client], dict[str, str]]:
    """Log the advisers ((email, password) each) in, create the conversations and let
    each adviser accept its share; return advisers' and customers' clients and tokens."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60, trust_env=False) as http:
        cookies = []
        for email, password in advisers:
            r = await http.post("/api/v1/session", json={"email": email, "password": password})
            r.raise_for_status()
            cookies.append(r.cookies["visavis_session"])
            http.cookies.clear()
        sem = asyncio.Semaphore(16)

        async def create(i: int) -> tuple[str, str]:
            async with sem:
                r = await http.post(
                    "/api/v1/conversations",
                    json={"customer_name": f"Chaos {i}", "topic": "beratung", "language": "de"},
                )
                if r.status_code != 201:
                    raise RuntimeError(f"create conversation: {r.status_code} {r.text}")
                data = r.json()
                return str(data["conversation"]["id"]), str(data["token"])

        made = await asyncio.gather(*(create(i) for i in range(plan.conversations)))
    tokens = dict(made)
    convs = [c for c, _ in made]
    per = plan.chats_per_adviser
    adviser_clients = []
    for i, cookie in enumerate(cookies):
        mine = convs[i * per : (i + 1) * per]
        client = Client(f"a{i:03d}", ws_url, mine, cookie=cookie)
        async with asyncio.timeout(60):
            ws = await websockets.connect(
                ws_url, additional_headers={"Cookie": f"visavis_session={cookie}"}, proxy=None
            )
            try:
                reader = asyncio.get_running_loop().create_task(client.read_frames(ws))
                await client.request(ws, "hello")
                for conv in mine:
                    ans = await client.request(ws, "conversation.accept", conversation_id=conv)
                    if ans["type"] != "ack":
                        raise RuntimeError(f"accept refused: {ans}")
            finally:
                await ws.close()
                await asyncio.gather(reader, return_exceptions=True)
        client.seqs = {c: [] for c in mine}  # the run's sockets read every log from seq 1
        client.reconnects = -1
        adviser_clients.append(client)
    customers = [
        Client(f"c{i:04d}", ws_url, [conv], token=tokens[conv]) for i, conv in enumerate(convs)
    ]
    return adviser_clients, customers, tokens


# ---------------------------------------------------------------- the run
async def run_chaos(
    plan: ChaosPlan,
    ws_url: str,
    advisers: list[Client],
    customers: list[Client],
    kill_and_restart_server: Callable[[], float],
    on_progress: Callable[[str], None] = lambda _: None,
) -> ChaosResult:
    """Chat, cut sockets and kill the server for plan.duration_s, then drain."""
    rng = random.Random(plan.seed)
    result = ChaosResult(conversations=plan.conversations)
    clients = advisers + customers
    result.sockets = len(clients)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    runners = [loop.create_task(c.run(stop)) for c in clients]
    # wait until every client is connected once
    async with asyncio.timeout(120):
        await asyncio.gather(*(c.up.wait() for c in clients))
    on_progress(f"{len(clients)} sockets connected")

    t0 = loop.time()
    end = t0 + plan.duration_s
    period = 1.0 / plan.rate_hz

    async def writer(client: Client, conv: str) -> None:
        at = t0 + rng.random() * period
        while at < end:
            await asyncio.sleep(max(0.0, at - loop.time()))
            client.write(conv)
            at += period

    async def socket_killer() -> None:
        gap = plan.duration_s / max(1, plan.socket_kills)
        while result.socket_kills < plan.socket_kills:
            await asyncio.sleep(rng.expovariate(1 / gap) if gap > 0 else 0)
            # a connected client, chosen at random (during a server restart: one that
            # is back)
            up = [c for c in clients if c.ws is not None]
            if not up:
                waits = [loop.create_task(c.up.wait()) for c in clients]
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for w in waits:
                    w.cancel()
                up = [c for c in clients if c.ws is not None]
            if up and rng.choice(up).kill_socket():
                result.socket_kills += 1

    async def server_killer() -> None:
        for k in range(plan.server_kills):
            at = t0 + plan.duration_s * (k + 1) / (plan.server_kills + 1)
            await asyncio.sleep(max(0.0, at - loop.time()))
            result.restart_s.append(await asyncio.to_thread(kill_and_restart_server))
            result.server_kills += 1
            on_progress(f"server killed (SIGKILL) and up again in {result.restart_s[-1]:.1f} s")

    writers = [loop.create_task(writer(a, conv)) for a in advisers for conv in a.convs]
    writers += [loop.create_task(writer(c, c.convs[0])) for c in customers]
    killers = [
        loop.create_task(asyncio.wait_for(socket_killer(), plan.duration_s + plan.drain_s)),
        loop.create_task(server_killer()),
    ]
    await asyncio.gather(*writers)
    # The kills may trail the writers a little (random gaps); they finish before the drain.
    await asyncio.gather(*killers)
    on_progress(f"sending done; {result.socket_kills} sockets cut; draining")

    # Drain: every message acked, every client holding the log up to its last seq.
    t_drain = loop.time()
    expected = sum(len(w) for c in clients for w in c.written.values())
    settled = False
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(plan.drain_s):
            while True:
                acked = all(not c.unacked for c in clients)
                if acked and all(c.ws is not None for c in clients):
                    last = {conv: 0 for c in customers for conv in c.convs}
                    for c in clients:
                        for conv in c.convs:
                            last[conv] = max(last[conv], c.last_seq(conv))
                    if all(c.last_seq(conv) == last[conv] for c in clients for conv in c.convs):
                        # and the last seq holds every message: the writers' counts
                        if sum(last.values()) >= expected:
                            settled = True
                            break
                await asyncio.sleep(0.05)
    result.drain_s = loop.time() - t_drain
    on_progress(f"drained in {result.drain_s:.1f} s" if settled else "the drain timed out")
    stop.set()
    # A client still in its handshake is cut as soon as it is up.
    while not all(r.done() for r in runners):
        for c in clients:
            c.kill_socket()
        await asyncio.wait(runners, timeout=0.1)
    await asyncio.gather(*runners, return_exceptions=True)

    acks = sorted(ms / 1e6 for c in clients for ms in c.acked_ns)
    if acks:
        result.ack_p50_ms = acks[len(acks) // 2]
        result.ack_p99_ms = acks[min(len(acks) - 1, int(len(acks) * 0.99))]
    for c in clients:
        result.refused.update(c.refused)
        result.unacked += len(c.unacked)
        result.resends += c.resends
        result.connects += max(0, c.reconnects)
        result.delivery_doubles += c.doubles
        result.sent += sum(len(w) for w in c.written.values())
    result.refused = dict(result.refused)
    return result


async def check_logs(
    ws_url: str, clients: list[Client], tokens: dict[str, str], r: ChaosResult
) -> None:
    """Read every conversation's log afresh (a new customer socket, after_seq=0) and
    count what is missing, doubled, out of order or unknown; and what a client missed."""
    written: dict[str, dict[str, list[str]]] = {conv: {} for conv in tokens}
    outbox = {cid for c in clients for cid in c.unacked}
    for c in clients:
        for conv, ids in c.written.items():
            written[conv][c.name] = ids
    sem = asyncio.Semaphore(16)

    async def one(conv: str) -> None:
        async with sem:
            reader = Client("check", ws_url, [conv], token=tokens[conv])
            ws = await websockets.connect(ws_url, proxy=None, max_size=2**24)
            task = asyncio.get_running_loop().create_task(reader.read_frames(ws))
            events: list[dict[str, Any]] = []
            reader.record = events
            try:
                await reader.request(ws, "hello", token=tokens[conv])
                await reader.request(ws, "subscribe", conversation_id=conv, after_seq=0)
            finally:
                await ws.close()
                await asyncio.gather(task, return_exceptions=True)
        log = [e for e in events if e["kind"] == "chat.message"]
        counts = Counter(e["client_id"] for e in log)
        r.stored += len(counts)
        r.doubled += sum(n - 1 for n in counts.values())
        mine = {cid for ids in written[conv].values() for cid in ids}
        r.unknown += len(set(counts) - mine)
        for ids in written[conv].values():
            missing = [cid for cid in ids if cid not in counts]
            r.not_stored += sum(1 for cid in missing if cid in outbox)
            r.lost += sum(1 for cid in missing if cid not in outbox)
            order = [e["client_id"] for e in log if e["client_id"] in set(ids)]
            first = list(dict.fromkeys(order))
            expected = [cid for cid in ids if cid in counts]
            r.out_of_order += sum(1 for a, b in zip(first, expected, strict=True) if a != b)
        last = max((e["seq"] for e in events), default=0)
        for c in clients:
            if conv in c.seqs and c.seqs[conv] != list(range(1, last + 1)):
                r.delivery_gaps += len(set(range(1, last + 1)) - set(c.seqs[conv]))

    await asyncio.gather(*(one(conv) for conv in tokens))
