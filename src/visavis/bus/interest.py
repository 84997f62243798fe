"""Which topics the other nodes follow, as this node knows it (bus/redis.py): a batch
whose topics no other node follows needs no trip to Redis at all.

With `serve --workers N` a conversation's sockets share one worker (web/handoff.py),
so most chat batches concern nobody else; sending each of them to Redis anyway (one
EVALSHA that then publishes nothing) cost a worker a write, a read and two wakeups
per batch: about 1.7 reads per chat message against 1.3 for one process alone.

The knowledge must never miss a follower: a node that starts to follow a topic
registers (SADD) and then tells every other node on the topic `FOLLOWS`, and waits
until each one that got the notice answered that it knows (`ack`) before its
`settled` returns. A node that skipped Redis for a batch had formed it before it
learnt of the follower, so the batch's events were committed before the follower
reads the database. A node that starts, or subscribes again after losing Redis,
reads every `<prefix>f:<topic>` set before it skips anything (`ready`); notices
that come meanwhile add to what it reads. What it knows may be more than the truth
(a killed node's follows stay known: a node that only missed its heartbeats still
follows them): that costs a trip to Redis, never a lost event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis.asyncio as aioredis

FOLLOWS = "bus.follows"  # the follow notices' topic; every node follows it
FOLLOWERS = "f:"  # after the prefix, before the topic: the set of nodes following it


def notice(node: str, on: list[str], off: list[str], ack: str) -> str:
    """A node's follow changes, for the others; answered with `ack`."""
    return json.dumps({"node": node, "on": on, "off": off, "ack": ack}, separators=(",", ":"))


class Interest:
    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self._others: dict[str, set[str]] = {}  # topic: the other nodes following it
        # what is known is complete: loaded since the node last subscribed to Redis
        self.ready = False

    def anyone_else(self, topics: Iterable[str]) -> bool:
        """Might another node follow one of these topics? True until `ready`."""
        if not self.ready:
            return True
        others = self._others
        return any(others.get(topic) for topic in topics)

    def apply(self, message: dict[str, Any]) -> str:
        """A notice from another node taken in; returns the channel suffix (its node
        id) and leaves the `ack` to the caller, who answers once this returned."""
        node = message["node"]
        if not isinstance(node, str) or node == self.node_id:
            raise ValueError(f"a follow notice from {node!r}")
        for topic in message["on"]:
            self._others.setdefault(topic, set()).add(node)
        for topic in message["off"]:
            self._drop(topic, node)
        return node

    def forget_node(self, node: str) -> None:
        """A node that said it is gone (it stopped cleanly)."""
        for topic in [t for t, nodes in self._others.items() if node in nodes]:
            self._drop(topic, node)

    def _drop(self, topic: str, node: str) -> None:
        nodes = self._others.get(topic)
        if nodes is not None:
            nodes.discard(node)
            if not nodes:
                del self._others[topic]

    async def load(self, redis: aioredis.Redis, prefix: str) -> None:
        """Every follower set in Redis, added to what notices told meanwhile."""
        start = len(prefix) + len(FOLLOWERS)
        keys = [key async for key in redis.scan_iter(match=f"{prefix}{FOLLOWERS}*", count=1000)]
        for at in range(0, len(keys), 1000):
            chunk = keys[at : at + 1000]
            async with redis.pipeline(transaction=False) as pipe:
                for key in chunk:
                    pipe.smembers(key)
                found = await pipe.execute()
            for key, members in zip(chunk, found, strict=True):
                name = key.decode() if isinstance(key, bytes) else key
                nodes = {m.decode() if isinstance(m, bytes) else m for m in members}
                nodes.discard(self.node_id)
                if nodes:
                    self._others.setdefault(name[start:], set()).update(nodes)
        self.ready = True


class Answers:
    """This node's follow notices on their way, and the answers each waits for. An
    answer can come before the script said how many nodes heard the notice (it is
    read on another link): counted down from 0, then up by those that heard it."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self._sent = 0
        self._waiting: dict[str, tuple[list[int], asyncio.Future[None]]] = {}

    def open(self) -> str:
        """A new notice's `ack`, answers counted from now on."""
        self._sent += 1
        ack = f"{self.node_id}:{self._sent}"
        self._waiting[ack] = ([0], asyncio.get_running_loop().create_future())
        return ack

    def heard(self, ack: str, nodes: int) -> asyncio.Future[None] | None:
        """`nodes` heard the notice: done once each answered; None: nothing to wait for."""
        count, done = self._waiting[ack]
        count[0] += nodes
        if count[0] <= 0:
            self.close(ack)
            return None
        return done

    def answered(self, ack: object) -> None:
        waiting = self._waiting.get(ack) if isinstance(ack, str) else None
        if waiting is None:
            return  # late, or an unfollow's
        count, done = waiting
        count[0] -= 1
        if count[0] <= 0 and not done.done():
            done.set_result(None)

    def close(self, ack: str) -> None:
        self._waiting.pop(ack, None)
