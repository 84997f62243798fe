"""What the nodes of one installation share through Redis, besides the bus: which
node is alive, and the presence entries each node owns (the advisers whose sockets
it holds).

A node publishes an adviser's whole entry on the `presence` topic whenever it
changes (the latest state, so order does not matter) and keeps its entries in the
hash `<prefix>presence:<node>`, which a node that starts later reads. Every
`heartbeat_s` a node renews its key `<prefix>node:<node>` (expiring after three
beats) and looks for the keys of the nodes it has entries from: a node that was
killed (SIGKILL, power cut) takes its advisers offline once its key expired; a node
that stops cleanly deletes its keys and says so on the bus at once.

`on_change` is called after another node's entries changed: the hub recomputes
queue, positions and overview for its own sockets.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from visavis.bus import Routed
from visavis.bus.redis import RedisBus
from visavis.routing.presence import Entry, Presence

log = logging.getLogger(__name__)

PRESENCE = "presence"
KEY_PREFIX = "visavis:"


# delete the claim only if it is still this adviser's (it may have expired and
# been made again for another)
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisClaims:
    """`routing.offers.OfferClaims` across nodes: `<prefix>offer:<conversation>` holds
    the adviser it is offered to, expiring with the offer."""

    def __init__(self, bus: RedisBus, prefix: str = KEY_PREFIX) -> None:
        self._redis = bus.redis
        self._prefix = prefix

    async def claim(self, conversation_id: str, adviser_id: str, timeout_s: float) -> bool:
        key = f"{self._prefix}offer:{conversation_id}"
        ok = await self._redis.set(key, adviser_id, nx=True, px=max(1, int(timeout_s * 1000)))
        return bool(ok)

    async def release(self, conversation_id: str, adviser_id: str) -> None:
        key = f"{self._prefix}offer:{conversation_id}"
        await self._redis.eval(_RELEASE, 1, key, adviser_id)


_HOLD = """
local before = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return before
"""
_HOLD_IF_FREE = """
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('HGET', KEYS[1], ARGV[1])
"""
_UNHOLD = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""
# a call's holders outlive no call: gone with the call, or after this at the latest
CALL_TTL_S = 12 * 3600


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisHolders:
    """`web.callpeers.HolderStore` across nodes: the hash `<prefix>call:<key>` maps
    each side (role) of a call to the socket (peer id) that holds it."""

    def __init__(self, bus: RedisBus, prefix: str = KEY_PREFIX) -> None:
        self._redis = bus.redis
        self._prefix = prefix + "call:"

    async def hold(self, key: str, role: str, peer: str) -> str | None:
        before = await self._redis.eval(_HOLD, 1, self._prefix + key, role, peer, CALL_TTL_S)
        return _text(before)

    async def hold_if_free(self, key: str, role: str, peer: str) -> str:
        holder = await self._redis.eval(
            _HOLD_IF_FREE, 1, self._prefix + key, role, peer, CALL_TTL_S
        )
        return _text(holder) or peer

    async def holder(self, key: str, role: str) -> str | None:
        return _text(await self._redis.hget(self._prefix + key, role))

    async def release(self, key: str, role: str, peer: str) -> None:
        await self._redis.eval(_UNHOLD, 1, self._prefix + key, role, peer)

    async def drop(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class Cluster:
    def __init__(
        self,
        bus: RedisBus,
        presence: Presence,
        on_change: Callable[[], None],
        heartbeat_s: float = 2.0,
        prefix: str = KEY_PREFIX,
    ) -> None:
        self.bus = bus
        self.node_id = bus.node_id
        self.presence = presence
        self.on_change = on_change
        self.heartbeat_s = heartbeat_s
        self._redis = bus.redis
        self._node_key = f"{prefix}node:{self.node_id}"
        self._prefix = prefix
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def _presence_key(self, node: str) -> str:
        return f"{self._prefix}presence:{node}"

    def _node(self, node: str) -> str:
        return f"{self._prefix}node:{node}"

    async def start(self) -> None:
        self.presence.listener = self._local_changed
        self.bus.subscribe(PRESENCE, self._on_presence)
        self.bus.resumed.append(self._resumed)
        await self._beat()
        await self.bus.settled()  # a change published after the load comes live
        await self._load()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._flush_loop()), loop.create_task(self._beat_loop())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.presence.listener = None
        try:
            await self._redis.delete(self._node_key, self._presence_key(self.node_id))
            await self.bus.publish(PRESENCE, json.dumps({"node": self.node_id, "gone": True}))
        except (RedisError, OSError) as e:
            log.warning("cluster: could not sign off from Redis (%s)", e)

    # ------------------------------------------------------------ this node's entries
    def _local_changed(self, adviser_id: str) -> None:
        self._dirty.add(adviser_id)
        self._wake.set()

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._flush()
            except (RedisError, OSError) as e:
                log.error("cluster: publishing presence failed (%s); retrying", e)
                await asyncio.sleep(self.heartbeat_s)
                self._wake.set()

    async def _flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        key = self._presence_key(self.node_id)
        for aid in sorted(dirty):
            entry = self.presence.local(aid)
            try:
                if entry is None:
                    await self._redis.hdel(key, aid)
                else:
                    await self._redis.hset(key, aid, json.dumps(list(entry)))
                    await self._redis.expire(key, int(self.heartbeat_s * 3) + 1)
                await self.bus.publish(
                    PRESENCE,
                    json.dumps(
                        {
                            "node": self.node_id,
                            "adviser": aid,
                            "entry": None if entry is None else list(entry),
                        }
                    ),
                )
            except BaseException:
                self._dirty.add(aid)
                raise

    def _resumed(self) -> None:
        # Redis was gone: what this node published meanwhile is lost for the others.
        self._dirty.update(self.presence.local_entries())
        self._wake.set()

    # ------------------------------------------------------------ other nodes
    def _on_presence(self, payload: str, _frame: Routed | None) -> None:
        msg = json.loads(payload)
        node = msg["node"]
        if node == self.node_id:
            return
        if msg.get("gone"):
            self.bus.forget_node(node)
            changed = self.presence.drop_node(node)
        else:
            raw = msg["entry"]
            self.presence.apply_remote(node, msg["adviser"], None if raw is None else Entry(*raw))
            changed = True
        if changed:
            self.on_change()

    async def _load(self) -> None:
        """The entries of the nodes that are up (at start)."""
        async for raw in self._redis.scan_iter(match=self._presence_key("*")):
            key = raw.decode() if isinstance(raw, bytes) else raw
            node = key.rsplit(":", 1)[1]
            if node == self.node_id or not await self._redis.exists(self._node(node)):
                continue
            for aid, value in (await self._redis.hgetall(key)).items():
                adviser_id = aid.decode() if isinstance(aid, bytes) else aid
                self.presence.apply_remote(node, adviser_id, Entry(*json.loads(value)))

    async def _beat(self) -> None:
        ttl = int(self.heartbeat_s * 3) + 1
        await self._redis.set(self._node_key, "1", ex=ttl)
        if self.presence.local_entries():
            await self._redis.expire(self._presence_key(self.node_id), ttl)

    async def _beat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self._beat()
                gone = False
                for node in self.presence.nodes():
                    if not await self._redis.exists(self._node(node)):
                        log.warning(
                            "cluster: node %s stopped beating; its advisers go offline", node
                        )
                        # not forgotten by the bus: a node that only missed its beats
                        # (Redis paused) still follows its topics, and must hear them
                        gone = self.presence.drop_node(node) or gone
                if gone:
                    self.on_change()
            except (RedisError, OSError) as e:
                log.error("cluster: heartbeat failed (%s)", e)
