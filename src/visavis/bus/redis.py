"""The bus over Redis pub/sub, for several nodes (processes or machines).

A node hands its own messages to its handlers at once, in `publish` (with the frame
the payload encodes, when the publisher gave it); the other nodes that follow the
topic get them from Redis, in publish order.

Publishing does not wait for Redis. Each message joins the node's outbox, and one
task sends the outbox to Redis as one batch: while a batch is on its way, the next
gathers (as the chat group commit does with its messages). Awaiting one PUBLISH per
message had cost every message a Redis round trip before the next one's, and a
command's and a received message's parsing each: two processes over Redis spent
0.5 to 0.7 ms of CPU per chat message against 0.3 ms for one process alone.

The batches go out and come in on two connections of the bus's own
(`bus/resp.py`: commands packed and replies parsed by hiredis), not through
redis-py, whose layers cost about 50 us of CPU per PUBLISH and per received message;
`redis` (redis-py) serves the rest of the shared state.

Each node listens on its own channel, `<prefix>~<node id>` (SUBSCRIBE), and Redis
brings it only what it follows: a node that has a handler for a topic (a socket
there follows the conversation, an adviser's console is there; every node follows
`queue`, `advisers` and `presence`) is a member of the set `<prefix>f:<topic>`
(SADD with the first handler, SREM with the last). A batch goes out as one EVALSHA
of a Lua script (`ROUTE`) that looks up each message's followers and PUBLISHes to
each following node, other than the sender, one batch of just the messages it
follows. Listening to everything (`PSUBSCRIBE <prefix>*`, as before) cost every node
all of the traffic, and every batch came back to its own sender: two workers read
2.3 times per chat message from their sockets, one process alone 1.3 times
(`perf stat`, bench/scale_out.py).

A batch whose topics no other node follows does not go to Redis at all: what the
others follow, each node learns from their follow notices (bus/interest.py), and a
node that follows a topic hears its messages once Redis has its SADD and every other
node answered its notice: `settled` returns then. What a node reads from the
database after it started to follow a conversation (a socket's summary and replay,
an adviser's conversations) is read after `settled`, so that an event committed
meanwhile comes either in the read or live. A follower whose channel nobody
listens on (PUBLISH counts 0: the node is gone, or between two connections to
Redis) is removed from that message's sets in the script; a node that subscribes
again registers all its topics again before it calls its `resumed` callbacks.
What a killed node followed and nobody publishes to again stays in Redis as a few
set members.

Every batch a node gets is one JSON object:
`{"node":"<id>","at":<ms since the epoch>,"batch":[["<topic>","<payload>"],...]}`,
each payload (itself JSON) as a JSON string, `node` the publishing node's id. `at`
gives the receivers the bus's lag (`on_lag`, the `visavis_bus_lag_seconds` metric;
across machines it includes the difference of their clocks). Nodes of this version
and of earlier ones (which listened to everything) do not hear each other: upgrade
all nodes of an installation together.

When Redis goes away the listener reconnects by itself (back-off up to
`MAX_BACKOFF_S`); what was published meanwhile is lost for the other nodes (a batch
that cannot be sent is dropped, and so is the oldest of an outbox grown past
`MAX_OUTBOX`). The database is the truth: sockets fill gaps in their seqs from it,
and the `resumed` callbacks let the hub recompute queue and overview once the bus is
back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from visavis.bus.base import Handler, Routed
from visavis.bus.interest import FOLLOWERS, FOLLOWS, Answers, Interest, notice
from visavis.bus.resp import Address, RespLink
from visavis.bus.route import ROUTE

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 2.0
DEFAULT_PREFIX = "visavis:bus:"
MAX_BATCH = 1000  # messages per EVALSHA: bounds one batch's size on Redis
MAX_OUTBOX = 50_000  # messages waiting for Redis (it hangs): beyond, the oldest go
CLOSE_FLUSH_S = 2.0  # how long `close` waits for the outbox to reach Redis
# a Redis that takes no more (paused, or its machine gone without a reset): the batch
# is dropped, as redis-py's calls give up after their 5 s read timeout; a follow not
# registered by then is not waited for (`settled`)
PUBLISH_TIMEOUT_S = 5.0
# how long a follow waits for the other nodes to say they know of it (bus/interest.py);
# a node that does not answer by then (stopped) still gets the topic from Redis
ACK_TIMEOUT_S = 1.0


def new_node_id() -> str:
    """A node's id: fixed length, so a receiver can find the payload by slicing."""
    return secrets.token_hex(6)


