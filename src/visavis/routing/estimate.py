"""Estimated waiting time for a place in a team's queue.

Model (documented in docs/architecture.md, "Wait estimate"): the advisers who are
available offer `free` open chat slots now; the place `position` (1 = next) is served
at once if position <= free, after the usual pick-up delay. Otherwise it waits for
(position - free) slots to open. Slots open at rate `slots / handle_time`, where
`slots` is the advisers' total chat capacity and `handle_time` the median duration of
the team's recent conversations (accepted -> ended). Medians, not means: one
forgotten chat left open for hours must not inflate every estimate.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_HANDLE_S = 300.0  # until the team has history
DEFAULT_PICKUP_S = 30.0


@dataclass(frozen=True)
class Capacity:
    slots: int  # sum of max_chats of available advisers
    free: int  # of those, not in use


def median_or(values: Sequence[float], default: float) -> float:
    clean = [v for v in values if v >= 0]
    return statistics.median(clean) if clean else default


@dataclass(frozen=True)
class Medians:
    """A team's typical times (seconds), computed once for all its waiting places."""

    handle_s: float
    pickup_s: float

    @classmethod
    def of(cls, handle_times_s: Sequence[float], pickup_times_s: Sequence[float]) -> Medians:
        return cls(
            median_or(handle_times_s, DEFAULT_HANDLE_S), median_or(pickup_times_s, DEFAULT_PICKUP_S)
        )

    def wait_s(self, position: int, capacity: Capacity) -> float | None:
        """Seconds until an adviser takes the customer at `position`; None when nobody
        is available."""
        if position < 1:
            raise ValueError("position starts at 1")
        if capacity.slots <= 0:
            return None
        if position <= capacity.free:
            return self.pickup_s
        rate = capacity.slots / self.handle_s  # slots freed per second
        return (position - capacity.free) / rate + self.pickup_s


def estimate_wait_s(
    position: int,
    capacity: Capacity,
    handle_times_s: Sequence[float],
    pickup_times_s: Sequence[float],
) -> float | None:
    """Seconds until an adviser takes the customer; None when nobody is available."""
    return Medians.of(handle_times_s, pickup_times_s).wait_s(position, capacity)
