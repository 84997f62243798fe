"""An adviser's socket serves many conversations at once: one lane per conversation.

Frames of one conversation are handled in the order they came, as before; frames of
different conversations are handled side by side. So one conversation's slow command
(a form change waiting for the database's write lock, a document being checked, a
seal) does not hold up what the adviser does in the others. A frame that names no
conversation (ping, status, queue) waits until every lane is idle, because it may
depend on anything sent before it.

A frame that only queues work and never waits (`chat.send`: its message is queued
for the group commit and answered later) needs no task when its lane is idle: the
gateway runs it at once (`idle`), which keeps the order all the same.

A customer's socket has one conversation and needs no lanes (ws.py runs its frames
inline). The handlers catch their own errors (ws.py), so a lane's work never raises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

Work = Callable[[], Coroutine[Any, Any, None]]

# frames of one socket being handled at once; beyond, the socket's next frame is read
# only when one is done (the frame rate limit bounds how fast they come anyway)
MAX_IN_FLIGHT = 32


class Lanes:
    __slots__ = ("_in_flight", "_tails")

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Task[None]] = {}  # lane -> its last frame's task
        self._in_flight: set[asyncio.Task[None]] = set()

    def idle(self, lane: str) -> bool:
        """Whether no frame of this lane is being handled (one may run at once)."""
        return lane not in self._tails

    async def do_run(self, lane: str | None, work: Work) -> None:
        """Start `work` after the lane's previous frames; returns once it is started
        (or, for `lane` None, once it is done)."""
        if lane is None:
            await self.do_drain()
            await work()
            return
        while len(self._in_flight) >= MAX_IN_FLIGHT:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(_after(self._tails.get(lane), work))
        self._tails[lane] = task
        self._in_flight.add(task)
        task.add_done_callback(lambda done: self._done(lane, done))

    def _done(self, lane: str, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("a frame's handler raised in lane %s", lane, exc_info=exc)
        if self._tails.get(lane) is task:
            del self._tails[lane]

    async def do_drain(self) -> None:
        """Until every frame started so far is done."""
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))


async def _after(previous: asyncio.Task[None] | None, work: Work) -> None:
    if previous is not None:
        await asyncio.wait((previous,))  # its outcome is its own (handlers answer errors)
    await work()
