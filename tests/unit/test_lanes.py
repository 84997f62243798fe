"""An adviser's frames: in order per conversation, side by side across conversations,
a frame naming no conversation after everything before it (web/lanes.py)."""

from __future__ import annotations

import asyncio

from visavis.web.lanes import MAX_IN_FLIGHT, Lanes, Work


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def work(self, name: str, gated: bool = False) -> Work:
        async def run() -> None:
            self.lines.append(f"start {name}")
            if gated:
                await self.gates.setdefault(name, asyncio.Event()).wait()
            self.lines.append(f"end {name}")

        return run

    def open(self, name: str) -> None:
        self.gates.setdefault(name, asyncio.Event()).set()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_conversation_keeps_its_order_while_another_goes_ahead() -> None:
    lanes, log = Lanes(), Log()
    await lanes.do_run("a", log.work("a1", gated=True))
    await lanes.do_run("a", log.work("a2"))
    await lanes.do_run("b", log.work("b1"))
    await settle()
    # a1 is stuck (a slow write): b1 is done, a2 waits behind a1
    assert log.lines == ["start a1", "start b1", "end b1"]
    log.open("a1")
    await lanes.do_drain()
    assert log.lines[3:] == ["end a1", "start a2", "end a2"]


async def test_a_frame_without_a_conversation_waits_for_all_before_it() -> None:
    lanes, log = Lanes(), Log()
    await lanes.do_run("a", log.work("a1", gated=True))
    barrier = asyncio.create_task(lanes.do_run(None, log.work("status")))
    await settle()
    assert "start status" not in log.lines
    log.open("a1")
    await barrier
    assert log.lines == ["start a1", "end a1", "start status", "end status"]


async def test_a_failed_frame_does_not_stop_its_lane() -> None:
    lanes, log = Lanes(), Log()

    async def fails() -> None:
        raise RuntimeError("a handler that did not catch")

    await lanes.do_run("a", fails)
    await lanes.do_run("a", log.work("a2"))
    await lanes.do_drain()
    assert log.lines == ["start a2", "end a2"]


async def test_reading_stops_while_too_many_frames_are_in_flight() -> None:
    lanes, log = Lanes(), Log()
    for i in range(MAX_IN_FLIGHT):
        await lanes.do_run(f"c{i}", log.work(f"c{i}", gated=True))
    one_more = asyncio.create_task(lanes.do_run("late", log.work("late")))
    await settle()
    assert not one_more.done()  # the socket's next frame is not read meanwhile
    log.open("c0")
    await one_more
    await settle()
    assert "end late" in log.lines
    for i in range(1, MAX_IN_FLIGHT):
        log.open(f"c{i}")
    await lanes.do_drain()
