"""The bus over Redis pub/sub, for several nodes (processes or machines).

A node hands its own messages to its handlers at once, in `publish` (with the frame
the payload encodes, when the publisher gave it), and skips them when Redis brings
them back; the other nodes get them from Redis, in publish order.

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

Every batch on Redis is one JSON object on the channel `<prefix>~`:
`{"node":"<id>","at":<ms since the epoch>,"batch":[["<topic>","<payload>"],...]}`,
each payload (itself JSON) as a JSON string, `node` the publishing node's id. `at`
gives the receivers the bus's lag (`on_lag`, the `visavis_bus_lag_seconds` metric;
across machines it includes the difference of their clocks). A message of the older
form, `{"node":"<id>","data":<payload>}` on the channel `<prefix><topic>`, is
still understood.

Each node listens to everything with one pattern subscription (`PSUBSCRIBE
<prefix>*`) and drops what none of its sockets follows. That costs every node all of
the traffic, which is fine for a handful of nodes, and removes a race: a socket that
starts following a conversation hears its next event at once, with no SUBSCRIBE in
flight that the event could overtake.

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

from visavis.bus.base import Handler, Routed
from visavis.bus.resp import Address, RespLink

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 2.0
DEFAULT_PREFIX = "visavis:bus:"
BATCH_CHANNEL = "~"  # after the prefix; no topic is "~"
MAX_BATCH = 1000  # messages per PUBLISH: bounds one message's size on Redis
MAX_OUTBOX = 50_000  # messages waiting for Redis (it hangs): beyond, the oldest go
CLOSE_FLUSH_S = 2.0  # how long `close` waits for the outbox to reach Redis
# a Redis that takes no more (paused, or its machine gone without a reset): the batch
# is dropped, as redis-py's calls give up after their 5 s read timeout
PUBLISH_TIMEOUT_S = 5.0


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
        self._handlers: dict[str, list[Handler]] = {}
        self._own = f'{{"node":"{self.node_id}",'
        self._own_bytes = self._own.encode()
        self._head = self._own + '"data":'  # the older form's
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._outbox: deque[tuple[str, str]] = deque()
        self._sender: asyncio.Task[None] | None = None
        self._publish_failing = False
        self._listening = False
        self.dropped = 0  # messages that never reached Redis (it failed, or hung)
        self.batches = 0  # batches sent, for the tests and benches
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
        """Start listening; returns once the pattern subscription is in place."""
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

    async def _send(self) -> None:
        outbox = self._outbox
        try:
            while outbox:
                n = min(MAX_BATCH, len(outbox))
                batch = [outbox.popleft() for _ in range(n)]
                body = json.dumps(batch, ensure_ascii=False, separators=(",", ":"))
                at = int(time.time() * 1000)
                try:
                    # the reply awaited: one batch on its way while the next gathers
                    async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                        link = self._publisher
                        if link is None or link.closed.done():
                            link = self._publisher = await RespLink.open(self._address)
                        await link.writable()
                        await link.call(
                            "PUBLISH",
                            self.prefix + BATCH_CHANNEL,
                            f'{self._own}"at":{at},"batch":{body}}}'.encode(),
                        )
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

    def _drop(self, n: int, why: str) -> None:
        self.dropped += n
        if not self._publish_failing:  # one log line per outage
            log.error("bus: publishing to Redis failed (%s); other nodes miss this", why)
        self._publish_failing = True

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers.setdefault(topic, []).append(handler)

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

    async def close(self) -> None:
        """What is still in the outbox goes to Redis first (for up to
        `CLOSE_FLUSH_S`): e.g. a stopping node's last presence."""
        if self._sender is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._sender), CLOSE_FLUSH_S)
            if self._sender is not None:
                self._sender.cancel()
                await asyncio.gather(self._sender, return_exceptions=True)
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        if self._publisher is not None:
            self._publisher.close()
        self._handlers.clear()
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
            return  # our own, delivered in publish
        topic = channel.decode()[len(self.prefix) :]
        text = data.decode()
        if topic == BATCH_CHANNEL:
            self._on_batch(json.loads(text))
            return
        if topic not in self._handlers:
            return
        # the older form: `{"node":"<12 characters>","data":`, the payload, then `}`
        n = len(self._head)
        if text[:9] == '{"node":"' and text[21:n] == '","data":' and text[-1] == "}":
            payload = text[n:-1]
        else:
            payload = json.dumps(json.loads(text)["data"])  # another writer's spacing
        self._deliver(topic, payload, None)

    def _on_batch(self, message: dict[str, object]) -> None:
        at, batch = message.get("at"), message.get("batch")
        if not isinstance(batch, list):
            raise ValueError("a batch without its list of messages")
        if self.on_lag is not None and isinstance(at, int):
            self.on_lag(max(0.0, time.time() - at / 1000))
        handlers = self._handlers
        for topic, payload in batch:
            if topic in handlers:
                self._deliver(topic, payload, None)

    async def _listen(self) -> None:
        backoff = 0.05
        first = True
        while True:
            link: RespLink | None = None
            try:
                link = await RespLink.open(self._address, self._on_message_safe)
                await link.call("PSUBSCRIBE", self.prefix + "*")
                if not first:
                    log.warning("bus: connected to Redis again")
                    for callback in tuple(self.resumed):
                        callback()
                first = False
                self._listening = True
                self._ready.set()
                backoff = 0.05
                raise ConnectionError(await link.closed)
            except asyncio.CancelledError:
                raise
            except (hiredis.HiredisError, OSError) as e:
                self._listening = False
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
