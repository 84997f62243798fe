"""SQLite's WAL checkpoints, made beside the commits instead of inside one.

By default SQLite checkpoints inside the commit that makes the WAL pass 1,000 pages:
that commit copies the pages into the database file and fsyncs both before it
returns. Under a steady chat load that happened several times a second and took
tens of milliseconds each time, and every message of the group waiting for that
commit (and of the group gathering behind it) waited as long: it was most of the
chat latency's p99 (bench/chat_latency.py). So the server's connections do not
checkpoint (`PRAGMA wal_autocheckpoint=0`, `PRAGMAS`) and this task does, on a
connection and a thread of its own:

- every `every_s` a PASSIVE checkpoint: it copies what it can without taking a lock
  any writer needs, so commits go on meanwhile (and the event loop too: the sqlite3
  module lets go of the GIL while it works);
- SQLite starts the WAL over only when a writer finds every page of it copied, which
  a PASSIVE checkpoint beside a steady stream of commits never achieves. So once the
  WAL holds `restart_pages`, one more PASSIVE checkpoint runs while this process's
  write lock (`Database`'s) is held: it has only the pages of the last moments to
  copy, and the next commit starts the WAL over. (SQLite's own RESTART mode would
  wait for the writer through its busy handler, which sleeps in steps of up to
  tens of milliseconds, and blocks new writers meanwhile: measured 50-70 ms.)
- SQLite fsyncs the database file only in a checkpoint that copies the WAL whole:
  the locked one, which so flushed every page the round's passes had copied (4,500
  at 2,000 msg/s, 22 ms of `fdatasync` with the writers waiting; `perf trace`). So
  each pass outside the lock flushes the database file itself right after copying,
  and the locked pass finds only its own few pages unsynced.

Several processes on one file (`--workers N` on SQLite): each runs this, but one's
write lock does not stop the others' commits, so past `hard_pages` SQLite's own
RESTART mode bounds the WAL. A process that does not run this (the CLI) keeps
SQLite's default, and the last connection to close checkpoints the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

# for the connections of a process whose checkpoints this makes
PRAGMAS = ("PRAGMA wal_autocheckpoint=0",)
EVERY_S = 0.5
# The WAL is started over once it holds RESTART_PAGES (16 MB with 4 KB pages): the
# larger it grows, the longer every page lookup of every connection takes (SQLite
# searches its index of the WAL), which cost more than the rarer restarts saved.
RESTART_PAGES = 4096
# Several processes on one file (`--workers N`): this process's write lock does not
# stop the others' commits, so its restarts may never find the WAL copied whole.
# Past HARD_PAGES (1 GB) SQLite's RESTART mode starts it over, holding every
# process's writers for as long as that takes.
HARD_PAGES = 262144
LOCKED_PAGES = 256  # at most this many left to copy while the writers wait
CATCH_UP_PASSES = 4
BUSY_TIMEOUT_S = 5.0  # another process writing (the CLI): PASSIVE does not wait on it


class WalCheckpointer:
    def __init__(
        self,
        path: str,
        write_lock: asyncio.Lock,
        every_s: float = EVERY_S,
        restart_pages: int = RESTART_PAGES,
        hard_pages: int = HARD_PAGES,
    ) -> None:
        """`write_lock`: the one every writing transaction of this process holds."""
        self.path = path
        self.write_lock = write_lock
        self.every_s = every_s
        self.restart_pages = restart_pages
        self.hard_pages = hard_pages
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoints")
        self._conn: sqlite3.Connection | None = None
        # the database file, to flush what the passes copied (`_passive`); closed only
        # after every connection of this `Database`: closing any descriptor of a file
        # drops all of this process's POSIX locks on it, SQLite's included
        self._file: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self._stopped = False
        self.rounds = 0
        self.locked_rounds = 0
        self.hard_restarts = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Ends the task, and closes the connection and the file once the round in
        progress (a checkpoint of at most a few thousand pages) has ended; after the
        other connections to the file have closed (`Database.dispose`). Once; then a
        no-op."""
        if self._stopped:
            return
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=False)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            await self.do_round()

    async def do_round(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            pages = await loop.run_in_executor(self._thread, self._passive, True)
            if pages >= self.restart_pages:
                # copy (and flush) again until what the commits added meanwhile (the
                # WAL's growth since the last pass) is little, so the writers wait
                # only for that little and its fsync below
                for _ in range(CATCH_UP_PASSES):
                    before = pages
                    pages = await loop.run_in_executor(self._thread, self._passive, True)
                    if pages - before <= LOCKED_PAGES:
                        break
                async with self.write_lock:
                    # SQLite fsyncs the file itself in this one: it copies the WAL whole
                    await loop.run_in_executor(self._thread, self._passive, False)
                self.locked_rounds += 1
            if pages >= self.hard_pages:
                await loop.run_in_executor(self._thread, self._restart)
                self.hard_restarts += 1
        except (sqlite3.Error, OSError) as exc:
            # e.g. the disk full: said once, tried again next round; the commits
            # themselves report what they cannot do
            if not self._failing:
                log.warning("a WAL checkpoint failed (%s); trying again", exc)
                self._failing = True
            return
        self.rounds += 1
        if self._failing:
            log.info("WAL checkpoints work again")
            self._failing = False

    def _passive(self, flush: bool) -> int:
        """In the thread: one PASSIVE checkpoint (it copies the pages there were when
        it began), then, if `flush`, the database file flushed to the disk; the WAL's
        size in pages."""
        if self._conn is None:
            self._conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        if self._file is None:
            self._file = os.open(self.path, os.O_RDONLY)
        _busy, pages, _copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if flush:
            os.fdatasync(self._file)
        return int(pages)

    def _restart(self) -> None:
        """In the thread: SQLite's RESTART checkpoint (it waits for the writers of
        every process, up to the busy timeout)."""
        assert self._conn is not None  # made by the PASSIVE pass before
        self._conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        file, self._file = self._file, None
        if file is not None:
            os.close(file)
