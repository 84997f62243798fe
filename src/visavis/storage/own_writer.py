"""The SQLite connection of the chat group commit, run on the event loop itself.

A group commit's statements take SQLite about a hundred microseconds at 2,000 msg/s
(WAL with synchronous=NORMAL writes to the page cache; the fsyncs are the
checkpointer's, in its own thread). Handing them to a driver thread (aiosqlite) cost more than that:
each trip woke the thread, passed the GIL over and back, and its answer waited for
a loop turn behind every other socket's frames. At 2,000 msg/s that wait was most of
a message's latency and its tail. So this connection's statements run where they are
called, on the loop, without a trip.

Only one thing could make a statement here wait: the write lock of the file, held by
another process (the CLI, a second server on the same file). So the connection's
busy timeout is zero, every transaction takes the write lock first (`begin`: BEGIN
IMMEDIATE), and only when that finds the lock taken does the wait happen — in a
thread, with the usual timeout, while the loop goes on. Once the lock is held, the
rest of the transaction cannot wait for another writer. A group cancelled during
such a wait (a shutdown) rolls back only once the wait has ended in its thread:
SQLite would make a rollback on the loop wait for it, and the loop with it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY (or one of its extended codes): another connection holds the lock."""
    return exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


def open_connection(path: str, timeout_s: float, pragmas: tuple[str, ...]) -> sqlite3.Connection:
    """A `sqlite3.Connection` of the process's own (autocommit, usable from any
    thread), its pragmas run; closed again if one fails. Blocking: a pragma may wait
    up to `timeout_s` for a lock (`journal_mode`), so it runs in a thread."""
    conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
    try:
        for pragma in pragmas:
            conn.execute(pragma).fetchall()
    except BaseException:
        conn.close()
        raise
    return conn


class OwnWriter:
    """One `sqlite3.Connection` in autocommit mode (transactions are begun by hand),
    used on the loop thread and, while waiting for the lock, in a thread of its own —
    never in both at once: its user holds the process's write lock
    (`Database.own_writer`), and a rollback or close asked for while a wait runs
    (its group cancelled) waits for that wait to end, beside the loop."""

    def __init__(self, conn: sqlite3.Connection, timeout_s: float) -> None:
        self.conn = conn
        self.timeout_s = timeout_s
        self.lock_waits = 0  # transactions that found the file's write lock taken
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-lock-wait")
        self._waiting: Future[None] | None = None

    @classmethod
    async def connect(cls, path: str, pragmas: tuple[str, ...], timeout_s: float) -> OwnWriter:
        """Opened in a thread: the pragmas (`journal_mode=WAL`) may wait for the lock."""
        opened = await asyncio.to_thread(
            open_connection, path, timeout_s, (*pragmas, "PRAGMA busy_timeout = 0")
        )
        return cls(opened, timeout_s)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    async def begin(self) -> None:
        """BEGIN IMMEDIATE: this transaction's snapshot and the file's write lock. At
        once on the loop when the lock is free; else waited for in a thread (at most
        the timeout, then `database is locked` as any SQLite wait ends)."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
        self.lock_waits += 1
        self._waiting = self._thread.submit(self._begin_waiting)
        await asyncio.wrap_future(self._waiting)
        self._waiting = None

    def _begin_waiting(self) -> None:
        conn = self.conn
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout_s * 1000)}")
        try:
            conn.execute("BEGIN IMMEDIATE")
        finally:
            conn.execute("PRAGMA busy_timeout = 0")

    async def _wait_ended(self) -> None:
        """The connection is the loop's again: a wait for the lock cut short on the
        loop's side (cancelled) has ended in its thread too."""
        if self._waiting is not None:
            await asyncio.wait([asyncio.wrap_future(self._waiting)])
            self._waiting = None

    async def rollback(self) -> None:
        await self._wait_ended()
        self.conn.rollback()

    async def close(self) -> None:
        await self._wait_ended()
        self.conn.close()
        self._thread.shutdown(wait=False)
