"""The bus's own connection to Redis (bus/resp.py), on a real redis-server."""

from __future__ import annotations

import asyncio

import hiredis
import pytest
from redis_server import RedisServer

from visavis.bus.resp import Address, RespLink


def test_the_url_is_read_as_redis_py_reads_it() -> None:
    assert Address.from_url("redis://10.0.0.5:6380/2") == Address("10.0.0.5", 6380)
    assert Address.from_url("redis://redis") == Address("redis", 6379)
    assert Address.from_url("redis://:geheim@h:1") == Address("h", 1, password="geheim")
    assert Address.from_url("redis://bus:geheim@h") == Address(
        "h", 6379, username="bus", password="geheim"
    )
    assert Address.from_url("rediss://h:6380").tls
    assert Address.from_url("unix:///run/redis.sock?db=1").path == "/run/redis.sock"


async def test_replies_come_in_order_and_an_error_reply_is_raised(
    redis_server: RedisServer,
) -> None:
    link = await RespLink.open(Address.from_url(redis_server.url))
    try:
        calls = [link.call("SET", "k", "v"), link.call("GET", "k"), link.call("NOSUCHCOMMAND")]
        calls.append(link.call("PUBLISH", "nobody", b"\xff\x00 bytes"))
        done = await asyncio.gather(*calls, return_exceptions=True)
        assert done[:2] == [b"OK", b"v"] and done[3] == 0
        assert isinstance(done[2], hiredis.ReplyError) and "unknown command" in str(done[2])
        assert await link.call("GET", "k") == b"v"  # still usable
    finally:
        link.close()


async def test_a_pattern_subscription_hands_over_each_message(redis_server: RedisServer) -> None:
    got: list[tuple[bytes, bytes]] = []
    arrived = asyncio.Event()

    def on_message(channel: bytes, data: bytes) -> None:
        got.append((channel, data))
        if len(got) == 3:
            arrived.set()

    address = Address.from_url(redis_server.url)
    sub = await RespLink.open(address, on_message)
    pub = await RespLink.open(address)
    try:
        assert await sub.call("PSUBSCRIBE", "bus:*") == [b"psubscribe", b"bus:*", 1]
        for i in range(3):
            pub.call("PUBLISH", f"bus:{i}", f"Grüße {i}".encode())
        await pub.call("PUBLISH", "other", "not for us")
        await asyncio.wait_for(arrived.wait(), 10)
        assert got == [(f"bus:{i}".encode(), f"Grüße {i}".encode()) for i in range(3)]
    finally:
        sub.close()
        pub.close()


async def test_a_password_is_sent_and_a_wrong_one_refused(redis_server: RedisServer) -> None:
    admin = await RespLink.open(Address.from_url(redis_server.url))
    await admin.call("CONFIG", "SET", "requirepass", "geheim")
    try:
        host = redis_server.url.removeprefix("redis://")
        link = await RespLink.open(Address.from_url(f"redis://:geheim@{host}"))
        assert await link.call("PING") == b"PONG"
        link.close()
        with pytest.raises(hiredis.ReplyError):
            await RespLink.open(Address.from_url(f"redis://:falsch@{host}"))
    finally:
        await admin.call("CONFIG", "SET", "requirepass", "")
        admin.close()


async def test_a_lost_connection_fails_what_waits_and_says_closed(
    redis_server: RedisServer,
) -> None:
    link = await RespLink.open(Address.from_url(redis_server.url))
    blocked = link.call("BLPOP", "never", "0")  # answered only when the list gets an item
    redis_server.stop()
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(blocked, 10)
    assert "closed" in await asyncio.wait_for(link.closed, 10)
    with pytest.raises(ConnectionError):
        link.call("PING")
