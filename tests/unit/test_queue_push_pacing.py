"""The queue's recompute under a stream of changes (web/queue_push.py): a burst during a
recompute makes one more, and that one rests first as long as the last one took, so a
long queue's recomputes leave the loop to the changes themselves."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from visavis.web.queue_push import PACE, QueuePush


class Recorded(QueuePush):
    """The real scheduling; the recompute itself only records when it ran."""

    def __init__(self, burst_during_first: int, first_takes_s: float) -> None:
        unused = cast(Any, None)
        super().__init__(unused, unused, unused, unused, {}, {}, None, unused, 0)
        self.burst = burst_during_first
        self.first_takes_s = first_takes_s
        self.runs: list[tuple[float, float]] = []  # (started, ended), time.monotonic()
        self.idle = asyncio.Event()

    async def _push_queue_state(self) -> None:
        started = time.monotonic()
        if not self.runs:
            for _ in range(self.burst):
                self.changed()
            await asyncio.sleep(self.first_takes_s)
        self.runs.append((started, time.monotonic()))

    async def _recompute_queue(self) -> None:
        await super()._recompute_queue()
        self.idle.set()

    async def settled(self) -> None:
        await self.idle.wait()


async def test_a_burst_during_a_recompute_makes_one_more_after_a_rest() -> None:
    push = Recorded(burst_during_first=5, first_takes_s=0.05)
    push.changed()
    await push.settled()
    assert len(push.runs) == 2
    (first_start, first_end), (second_start, _) = push.runs
    # a lower bound (the rest is timed around the recompute, so it covers this
    # interval): a busy machine only makes it longer
    assert second_start - first_end >= PACE * (first_end - first_start)


async def test_a_quiet_queue_recomputes_once() -> None:
    push = Recorded(burst_during_first=0, first_takes_s=0.0)
    push.changed()
    await push.settled()
    assert len(push.runs) == 1
