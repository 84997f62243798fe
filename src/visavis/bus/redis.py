"""The bus over Redis pub/sub, for several nodes (processes or machines).

Every message on Redis is one JSON object `{"node":"<id>","data":<payload>}`: the
payload (itself JSON) embedded as it is, and the id of the node that published it.
A node hands its own messages to its handlers at once, in `publish` (with the frame
the payload encodes, when the publisher gave it), and skips them when Redis brings
them back; the other nodes get them from Redis, in publish order.

Each node listens to every topic with one pattern subscription (`PSUBSCRIBE
<prefix>*`) and drops what none of its sockets follows. That costs every node all of
the traffic, which is fine for a handful of nodes, and removes a race: a socket that
starts following a conversation hears its next event at once, with no SUBSCRIBE in
flight that the event could overtake.

When Redis goes away the listener reconnects by itself (back-off up to
`MAX_BACKOFF_S`); what was published meanwhile is lost for the other nodes. The
database is the truth: sockets fill gaps in their seqs from it, and the `resumed`
callbacks let the hub recompute queue and overview once the bus is back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from visavis.bus.base import Handler, Routed

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 2.0
DEFAULT_PREFIX = "visavis:bus:"


def new_node_id() -> str:
    """A node's id: fixed length, so a receiver can find the payload by slicing."""
    return secrets.token_hex(6)


class RedisBus:
    def __init__(self, url: str, node_id: str | None = None, prefix: str = DEFAULT_PREFIX) -> None:
        self.node_id = node_id or new_node_id()
        if len(self.node_id) != 12 or not self.node_id.isalnum():
            raise ValueError(f"node id must be 12 letters or digits, got {self.node_id!r}")
        self.prefix = prefix
        self._redis = aioredis.Redis.from_url(url)
        self._url = url
        self._handlers: dict[str, list[Handler]] = {}
        self._head = f'{{"node":"{self.node_id}","data":'
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._publish_failing = False
        self._listening = False
        self.resumed: list[Callable[[], None]] = []

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
        try:
            await self._redis.publish(self.prefix + topic, self._head + payload + "}")
        except (RedisError, OSError) as e:
            # After the commit: the write stands; other nodes' sockets catch up from
            # the database once the bus is back. One log line per outage.
            if not self._publish_failing:
                log.error("bus: publishing to Redis failed (%s); other nodes miss this", e)
            self._publish_failing = True
        else:
            self._publish_failing = False

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
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
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
        topic = channel.decode()[len(self.prefix) :]
        if topic not in self._handlers:
            return
        text = data.decode()
        if text.startswith(self._head):
            return  # our own, delivered in publish
        # `{"node":"<12 characters>","data":`, then the payload, then `}`
        n = len(self._head)
        if text[:9] == '{"node":"' and text[21:n] == '","data":' and text[-1] == "}":
            payload = text[n:-1]
        else:
            payload = json.dumps(json.loads(text)["data"])  # another writer's spacing
        self._deliver(topic, payload, None)

    async def _listen(self) -> None:
        backoff = 0.05
        first = True
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(self.prefix + "*")
                if not first:
                    log.warning("bus: connected to Redis again")
                    for callback in tuple(self.resumed):
                        callback()
                first = False
                self._listening = True
                self._ready.set()
                backoff = 0.05
                while True:
                    msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                    if msg is not None and msg["type"] == "pmessage":
                        try:
                            self._on_message(msg["channel"], msg["data"])
                        except Exception:
                            log.exception("bus: bad message on %r", msg["channel"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as e:
                self._listening = False
                log.error("bus: lost Redis (%s); reconnecting in %.2f s", e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)
            finally:
                try:
                    # typed from redis 8.2 on, untyped before
                    await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]
                except (RedisError, OSError):
                    pass
