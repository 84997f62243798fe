"""Which worker process is an adviser's home (`visavis serve --workers N`).

A conversation's sockets are served in its adviser's home worker (web/handoff.py),
so a worker's share of the work is its advisers' share. A hash of the adviser's id
split 20 advisers 12 to 8 or worse about half the time, and the busier worker
saturated first (bench/scale_out.py: 25 % against 20 % of a core). So each adviser
gets, when first seen by any worker, the worker with the fewest advisers so far,
and keeps it: the hash `<prefix>homes:<N>` in Redis (adviser id → worker index),
assigned in one Lua script so that two workers seeing two new advisers at once do
not both pick the same one. A worker keeps what it learnt in memory (a home never
changes for a given N); a different N starts a hash of its own.

Homes balance the advisers, not their conversations: an adviser's load follows
their chat limit and the queue.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # redis-py costs a one-process start ~0.3 s: only with workers
    import redis.asyncio as aioredis

log = logging.getLogger(__name__)

KEY_PREFIX = "visavis:"

# KEYS[1]: the hash; ARGV: the adviser's id, the number of workers
_ASSIGN = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then return tonumber(current) end
local n = tonumber(ARGV[2])
local counts = {}
for i = 0, n - 1 do counts[i] = 0 end
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  local i = tonumber(v)
  if i ~= nil and counts[i] ~= nil then counts[i] = counts[i] + 1 end
end
local pick = 0
for i = 1, n - 1 do
  if counts[i] < counts[pick] then pick = i end
end
redis.call('HSET', KEYS[1], ARGV[1], pick)
return pick
"""


class Homes:
    def __init__(self, redis: aioredis.Redis, workers: int, prefix: str = KEY_PREFIX) -> None:
        self._redis = redis
        self._workers = workers
        self._key = f"{prefix}homes:{workers}"
        self._known: dict[str, int] = {}

    async def of(self, adviser_id: str) -> int:
        """The adviser's home worker (assigned now if nobody has seen them yet)."""
        home = self._known.get(adviser_id)
        if home is None:
            found = await self._redis.eval(_ASSIGN, 1, self._key, adviser_id, self._workers)
            home = int(found)
            if not 0 <= home < self._workers:
                raise ValueError(f"adviser {adviser_id}: home {home} of {self._workers}")
            self._known[adviser_id] = home
        return home
