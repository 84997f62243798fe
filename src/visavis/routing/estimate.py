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


def estimate_wait_s(
    position: int,
    capacity: Capacity,
    handle_times_s: Sequence[float],
    pickup_times_s: Sequence[float],
) -> float | None:
    """Seconds until an adviser takes the customer; None when nobody is available."""
    if position < 1:
        raise ValueError("position starts at 1")
    if capacity.slots <= 0:
        return None
    pickup = median_or(pickup_times_s, DEFAULT_PICKUP_S)
    if position <= capacity.free:
        return pickup
    handle = median_or(handle_times_s, DEFAULT_HANDLE_S)
    rate = capacity.slots / handle  # slots freed per second
    return (position - capacity.free) / rate + pickup
