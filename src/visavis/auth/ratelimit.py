"""Token buckets keyed by string (IP, e-mail, socket).

`RateLimiter` keeps its buckets in memory (one process). With several nodes,
`RedisLimiters` makes limiters whose buckets live in Redis, so a limit holds for the
whole installation, not per node: a guesser spreading attempts over the nodes gets no
more. When Redis does not answer, a shared limiter falls back to its own in-memory
buckets (per node) rather than refusing everyone or letting everyone through.
Per-socket frame budgets stay in memory (`TokenBucket`): a socket lives on one node.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger(__name__)


class TokenBucket:
    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate_per_s: float, burst: float) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self, cost: float = 1.0) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


class Limiter(Protocol):
    async def allow(self, key: str) -> bool: ...


# (name of the limit, e.g. "login_ip"; allowed per minute) -> a limiter
MakeLimiter = Callable[[str, int], Limiter]


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None, max_keys: int = 100_000) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst if burst is not None else per_minute)
        self._buckets: dict[str, TokenBucket] = {}
        self._max_keys = max_keys

    async def allow(self, key: str) -> bool:
        return self.allow_now(key)

    def allow_now(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._prune()
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst)
        return bucket.take()

    def _prune(self) -> None:
        # Full buckets carry no information; drop them to bound memory under a flood.
        now = time.monotonic()
        for key in [
            k for k, b in self._buckets.items() if b.tokens + (now - b.stamp) * b.rate >= b.burst
        ]:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:
            self._buckets.clear()


def local_limiter(name: str, per_minute: int) -> Limiter:
    return RateLimiter(per_minute)


# One bucket per key in a hash (tokens, stamp in ms of Redis' clock, so that nodes
# with skewed clocks agree); expires once it would be full again.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(b[1]) or burst
local stamp = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - stamp) * rate)
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return ok
"""


class RedisRateLimiter:
    def __init__(self, client: aioredis.Redis, key_prefix: str, per_minute: int) -> None:
        self._redis = client
        self._prefix = key_prefix
        self._rate_per_ms = per_minute / 60_000.0
        self._burst = float(per_minute)
        self._fallback = RateLimiter(per_minute)
        self._failing = False

    async def allow(self, key: str) -> bool:
        if self._rate_per_ms <= 0:
            return False
        # here, not at the top: redis-py is loaded only where Redis is configured
        from redis.exceptions import RedisError

        try:
            ok = await self._redis.eval(
                _TAKE, 1, self._prefix + key, repr(self._rate_per_ms), repr(self._burst)
            )
        except (RedisError, OSError) as e:
            if not self._failing:
                log.error(
                    "rate limit %s: Redis failed (%s); counting on this node", self._prefix, e
                )
            self._failing = True
            return self._fallback.allow_now(key)
        self._failing = False
        return bool(ok)


class RedisLimiters:
    """A `MakeLimiter` whose limiters share their buckets through Redis."""

    def __init__(self, client: aioredis.Redis, prefix: str = "visavis:rate:") -> None:
        self._redis = client
        self._prefix = prefix

    def __call__(self, name: str, per_minute: int) -> Limiter:
        return RedisRateLimiter(self._redis, f"{self._prefix}{name}:", per_minute)
