"""The Redis bus, presence across nodes and offer claims, on a real redis-server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator

import pytest
from redis_server import RedisServer
from until import until

from visavis.auth.ratelimit import RedisLimiters
from visavis.bus import Routed
from visavis.bus import redis as bus_redis
from visavis.bus.redis import RedisBus
from visavis.routing.presence import Presence
from visavis.web.cluster import Cluster, RedisClaims, RedisHolders


@pytest.fixture
async def two_buses(redis_server: RedisServer) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    a, b = RedisBus(redis_server.url), RedisBus(redis_server.url)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


class Inbox:
    def __init__(self) -> None:
        self.got: list[str] = []
        self.frames: list[Routed | None] = []
        self._new = asyncio.Event()

    def __call__(self, payload: str, frame: Routed | None) -> None:
        self.got.append(payload)
        self.frames.append(frame)
        self._new.set()

    async def wait(self, n: int) -> list[str]:
        async def until() -> None:
            while len(self.got) < n:
                self._new.clear()
                await self._new.wait()

        await asyncio.wait_for(until(), 10)
        return self.got


async def test_a_message_reaches_both_nodes_once_and_unchanged(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = two_buses
    here, there, elsewhere = Inbox(), Inbox(), Inbox()
    a.subscribe("conv:1", here)
    b.subscribe("conv:1", there)
    b.subscribe("conv:2", elsewhere)
    await b.settled()
    payload = '{"v":1,"type":"event","body":{"text":"Grüße \\"dich\\"","n":[1,2]}}'
    await a.publish("conv:1", payload)
    assert await there.wait(1) == [payload]
    assert here.got == [payload]  # at once, in publish; not again from Redis
    await a.publish("conv:1", '{"n":2}')
    assert await there.wait(2) == [payload, '{"n":2}']
    assert here.got == [payload, '{"n":2}'] and elsewhere.got == []
    b.unsubscribe("conv:1", there)
    await b.publish("conv:1", '{"n":3}')
    assert await here.wait(3) == [payload, '{"n":2}', '{"n":3}']
    assert len(there.got) == 2


async def test_the_frame_goes_along_in_the_publishing_node_only(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    """The publisher's own handlers route from the frame it gave; the other node gets
    the text alone (Redis carries no more) and decodes it."""
    a, b = two_buses
    here, there = Inbox(), Inbox()
    a.subscribe("conv:7", here)
    b.subscribe("conv:7", there)
    await b.settled()
    frame = {"v": 1, "type": "typing", "conversation_id": "7", "active": True}
    payload = '{"v":1,"type":"typing","conversation_id":"7","active":true}'
    await a.publish("conv:7", payload, frame)
    assert await there.wait(1) == [payload] and there.frames == [None]
    assert here.got == [payload] and here.frames[0] is frame


async def test_what_one_loop_turn_publishes_goes_to_redis_as_one_batch(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    """Publishing waits for no round trip: a group commit's events leave in one
    PUBLISH, and the other node gets them in order, each once, with the bus's lag."""
    a, b = two_buses
    there, other = Inbox(), Inbox()
    b.subscribe("conv:1", there)
    b.subscribe("conv:2", other)
    await b.settled()
    lags: list[float] = []
    b.on_lag = lags.append
    before = a.batches
    payloads = [f'{{"n":{i},"text":"Grüße \\"{i}\\""}}' for i in range(100)]
    for i, payload in enumerate(payloads):
        await a.publish(f"conv:{1 + i % 2}", payload)
    assert await there.wait(50) == payloads[0::2]
    assert await other.wait(50) == payloads[1::2]
    assert a.batches == before + 1
    assert len(lags) == 1 and 0 <= lags[0] < 60


