"""The chaos run of tests/integration/test_chaos.py and bench/chaos.py: conversations
chatting both ways while random sockets are cut (no close handshake) and the server is
killed with SIGKILL and restarted on the same database.

Every client behaves as docs/protocol.md asks of one: it reconnects, says `hello`,
re-subscribes with the highest seq it has and resends, in order, every message it got
no `ack` for, with the same `client_id`. At the end each conversation's log, read
afresh with `after_seq=0`, must hold every message exactly once, each sender's in the
order sent, and every client must have seen every seq of its conversations once.

The run is bounded by progress, not by the clock: on a loaded machine it may take
longer, but when nothing moved for `plan.stall_s` (no ack, no event, no socket up or
cut, no message written; the clock stops while the server restarts, which is bounded
on its own) connecting or sending fails (`ChaosStalled`), and a drain ends and says so
(`ChaosResult.stalled`). Whatever ends the run, its tasks are cancelled and
awaited before `run_chaos` returns or raises, so no task outlives it.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from chaos_client import Client

# Raised limits: a reconnecting adviser resends a burst; the run makes many conversations.
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
    # Seconds in which nothing moved (see the module's docstring): then the run gives
    # up. An upper bound, not a wait.
    stall_s: float = 120.0


class ChaosStalled(RuntimeError):
    """A phase of the run made no progress for plan.stall_s seconds."""

    code = "chaos_stalled"


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
    stalled: str = ""  # the phase in which nothing moved any more, if one did

    def clean(self) -> bool:
        return not (
            self.stalled
            or self.lost
            or self.doubled
            or self.out_of_order
            or self.unknown
            or self.delivery_gaps
            or self.delivery_doubles
            or self.unacked
            or self.not_stored
            or self.refused
        )


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
class Run:
    """One chaos run's moving parts: the clients' tasks, the writers and the killers."""

    def __init__(self, plan: ChaosPlan, clients: list[Client]) -> None:
        self.plan = plan
        self.clients = clients
        self.result = ChaosResult(conversations=plan.conversations, sockets=len(clients))
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        self.restarting = False  # the stall clock stops: a restart is bounded on its own
        self.runners: list[asyncio.Task[None]] = []  # one per client: connect, reconnect
        self.tasks: list[asyncio.Task[None]] = []  # writers and killers

    def state(self) -> str:
        c, r = self.clients, self.result
        return (
            f"{sum(1 for x in c if x.ws is not None)}/{len(c)} sockets up, "
            f"{sum(len(x.unacked) for x in c)} messages unacked, "
            f"{r.socket_kills}/{self.plan.socket_kills} sockets cut, "
            f"{r.server_kills}/{self.plan.server_kills} server kills, "
            f"{sum(1 for t in self.tasks if not t.done())} writers and killers running"
        )

    async def until(self, done: Callable[[], bool], phase: str, expected: str) -> None:
        """Wait for `done`; raise what a writer or killer raised, or ChaosStalled when
        nothing moved for plan.stall_s."""
        last, since = progress(self.clients, self.result), self.loop.time()
        while not done():
            for t in self.tasks:
                if t.done() and not t.cancelled() and t.exception() is not None:
                    t.result()
            await asyncio.sleep(0.05)
            now = progress(self.clients, self.result)
            if now != last or self.restarting:
                last, since = now, self.loop.time()
            elif self.loop.time() - since > self.plan.stall_s:
                raise ChaosStalled(
                    f"{ChaosStalled.code}: {phase}: nothing moved for "
                    f"{self.plan.stall_s:.0f} s ({self.state()}); expected {expected}"
                )

    async def wind_down(self, graceful: bool) -> None:
        """End every task this run started, and wait until each has ended. Graceful:
        the clients finish what they are doing (a client in its handshake is cut as
        soon as it is up); otherwise everything is cancelled at once."""
        self.stop.set()
        for t in self.tasks:
            t.cancel()
        if not graceful:
            for r in self.runners:
                r.cancel()
        everything = self.runners + self.tasks
        ended, since = -1, self.loop.time()
        while not all(t.done() for t in everything):
            for c in self.clients:
                c.kill_socket()
            await asyncio.wait(everything, timeout=0.1)
            if sum(1 for t in everything if t.done()) != ended:
                ended, since = sum(1 for t in everything if t.done()), self.loop.time()
            elif self.loop.time() - since > self.plan.stall_s:
                stuck = [t for t in everything if not t.done()]
                if not graceful:
                    raise ChaosStalled(
                        f"{ChaosStalled.code}: winding down: {len(stuck)} tasks did not "
                        f"end within {self.plan.stall_s:.0f} s of being cancelled: {stuck[:3]}"
                    )
                for t in stuck:
                    t.cancel()
                graceful, since = False, self.loop.time()
        await asyncio.gather(*everything, return_exceptions=True)


def progress(clients: Sequence[Client], result: ChaosResult) -> tuple[int, ...]:
    """What moves while the run goes well; unchanged for plan.stall_s: it is stuck."""
    return (
        sum(len(c.acked_ns) + sum(c.refused.values()) for c in clients),
        sum(len(seqs) for c in clients for seqs in c.seqs.values()),
        sum(c.sessions + c.counter for c in clients),
        result.socket_kills,
        result.server_kills,
    )


async def run_chaos(
    plan: ChaosPlan,
    ws_url: str,
    advisers: list[Client],
    customers: list[Client],
    kill_and_restart_server: Callable[[], Awaitable[float]],
    on_progress: Callable[[str], None] = lambda _: None,
) -> ChaosResult:
    """Chat, cut sockets and kill the server for plan.duration_s, then drain.
    `kill_and_restart_server` kills the server and returns, in seconds, how long it
    took until it answered again. Every task started here has ended when this returns
    or raises."""
    run = Run(plan, advisers + customers)
    run.runners = [run.loop.create_task(c.run(run.stop)) for c in run.clients]
    try:
        await run.until(
            lambda: all(c.sessions > 0 for c in run.clients),
            "connecting", "every client connected and subscribed once",
        )  # fmt: skip
        on_progress(f"{len(run.clients)} sockets connected")
        await chat_and_kill(run, advisers, customers, kill_and_restart_server, on_progress)
        on_progress(f"sending done; {run.result.socket_kills} sockets cut; draining")
        if await drain(run, customers):
            on_progress(f"drained in {run.result.drain_s:.1f} s")
        else:
            run.result.stalled = "draining"
            on_progress(f"the drain stalled after {run.result.drain_s:.1f} s")
    except BaseException:
        await run.wind_down(graceful=False)
        raise
    await run.wind_down(graceful=True)
    return tally(run)


async def chat_and_kill(
    run: Run,
    advisers: list[Client],
    customers: list[Client],
    kill_and_restart_server: Callable[[], Awaitable[float]],
    on_progress: Callable[[str], None],
) -> None:
    """Every side of every conversation writes at plan.rate_hz for plan.duration_s
    (late on a busy machine, never fewer), while sockets are cut and the server killed."""
    plan, result, loop, clients = run.plan, run.result, run.loop, run.clients
    rng = random.Random(plan.seed)
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
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waits:
                        w.cancel()
                    await asyncio.gather(*waits, return_exceptions=True)
                up = [c for c in clients if c.ws is not None]
            if up and rng.choice(up).kill_socket():
                result.socket_kills += 1

    async def server_killer() -> None:
        for k in range(plan.server_kills):
            at = t0 + plan.duration_s * (k + 1) / (plan.server_kills + 1)
            await asyncio.sleep(max(0.0, at - loop.time()))
            run.restarting = True
            try:
                result.restart_s.append(await kill_and_restart_server())
            finally:
                run.restarting = False
            result.server_kills += 1
            on_progress(f"server killed (SIGKILL) and up again in {result.restart_s[-1]:.1f} s")

    run.tasks += [loop.create_task(writer(a, conv)) for a in advisers for conv in a.convs]
    run.tasks += [loop.create_task(writer(c, c.convs[0])) for c in customers]
    # The kills may trail the writers a little (random gaps); they finish before the drain.
    run.tasks += [loop.create_task(socket_killer()), loop.create_task(server_killer())]
    await run.until(
        lambda: all(t.done() for t in run.tasks),
        "sending", f"{plan.socket_kills} sockets cut and {plan.server_kills} server kills",
    )  # fmt: skip
    for t in run.tasks:
        t.result()  # a writer's or killer's failure is the run's


async def drain(run: Run, customers: list[Client]) -> bool:
    """Every message acked, every client holding the log up to its last seq. False when
    that stalled: the run returns what it has (result.stalled), and the counts of what
    is missing say the rest."""
    clients = run.clients
    t_drain = run.loop.time()
    expected = sum(len(w) for c in clients for w in c.written.values())

    def settled() -> bool:
        if any(c.unacked for c in clients) or any(c.ws is None for c in clients):
            return False
        last = {conv: 0 for c in customers for conv in c.convs}
        for c in clients:
            for conv in c.convs:
                last[conv] = max(last[conv], c.last_seq(conv))
        if not all(c.last_seq(conv) == last[conv] for c in clients for conv in c.convs):
            return False
        return sum(last.values()) >= expected  # the last seqs hold every message written

    try:
        await run.until(settled, "draining", "every message acked and delivered")
    except ChaosStalled:
        return False
    finally:
        run.result.drain_s = run.loop.time() - t_drain
    return True


def tally(run: Run) -> ChaosResult:
    result = run.result
    acks = sorted(ms / 1e6 for c in run.clients for ms in c.acked_ns)
    if acks:
        result.ack_p50_ms = acks[len(acks) // 2]
        result.ack_p99_ms = acks[min(len(acks) - 1, int(len(acks) * 0.99))]
    for c in run.clients:
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
