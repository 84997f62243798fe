"""Advisers' home workers (web/homes.py), on a real redis-server."""

from __future__ import annotations

import asyncio
import uuid

import redis.asyncio as aioredis
from redis_server import RedisServer

from visavis.web.homes import Homes


async def test_advisers_are_spread_evenly_and_keep_their_home(redis_server: RedisServer) -> None:
    """Twenty advisers seen by two workers at once get ten homes on each; asked
    again, by either worker, each keeps the one it got."""
    one, two = aioredis.Redis.from_url(redis_server.url), aioredis.Redis.from_url(redis_server.url)
    try:
        a, b = Homes(one, 2), Homes(two, 2)
        advisers = [uuid.uuid4().hex for _ in range(20)]
        homes = await asyncio.gather(*(homes.of(aid) for aid in advisers for homes in (a, b)))
        by_adviser = dict(zip([aid for aid in advisers for _ in (a, b)], homes, strict=True))
        assert [homes[i] for i in range(0, 40, 2)] == [homes[i] for i in range(1, 40, 2)]
        assert sorted(by_adviser.values()).count(0) == 10
        fresh = Homes(one, 2)  # a worker started later learns them from Redis
        assert [await fresh.of(aid) for aid in advisers] == [by_adviser[a] for a in advisers]
        # another number of workers is another spread, of its own
        three = Homes(one, 3)
        counts = [0, 0, 0]
        for aid in advisers[:9]:
            counts[await three.of(aid)] += 1
        assert counts == [3, 3, 3]
    finally:
        await one.aclose()
        await two.aclose()
