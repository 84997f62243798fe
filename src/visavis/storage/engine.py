"""Engine and session factory; the SQLite/PostgreSQL differences live here."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


SQLITE_TIMEOUT_S = 30  # a writer of another process (the CLI) holds the file this long
# WAL: readers do not block the single writer; synchronous=NORMAL is durable across
# process crashes (the case R8.2 is about).
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")


def make_engine(url: str) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_TIMEOUT_S})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            for pragma in SQLITE_PRAGMAS:
                cur.execute(pragma)
            cur.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """Engine + sessions + the write discipline.

    SQLite allows one writer; a transaction that reads and then writes can fail
    with SQLITE_BUSY_SNAPSHOT (no busy-wait helps) when another connection wrote
    in between. So on SQLite all writing transactions of this process take one
    asyncio lock. PostgreSQL uses row locks instead and needs none.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        self._write_lock = asyncio.Lock() if is_sqlite(url) else None
        # SQLite in a file: the driver connection `own_writer` keeps (made at first use)
        self.has_own_writer = self._write_lock is not None and self.engine.url.database not in (
            None,
            "",
            ":memory:",
        )
        self._own: aiosqlite.Connection | None = None
        # PostgreSQL: the connection `own_connection` keeps, and its turn (the chat
        # group commits of one process take turns anyway; tests run two)
        self._own_core: AsyncConnection | None = None
        self._own_core_lock = asyncio.Lock()
        # told each writing transaction's seconds, lock wait included (the metrics)
        self.on_write: Callable[[float], None] | None = None

    @contextlib.asynccontextmanager
    async def writer(self) -> AsyncIterator[AsyncSession]:
        started = time.perf_counter()
        try:
            if self._write_lock is None:
                async with self.sessions() as db:
                    yield db
                return
            async with self._write_lock, self.sessions() as db:
                yield db
        finally:
            if self.on_write is not None:
                self.on_write(time.perf_counter() - started)

    @contextlib.asynccontextmanager
    async def own_writer(self) -> AsyncIterator[aiosqlite.Connection]:
        """SQLite in a file (`has_own_writer`): the write lock, and a driver connection
        of its own that stays open, for the hot write that runs its statements on the
        driver itself (the chat group commit, conversations/chat_rows.py): no
        session, no pool checkout, no reset per transaction. The caller commits;
        if the block raises, the transaction is rolled back (and a connection that
        cannot even roll back is closed, a new one made next time)."""
        assert self._write_lock is not None and self.has_own_writer
        started = time.perf_counter()
        try:
            async with self._write_lock:
                if self._own is None:
                    self._own = await _connect(self.engine.url.database or "")
                conn = self._own
                try:
                    yield conn
                except BaseException:
                    await self._roll_back_own(conn)
                    raise
                if conn.in_transaction:  # the caller did not commit: nothing is kept
                    await self._roll_back_own(conn)
        finally:
            if self.on_write is not None:
                self.on_write(time.perf_counter() - started)

    async def _roll_back_own(self, conn: aiosqlite.Connection) -> None:
        try:
            await conn.rollback()
        except Exception:
            self._own = None
            with contextlib.suppress(Exception):
                await conn.close()

    @contextlib.asynccontextmanager
    async def own_connection(self) -> AsyncIterator[AsyncConnection]:
        """PostgreSQL: a connection of its own that stays open, for the hot write of
        the chat group commit: no session, no pool checkout with its pre-ping and no
        reset (a rollback) per transaction — two round trips fewer per group. Row
        locks order the writers, as in every other write. The caller commits; if the
        block raises, the transaction is rolled back (a connection the database
        dropped is made anew by the next group; the failed one was said as
        `overloaded`, and its messages are resent)."""
        started = time.perf_counter()
        try:
            async with self._own_core_lock:
                if self._own_core is None:
                    self._own_core = await self.engine.connect()
                conn = self._own_core
                try:
                    yield conn
                except BaseException:
                    await self._roll_back_core(conn)
                    raise
                if conn.in_transaction():  # the caller did not commit: nothing is kept
                    await self._roll_back_core(conn)
        finally:
            if self.on_write is not None:
                self.on_write(time.perf_counter() - started)

    async def _roll_back_core(self, conn: AsyncConnection) -> None:
        try:
            await conn.rollback()
        except Exception:
            self._own_core = None
            with contextlib.suppress(Exception):
                await conn.close()

    async def dispose(self) -> None:
        if self._own is not None:
            own, self._own = self._own, None
            with contextlib.suppress(Exception):
                await own.close()
        if self._own_core is not None:
            core, self._own_core = self._own_core, None
            with contextlib.suppress(Exception):
                await core.close()
        await self.engine.dispose()


async def _connect(path: str) -> aiosqlite.Connection:
    """A connection as the engine makes them (its timeout and pragmas)."""
    conn = await aiosqlite.connect(path, timeout=SQLITE_TIMEOUT_S)
    for pragma in SQLITE_PRAGMAS:
        await conn.execute_fetchall(pragma)
    return conn
