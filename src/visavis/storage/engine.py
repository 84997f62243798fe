"""Engine and session factory; the SQLite/PostgreSQL differences live here."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL: readers do not block the single writer; synchronous=NORMAL is
            # durable across process crashes (the case R8.2 is about).
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
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

    async def dispose(self) -> None:
        await self.engine.dispose()
