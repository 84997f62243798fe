"""Token buckets keyed by string (IP, e-mail, socket).

In memory per node: with several nodes each enforces its own share, which still
bounds guessing; a shared limiter arrives with the Redis bus.
"""

from __future__ import annotations

import time


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


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None, max_keys: int = 100_000) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst if burst is not None else per_minute)
        self._buckets: dict[str, TokenBucket] = {}
        self._max_keys = max_keys

    def allow(self, key: str) -> bool:
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