class RedisBus:
    def __init__(self, url: str, node_id: str | None = None, prefix: str = DEFAULT_PREFIX) -> None:
        self.node_id = node_id or new_node_id()
        if len(self.node_id) != 12 or not self.node_id.isalnum():
            raise ValueError(f"node id must be 12 letters or digits, got {self.node_id!r}")
        self.prefix = prefix
        self._redis = aioredis.Redis.from_url(url)  # the shared state's (cluster.py)
        self._address = Address.from_url(url)  # the bus's own links (bus/resp.py)
        self._publisher: RespLink | None = None
        self._route_sha = ""  # the script's, on the publisher link's Redis
        self._opening = asyncio.Lock()
        self._handlers: dict[str, list[Handler]] = {}
        self._channel = f"{prefix}~{self.node_id}"
        self._own_bytes = f'{{"node":"{self.node_id}",'.encode()
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._outbox: deque[tuple[str, str]] = deque()
        self._sender: asyncio.Task[None] | None = None
        self._publish_failing = False
        self._listening = False
        # follows (True) and unfollows (False) not yet sent to Redis, by topic
        self._follows: dict[str, bool] = {}
        self._registrar: asyncio.Task[None] | None = None
        self._asked = 0  # follow changes asked for; those up to `_settled` are in Redis
        self._settled = 0
        self._settle_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._interest = Interest(self.node_id)
        self._answers = Answers(self.node_id)
        self._tasks: set[asyncio.Task[None]] = set()
        self.subscribe(FOLLOWS, self._on_follows)
        self.dropped = 0  # messages that never reached Redis (it failed, or hung)
        self.batches = 0  # batches sent, for the tests and benches
        self.kept = 0  # batches no other node follows: not sent (bus/interest.py)
        self.resumed: list[Callable[[], None]] = []
        # told the delay of each batch from another node (seconds): the metric's feed
        self.on_lag: Callable[[float], None] | None = None

    @property
    def redis(self) -> aioredis.Redis:
        """The shared connection pool, for the other shared state (presence, limits)."""
        return self._redis

    def problem(self) -> str | None:
        """Why this node does not hear the other nodes right now (readiness), or None."""
        return None if self._listening else "the bus has no subscription on Redis"

    async def start(self) -> None:
        """Start listening; returns once the subscription is in place and the topics
        followed so far are registered."""
        self._listener = asyncio.get_running_loop().create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), 30)

    async def publish(self, topic: str, payload: str, frame: Routed | None = None) -> None:
        self._deliver(topic, payload, frame)  # Redis carries the text only
        outbox = self._outbox
        outbox.append((topic, payload))
        if len(outbox) > MAX_OUTBOX:
            outbox.popleft()
            self._drop(1, "Redis takes no more")
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send())

    async def _link(self) -> RespLink:
        """The publisher link, opened (and the script loaded) if it is not. The sender
        and the registrar share it: one opens it while the other waits."""
        async with self._opening:
            link = self._publisher
            if link is None or link.closed.done():
                link = await RespLink.open(self._address)
                try:
                    sha = await link.call("SCRIPT", "LOAD", ROUTE)
                except BaseException:
                    link.close()
                    raise
                self._route_sha = sha.decode()
                self._publisher = link
            return link

    async def _send(self) -> None:
        outbox = self._outbox
        dumps = json.dumps
        try:
            while outbox:
                n = min(MAX_BATCH, len(outbox))
                batch = [outbox.popleft() for _ in range(n)]
                if not self._interest.anyone_else({topic for topic, _ in batch}):
                    self.kept += 1  # delivered here, in publish; nobody else follows
                    continue
                args = [self.prefix, self.node_id, str(int(time.time() * 1000))]
                for topic, payload in batch:
                    args.append(topic)
                    args.append(f"[{dumps(topic)},{dumps(payload, ensure_ascii=False)}]")
                try:
                    # the reply awaited: one batch on its way while the next gathers
                    async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                        link = await self._link()
                        await link.writable()
                        await self._route(link, args)
                except (hiredis.HiredisError, OSError) as e:
                    # after the commit: the writes stand; other nodes' sockets catch up
                    # from the database once the bus is back
                    self._drop(n, str(e) or f"no answer within {PUBLISH_TIMEOUT_S:g} s")
                else:
                    self.batches += 1
                    if self._publish_failing:
                        log.warning("bus: publishing to Redis works again")
                    self._publish_failing = False
        finally:
            self._sender = None

    async def _route(self, link: RespLink, args: list[str]) -> int:
        """One batch through the script; how many nodes heard theirs."""
        try:
            heard = await link.call("EVALSHA", self._route_sha, "0", *args)
        except hiredis.ReplyError as e:
            if not str(e).startswith("NOSCRIPT"):
                raise
            # Redis forgot its scripts (SCRIPT FLUSH): load it again
            heard = await link.call("EVAL", ROUTE, "0", *args)
        return int(heard)

    def _drop(self, n: int, why: str) -> None:
        self.dropped += n
        if not self._publish_failing:  # one log line per outage
            log.error("bus: publishing to Redis failed (%s); other nodes miss this", why)
        self._publish_failing = True

    # ------------------------------------------------------------ following
    def subscribe(self, topic: str, handler: Handler) -> None:
        handlers = self._handlers.get(topic)
        if handlers is None:
            handlers = self._handlers[topic] = []
            self._follow(topic, True)
        handlers.append(handler)

    def unsubscribe(self, topic: str, handler: Handler) -> None:
        handlers = self._handlers.get(topic)
        if not handlers:
            return
        try:
            handlers.remove(handler)
        except ValueError:
            return
        if not handlers:
            del self._handlers[topic]
            self._follow(topic, False)

    def _follow(self, topic: str, on: bool) -> None:
        self._follows[topic] = on
        self._asked += 1
        if self._registrar is None and self._listening:
            self._registrar = asyncio.get_running_loop().create_task(self._register())

    async def settled(self) -> None:
        """Returns once the follows asked for so far are in Redis: from then on this
        node hears what other nodes publish on those topics. At once while Redis is
        away (the node registers everything again when it is back); after
        `PUBLISH_TIMEOUT_S` at the latest."""
        if self._settled >= self._asked or not self._listening:
            return
        fut = asyncio.get_running_loop().create_future()
        self._settle_waiters.append((self._asked, fut))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(fut), PUBLISH_TIMEOUT_S)

    async def _register(self) -> None:
        backoff = 0.05
        try:
            while self._follows and self._listening:
                follows, self._follows = self._follows, {}
                asked = self._asked
                try:
                    async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                        link = await self._link()
                        await asyncio.gather(
                            *(
                                link.call(
                                    "SADD" if on else "SREM",
                                    f"{self.prefix}{FOLLOWERS}{topic}",
                                    self.node_id,
                                )
                                for topic, on in follows.items()
                            )
                        )
                        told = await self._announce(link, follows)
                    await self._acked(told)
                except (hiredis.HiredisError, OSError) as e:
                    log.error("bus: registering followed topics failed (%s); retrying", e)
                    # the newer wish for a topic wins over the one that failed
                    self._follows = follows | self._follows
                    self._settle(asked)  # nobody waits on a broken Redis
                    await asyncio.sleep(backoff)
                    backoff = min(MAX_BACKOFF_S, backoff * 2)
                else:
                    self._settle(asked)
        finally:
            self._registrar = None

    async def _announce(
        self, link: RespLink, follows: dict[str, bool]
    ) -> tuple[str, asyncio.Future[None]] | None:
        """Tell the other nodes what this one follows now (bus/interest.py); the
        answers to wait for, if anyone heard it."""
        on = [topic for topic, yes in follows.items() if yes and topic != FOLLOWS]
        off = [topic for topic, yes in follows.items() if not yes and topic != FOLLOWS]
        if not on and not off:
            return None
        ack = self._answers.open()
        entry = f"[{json.dumps(FOLLOWS)},{json.dumps(notice(self.node_id, on, off, ack))}]"
        at = str(int(time.time() * 1000))
        try:
            heard = await self._route(link, [self.prefix, self.node_id, at, FOLLOWS, entry])
        except BaseException:
            self._answers.close(ack)
            raise
        if not on:  # an unfollow needs nobody to know in time
            self._answers.close(ack)
            return None
        done = self._answers.heard(ack, heard)
        return None if done is None else (ack, done)

    async def _acked(self, told: tuple[str, asyncio.Future[None]] | None) -> None:
        """Until every node that heard the notice said it knows (or ACK_TIMEOUT_S)."""
        if told is None:
            return
        ack, done = told
        try:
            async with asyncio.timeout(ACK_TIMEOUT_S):
                await done
        except TimeoutError:
            log.warning("bus: a node did not answer a follow notice within %g s", ACK_TIMEOUT_S)
        finally:
            self._answers.close(ack)

    def _on_follows(self, payload: str, _frame: Routed | None) -> None:
        message = json.loads(payload)
        node = self._interest.apply(message)
        ack = message["ack"]
        if not isinstance(ack, str):
            raise ValueError(f"a follow notice's ack {ack!r}")
        task = asyncio.get_running_loop().create_task(self._answer(node, ack))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, node: str, ack: str) -> None:
        """Known (the notice was applied before this): the notifying node may go on."""
        with contextlib.suppress(hiredis.HiredisError, OSError):
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                link = await self._link()
                await link.call("PUBLISH", f"{self.prefix}~{node}", json.dumps({"ack": ack}))

    def others_follow(self, topic: str) -> bool:
        """Does this node send the topic's messages to Redis (another node may follow
        it, or this one does not know yet)?"""
        return self._interest.anyone_else((topic,))

    def forget_node(self, node: str) -> None:
        """Another node said it stops: batches need not go to Redis for it."""
        self._interest.forget_node(node)

    def _settle(self, asked: int) -> None:
        self._settled = max(self._settled, asked)
        waiting = []
        for until, fut in self._settle_waiters:
            if until <= self._settled:
                if not fut.done():
                    fut.set_result(None)
            else:
                waiting.append((until, fut))
        self._settle_waiters = waiting

    async def close(self) -> None:
        """What is still in the outbox goes to Redis first (for up to
        `CLOSE_FLUSH_S`): e.g. a stopping node's last presence. Then the node leaves
        its topics' sets."""
        if self._sender is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._sender), CLOSE_FLUSH_S)
            if self._sender is not None:
                self._sender.cancel()
                await asyncio.gather(self._sender, return_exceptions=True)
        for topic in self._handlers:
            self._follow(topic, False)
        self._handlers.clear()
        if self._registrar is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._registrar), CLOSE_FLUSH_S)
            if self._registrar is not None:
                self._registrar.cancel()
                await asyncio.gather(self._registrar, return_exceptions=True)
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        if self._publisher is not None:
            self._publisher.close()
        await self._redis.aclose()

    # ------------------------------------------------------------ receiving
    def _deliver(self, topic: str, payload: str, frame: Routed | None) -> None:
        for handler in tuple(self._handlers.get(topic, ())):
            try:
                handler(payload, frame)
            except Exception:
                # One broken subscriber must not stop delivery to the others.
                log.exception("bus handler failed for topic %s", topic)

    def _on_message(self, channel: bytes, data: bytes) -> None:
        if data.startswith(self._own_bytes):
            return  # ours (the script sends none back): delivered in publish
        message = json.loads(data)
        if "ack" in message:
            self._answers.answered(message["ack"])
            return
        at, batch = message.get("at"), message.get("batch")
        if not isinstance(batch, list):
            raise ValueError("a batch without its list of messages")
        if self.on_lag is not None and isinstance(at, int):
            self.on_lag(max(0.0, time.time() - at / 1000))
        handlers = self._handlers
        for topic, payload in batch:
            if topic in handlers:  # unfollowed while the batch was on its way
                self._deliver(topic, payload, None)

    async def _listen(self) -> None:
        backoff = 0.05
        first = True
        while True:
            link: RespLink | None = None
            try:
                link = await RespLink.open(self._address, self._on_message_safe)
                await link.call("SUBSCRIBE", self._channel)
                self._listening = True
                # Subscribed first, then registered: a script that found this channel
                # without a listener removed the node from its sets before this.
                for topic in self._handlers:
                    self._follow(topic, True)
                await self.settled()
                # then what the others follow: notices meanwhile add to it
                await self._interest.load(self._redis, self.prefix)
                if not first:
                    log.warning("bus: connected to Redis again")
                    for callback in tuple(self.resumed):
                        callback()
                first = False
                self._ready.set()
                backoff = 0.05
                raise ConnectionError(await link.closed)
            except asyncio.CancelledError:
                raise
            except (hiredis.HiredisError, OSError, RedisError) as e:
                self._listening = False
                self._interest.ready = False  # notices may be missed from here on
                # nobody waits for follows while Redis is away: all are registered
                # again once it is back
                self._settle(self._asked)
                log.error("bus: lost Redis (%s); reconnecting in %.2f s", e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)
            finally:
                if link is not None:
                    link.close()

    def _on_message_safe(self, channel: bytes, data: bytes) -> None:
        try:
            self._on_message(channel, data)
        except Exception:
            log.exception("bus: bad message on %r", channel)
