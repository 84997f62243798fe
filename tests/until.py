"""Waiting in a test for a state that the code under test offers no event for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], bool]) -> None:
    """Until `condition()` holds, looked at between the loop's turns: an event, not a
    time, so a busy machine only makes it later. Bounded only so that a hang fails."""
    async with asyncio.timeout(120):
        while not condition():  # noqa: ASYNC110 (no event to wait on: see above)
            await asyncio.sleep(0.001)
