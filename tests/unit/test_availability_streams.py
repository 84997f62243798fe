"""The availability streams' pushes (web/availability.py, `notify`): a stream is sent a
state only when it differs from the last one it was sent, and a stream that stopped
reading is not sent more, but is not told it was either: once it reads again, the
next change brings it the state as it is then."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from visavis.web.availability import AvailabilityStreams


class Counted(AvailabilityStreams):
    """The real streams and pushes; the state itself is a counter the test sets."""

    def __init__(self) -> None:
        unused = cast(Any, None)
        super().__init__(unused, unused, unused, heartbeat_s=3600)
        self.state = 0

    async def current(
        self,
        topic: str | None = None,
        entries: Any = None,
        team_id: str | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        return {"n": self.state}


async def test_only_changes_are_pushed() -> None:
    streams = Counted()
    stream = streams.stream()
    assert await anext(stream) == '{"n":0}'
    await streams.notify([])  # unchanged: nothing
    streams.state = 1
    await streams.notify([])
    await streams.notify([])
    assert await anext(stream) == '{"n":1}'
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    assert not waiting.done()
    waiting.cancel()


async def test_a_stream_that_stopped_reading_gets_the_latest_state_later() -> None:
    streams = Counted()
    stream = streams.stream()
    assert await anext(stream) == '{"n":0}'
    for n in range(1, 13):  # the stream reads none of these
        streams.state = n
        await streams.notify([])
    got = [await anext(stream) for _ in range(10)]
    assert got == [f'{{"n":{n}}}' for n in range(1, 11)]  # 11 and 12 were not queued
    # nothing changed since 12, but the stream was never sent it: the next notify does
    await streams.notify([])
    # bounded only so that a regression fails instead of hanging (it is queued at once)
    assert await asyncio.wait_for(anext(stream), timeout=60) == '{"n":12}'