async def test_a_stopping_node_sends_what_it_published_last(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = two_buses
    inbox = Inbox()
    b.subscribe("presence", inbox)
    await b.settled()
    await a.publish("presence", '{"gone":true}')
    await a.close()  # the fixture's second close finds nothing left to do
    assert await inbox.wait(1) == ['{"gone":true}']


async def test_an_outbox_redis_does_not_take_keeps_only_the_newest(
    two_buses: tuple[RedisBus, RedisBus], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two_buses
    monkeypatch.setattr(bus_redis, "MAX_OUTBOX", 5)
    inbox = Inbox()
    b.subscribe("queue", inbox)
    await b.settled()
    for i in range(8):  # in one loop turn: the sender has sent nothing yet
        await a.publish("queue", f'{{"n":{i}}}')
    assert await inbox.wait(5) == [f'{{"n":{i}}}' for i in range(3, 8)]
    assert a.dropped == 3


async def test_a_node_gets_only_what_it_follows_and_never_its_own(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    """Redis routes each message to the nodes following its topic (the set
    `<prefix>f:<topic>`): a batch nobody else follows is not published at all, a
    node's own batches never come back, and an unfollowed topic stops coming."""
    a, b = two_buses
    channels: dict[str, list[str]] = {a.node_id: [], b.node_id: []}  # what each got
    pubsub = a.redis.pubsub()
    await pubsub.subscribe(*(f"visavis:bus:~{node}" for node in channels))
    for _ in channels:  # both subscriptions confirmed before anything is published
        confirmed = await pubsub.get_message(timeout=10)
        assert confirmed is not None and confirmed["type"] == "subscribe"
    here, there = Inbox(), Inbox()
    a.subscribe("conv:1", here)
    a.subscribe("conv:2", here)
    b.subscribe("conv:2", there)
    await a.settled()
    await b.settled()
    assert await a.redis.smembers("visavis:bus:f:conv:2") == {
        a.node_id.encode(),
        b.node_id.encode(),
    }
    kept = a.kept
    await a.publish("conv:1", '{"n":1}')  # a alone follows it: not even sent to Redis
    await until(lambda: a.kept == kept + 1)
    await a.publish("conv:1", '{"n":2}')
    await a.publish("conv:2", '{"n":3}')
    assert await there.wait(1) == ['{"n":3}']
    assert here.got == ['{"n":1}', '{"n":2}', '{"n":3}']

    # an end mark on each channel, published after the script's (b got them): read
    # up to both marks, everything the channels got is read
    for node in channels:
        await a.redis.publish(f"visavis:bus:~{node}", "end")
    ends = 0
    while ends < 2:
        m = await pubsub.get_message(timeout=10)
        assert m is not None, "an end mark did not come"
        if m["data"] == b"end":
            ends += 1
        else:
            channels[m["channel"].decode().rpartition("~")[2]].append(m["data"].decode())

    def chats(node: str) -> list[tuple[str, list[list[str]]]]:
        """(sender, chat entries) of what reached `node`'s channel; besides those,
        follow notices and their answers pass there (bus/interest.py)."""
        got = [json.loads(m) for m in channels[node]]
        return [
            (m["node"], entries)
            for m in got
            if "batch" in m and (entries := [e for e in m["batch"] if e[0].startswith("conv:")])
        ]

    assert chats(a.node_id) == []
    assert chats(b.node_id) == [(a.node_id, [["conv:2", '{"n":3}']])]
    b.unsubscribe("conv:2", there)
    await b.settled()
    assert await a.redis.smembers("visavis:bus:f:conv:2") == {a.node_id.encode()}
    await until(lambda: not a.others_follow("conv:2"))  # b told a, too
    await pubsub.aclose()


async def test_a_follow_is_known_everywhere_before_it_is_settled(
    redis_server: RedisServer, two_buses: tuple[RedisBus, RedisBus]
) -> None:
    """A node keeps what no other node follows; a node that follows a topic waits in
    `settled` until every other node knows, so the very next message comes: also
    from a node started later, which reads the follows from Redis first."""
    a, b = two_buses
    assert not a.others_follow("conv:3") and not b.others_follow("conv:3")
    there = Inbox()
    b.subscribe("conv:3", there)
    await b.settled()
    assert a.others_follow("conv:3")
    await a.publish("conv:3", '{"n":1}')
    assert await there.wait(1) == ['{"n":1}']
    c = RedisBus(redis_server.url)
    await c.start()
    try:
        assert c.others_follow("conv:3") and not c.others_follow("conv:4")
        await c.publish("conv:3", '{"n":2}')
        assert await there.wait(2) == ['{"n":1}', '{"n":2}']
        kept = c.kept
        await c.publish("conv:4", '{"n":3}')
        await until(lambda: c.kept == kept + 1)
    finally:
        await c.close()
    # a node that says it stops (cluster.py's `gone`) is forgotten
    a.subscribe("conv:5", Inbox())
    await a.settled()
    assert b.others_follow("conv:5")
    b.forget_node(a.node_id)
    assert not b.others_follow("conv:5")


async def test_a_gone_node_leaves_the_sets_of_what_is_published(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    """A node killed without signing off stays in its topics' sets; the first batch
    for such a topic finds nobody on its channel and takes it out."""
    a, b = two_buses
    there = Inbox()
    b.subscribe("conv:5", there)
    await b.settled()
    await a.redis.sadd("visavis:bus:f:conv:5", "0123456789ab")  # a node long gone
    await a.publish("conv:5", '{"n":1}')
    assert await there.wait(1) == ['{"n":1}']  # in the script that took it out
    assert await a.redis.smembers("visavis:bus:f:conv:5") == {b.node_id.encode()}


async def test_a_closed_node_leaves_its_sets(two_buses: tuple[RedisBus, RedisBus]) -> None:
    a, b = two_buses
    b.subscribe("conv:6", Inbox())
    await b.settled()
    assert await a.redis.sismember("visavis:bus:f:conv:6", b.node_id)
    await b.close()
    assert not await a.redis.exists("visavis:bus:f:conv:6")


async def test_the_bus_comes_back_after_a_redis_restart(
    redis_server: RedisServer, two_buses: tuple[RedisBus, RedisBus]
) -> None:
    a, b = two_buses
    inbox = Inbox()
    b.subscribe("queue", inbox)
    await b.settled()
    resumed = asyncio.Event()
    b.resumed.append(resumed.set)
    redis_server.stop()
    await a.publish("queue", '{"lost":true}')  # logged, not raised: the write stands
    await until(lambda: a.dropped == 1)  # the sender found Redis gone
    redis_server.start()
    await asyncio.wait_for(resumed.wait(), 20)
    await a.publish("queue", '{"n":1}')
    assert await inbox.wait(1) == ['{"n":1}']
    assert a.dropped == 1


async def test_a_redis_that_stops_answering_costs_a_batch_not_the_node(
    redis_server: RedisServer,
    two_buses: tuple[RedisBus, RedisBus],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Paused (SIGSTOP): the connection stays up and nothing answers. The batch on its
    way is dropped after the publish timeout, as a failed PUBLISH is; the node goes on,
    and once Redis answers again the next batch arrives."""
    a, b = two_buses
    monkeypatch.setattr(bus_redis, "PUBLISH_TIMEOUT_S", 0.5)
    inbox = Inbox()
    b.subscribe("queue", inbox)
    await b.settled()
    assert redis_server.proc is not None
    os.kill(redis_server.proc.pid, signal.SIGSTOP)
    try:
        await a.publish("queue", '{"lost":true}')
        await until(lambda: a.dropped == 1)
    finally:
        os.kill(redis_server.proc.pid, signal.SIGCONT)
    await a.publish("queue", '{"n":1}')
    await until(lambda: '{"n":1}' in inbox.got)
    # the dropped batch may still come, late and first: it was written before Redis paused
    assert inbox.got in (['{"n":1}'], ['{"lost":true}', '{"n":1}'])
    assert a.dropped == 1


async def test_presence_and_offer_claims_across_nodes(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = two_buses
    pa, pb = Presence(), Presence()
    changed = asyncio.Event()
    ca = Cluster(a, pa, lambda: None, heartbeat_s=0.5)
    cb = Cluster(b, pb, changed.set, heartbeat_s=0.5)
    await ca.start()
    await cb.start()
    assert pa.connect("anna", "available", 1, 3, None)
    await asyncio.wait_for(changed.wait(), 10)
    assert pb.available() == {"anna": (1, 3)} and pb.status("anna") == "available"
    # Anna opens a second tab on node B: not "came online", she already was
    assert not pb.connect("anna", "available", 1, 3, None)
    changed.clear()
    pa.set_status("anna", "away")
    await asyncio.wait_for(changed.wait(), 10)
    assert pb.local("anna") is not None and "anna" in pb.available()  # B's own entry first
    assert pb.disconnect("anna") is False  # still on node A
    assert pb.status("anna") == "away"
    # a node that stops says so: its advisers go offline at once
    changed.clear()
    await ca.stop()
    await asyncio.wait_for(changed.wait(), 10)
    assert pb.status("anna") == "offline"

    claims_a, claims_b = RedisClaims(a), RedisClaims(b)
    assert await claims_a.claim("c1", "anna", 30)
    assert not await claims_b.claim("c1", "ben", 30)  # offered to one adviser at a time
    await claims_b.release("c1", "ben")  # not Ben's: stays
    assert not await claims_b.claim("c1", "ben", 30)
    await claims_a.release("c1", "anna")
    assert await claims_b.claim("c1", "ben", 30)
    await cb.stop()


async def test_a_killed_node_goes_offline_when_its_beat_stops(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = two_buses
    pa, pb = Presence(), Presence()
    changed = asyncio.Event()
    ca = Cluster(a, pa, lambda: None, heartbeat_s=0.3)
    cb = Cluster(b, pb, changed.set, heartbeat_s=0.3)
    await ca.start()
    await cb.start()
    pa.connect("anna", "available", 0, 3, None)
    await asyncio.wait_for(changed.wait(), 10)
    # node A dies without a word: its tasks stop, its keys expire
    for task in ca._tasks:
        task.cancel()
    changed.clear()
    await asyncio.wait_for(changed.wait(), 10)
    assert pb.status("anna") == "offline"
    await cb.stop()


async def test_rate_limits_are_shared_by_the_nodes(
    redis_server: RedisServer, two_buses: tuple[RedisBus, RedisBus]
) -> None:
    a, b = two_buses
    on_a, on_b = RedisLimiters(a.redis)("login_ip", 3), RedisLimiters(b.redis)("login_ip", 3)
    got = [await on_a.allow("1.2.3.4"), await on_b.allow("1.2.3.4"), await on_a.allow("1.2.3.4")]
    assert got == [True, True, True]
    assert not await on_b.allow("1.2.3.4")  # the budget is the installation's, not a node's
    assert await on_b.allow("5.6.7.8")
    other = RedisLimiters(a.redis)("code_ip", 3)  # another limit, its own buckets
    assert await other.allow("1.2.3.4")
    # Redis gone: each node counts on its own rather than refusing everyone
    redis_server.stop()
    assert await on_a.allow("9.9.9.9")


async def test_call_holders_are_the_same_on_every_node(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    a, b = two_buses
    on_a, on_b = RedisHolders(a), RedisHolders(b)
    assert await on_a.hold_if_free("c1:call1", "customer", "tab1") == "tab1"
    assert await on_b.hold_if_free("c1:call1", "customer", "tab2") == "tab1"
    assert await on_b.hold("c1:call1", "customer", "tab2") == "tab1"  # call.take
    await on_a.release("c1:call1", "customer", "tab1")  # no longer tab1's: stays
    assert await on_a.holder("c1:call1", "customer") == "tab2"
    await on_b.release("c1:call1", "customer", "tab2")
    assert await on_a.holder("c1:call1", "customer") is None
    assert await on_a.hold("c1:call1", "adviser", "console") is None
    await on_b.drop("c1:call1")
    assert await on_a.holder("c1:call1", "adviser") is None
