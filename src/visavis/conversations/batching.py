"""Reads that many sockets ask for at once, answered by one query for many keys.

After a restart every socket comes back within a few seconds: each reads its
conversation's summary at `hello` and again at `subscribe`, and the events after
its last seq. One query per read costs more in SQLAlchemy and the driver than in
the database; one query for a few hundred keys costs little more than one for one.

A read waits only while the batcher is busy: the first read starts a query at once
(its batch is whoever asked in the same loop turn); the ones asked meanwhile go into
the next. A query is never shared with a read asked after it started, so a read
still sees every write committed before it was asked (read your own writes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Fetch = Callable[[list[K]], Awaitable[dict[K, V]]]


class Batcher(Generic[K, V]):
    """`fetch(keys)` answers every key it finds; a key it leaves out raises `missing(key)`
    for whoever asked. At most `parallel` queries run at once, each for at most `most`
    keys (SQLite's limits on parameters and expression depth)."""

    __slots__ = ("_fetch", "_missing", "_most", "_parallel", "_running", "_waiting")

    def __init__(
        self,
        fetch: Fetch[K, V],
        missing: Callable[[K], Exception],
        most: int = 200,
        parallel: int = 2,
    ) -> None:
        self._fetch = fetch
        self._missing = missing
        self._most = most
        self._parallel = parallel
        self._running = 0
        # key -> the futures of everyone who asked for it (each their own: one caller
        # cancelled must not cancel the others)
        self._waiting: dict[K, list[asyncio.Future[V]]] = {}

    async def get(self, key: K) -> V:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[V] = loop.create_future()
        self._waiting.setdefault(key, []).append(fut)
        if self._running < self._parallel:
            self._running += 1
            # a loop turn later: the reads asked in this turn share the query
            loop.call_soon(self._start, loop)
        return await fut

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        task = loop.create_task(self._run())
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    async def _run(self) -> None:
        try:
            while self._waiting:
                keys = list(self._waiting)[: self._most]
                batch = {k: self._waiting.pop(k) for k in keys}
                try:
                    found = await self._fetch(keys)
                except Exception as exc:
                    for futs in batch.values():
                        for fut in futs:
                            if not fut.done():
                                fut.set_exception(exc)
                    continue
                for key, futs in batch.items():
                    for fut in futs:
                        if fut.done():  # its caller was cancelled
                            continue
                        if key in found:
                            fut.set_result(found[key])
                        else:
                            fut.set_exception(self._missing(key))
        finally:
            self._running -= 1


_tasks: set[asyncio.Task[None]] = set()  # asyncio keeps only weak references
