"""Engine and session factory; the SQLite/PostgreSQL differences live here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from visavis.storage.checkpoint import PRAGMAS as CHECKPOINT_PRAGMAS
from visavis.storage.checkpoint import WalCheckpointer
from visavis.storage.loop_reads import LoopReads
from visavis.storage.own_writer import OwnWriter

if TYPE_CHECKING:
    from visavis.storage.own_pg import OwnPg

log = logging.getLogger(__name__)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


SQLITE_TIMEOUT_S = 30  # a writer of another process (the CLI) holds the file this long
# WAL: readers do not block the single writer; synchronous=NORMAL is durable across
# process crashes (the case R8.2 is about).
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")


def make_engine(url: str, pragmas: tuple[str, ...] = SQLITE_PRAGMAS) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_TIMEOUT_S})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            for pragma in pragmas:
                cur.execute(pragma)
            cur.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# how long `dispose` waits for SQLite's driver threads still running a query
DRIVER_WAIT_S = 5.0


class DriverThreads:
    """The threads of the SQLite driver's connections (aiosqlite: one each), so that
    `Database.dispose` can wait for them to end while the event loop still runs.

    Why: a query cancelled while its thread runs it (a background task stopped at
    shutdown) leaves the thread running; SQLAlchemy stops the connection, and the
    thread ends after the query. If the loop has closed by then, the thread fails
    handing it the result ("Event loop is closed"), after a shutdown that had
    looked clean."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []

    def add(self, dbapi_conn: Any, _record: Any) -> None:
        # aiosqlite keeps its worker thread private; without one there is no wait
        thread = getattr(getattr(dbapi_conn, "_connection", None), "_thread", None)
        if isinstance(thread, threading.Thread):
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    async def do_wait(self, timeout_s: float) -> None:
        """Wait, beside the loop, until every driver thread has ended; one that runs
        past `timeout_s` (a connection never closed, a query waiting on a lock) is
        left with one log line."""
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            if thread.is_alive():
                await asyncio.to_thread(thread.join, max(0.0, deadline - time.monotonic()))
        if left := sum(t.is_alive() for t in self._threads):
            log.warning("database: %d SQLite driver thread(s) running after %g s", left, timeout_s)


class Database:
    """Engine + sessions + the write discipline.

    SQLite allows one writer; a transaction that reads and then writes can fail
    with SQLITE_BUSY_SNAPSHOT (no busy-wait helps) when another connection wrote
    in between. So on SQLite all writing transactions of this process take one
    asyncio lock. PostgreSQL uses row locks instead and needs none.
    """

    def __init__(self, url: str, checkpoints: bool = False) -> None:
        """`checkpoints`: SQLite in a file, the server: WAL checkpoints in a thread of
        their own, not in a commit (storage/checkpoint.py); `start_checkpoints`."""
        self.url = url
        path = make_url(url).database if is_sqlite(url) else None
        in_file = path not in (None, "", ":memory:")
        self._write_lock = asyncio.Lock() if is_sqlite(url) else None
        self.checkpointer = (
            WalCheckpointer(path, self._write_lock)
            if checkpoints and path is not None and in_file and self._write_lock is not None
            else None
        )
        pragmas = SQLITE_PRAGMAS + (CHECKPOINT_PRAGMAS if self.checkpointer else ())
        self.engine = make_engine(url, pragmas)
        self.sessions = make_sessionmaker(self.engine)
        self._drivers = DriverThreads()
        if is_sqlite(url):
            event.listen(self.engine.sync_engine, "connect", self._drivers.add)
        # SQLite in a file: the driver connection `own_writer` keeps (made at first use)
        self.has_own_writer = self._write_lock is not None and in_file
        # ... and one for the hot reads, on the loop (storage/loop_reads.py)
        self.loop_reads = (
            LoopReads(path or "", pragmas, self.engine.dialect) if self.has_own_writer else None
        )
        self._own = KeptConnection(
            self._write_lock or asyncio.Lock(),
            lambda: OwnWriter.connect(path or "", pragmas, SQLITE_TIMEOUT_S),
            lambda conn: conn.in_transaction,
        )
        # PostgreSQL: the connection `own_connection` keeps, and its turn (the chat
        # group commits of one process take turns anyway; tests run two)
        self._own_pg: KeptConnection[OwnPg] = KeptConnection(
            asyncio.Lock(), self._connect_own_pg, lambda conn: conn.in_transaction
        )
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

    def own_writer(self) -> contextlib.AbstractAsyncContextManager[OwnWriter]:
        """SQLite in a file (`has_own_writer`): the write lock, and a connection of its
        own that stays open and runs on the event loop (storage/own_writer.py), for
        the hot write that runs its statements on the driver itself (the chat group
        commit, conversations/chat_rows.py): no session, no pool checkout, no reset
        and no trip to a thread per transaction. As `_kept`."""
        assert self._write_lock is not None and self.has_own_writer
        return self._kept(self._own)

    def own_connection(self) -> contextlib.AbstractAsyncContextManager[OwnPg]:
        """PostgreSQL: a connection of its own that stays open, for the hot write of
        the chat group commit, used through asyncpg itself (storage/own_pg.py): no
        session, no pool checkout with its pre-ping and no reset (a rollback) per
        transaction — two round trips fewer per group — and no SQLAlchemy around its
        statement. Row locks order the writers, as in every other write (the
        group's statement takes them). As `_kept`."""
        return self._kept(self._own_pg)

    async def _connect_own_pg(self) -> OwnPg:
        from visavis.storage.own_pg import OwnPg  # here: asyncpg only where it is used

        return await OwnPg.connect(self.engine)

    def _kept(self, kept: KeptConnection[C]) -> _KeptTurn[C]:
        """The kept connection in its turn, timed as a writing transaction. The caller
        commits; if the block raises, or ends without committing, the transaction is
        rolled back, and a connection that cannot even roll back (closed, its
        backend gone) is closed and made anew by the next user: the failed group
        was said as `overloaded` and its messages are resent."""
        return _KeptTurn(kept, self.on_write)

    def start_checkpoints(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.start()

    async def dispose(self) -> None:
        if self.loop_reads is not None:
            self.loop_reads.close()
        await self._own.close()
        await self._own_pg.close()
        await self.engine.dispose()
        await self._drivers.do_wait(DRIVER_WAIT_S)
        if self.checkpointer is not None:
            # last: it closes a descriptor of the file, which drops this process's
            # locks on it (checkpoint.py)
            await self.checkpointer.stop()


class _Connection(Protocol):
    """What `KeptConnection` needs of a connection: `OwnWriter` and `OwnPg`."""

    async def rollback(self) -> None: ...
    async def close(self) -> None: ...


C = TypeVar("C", bound=_Connection)


class _KeptTurn(Generic[C]):
    """`Database._kept`: a class, not an `asynccontextmanager` (whose generator and
    helper cost 2 µs a use, against 0.5 µs here: once a chat group commit)."""

    __slots__ = ("_conn", "_kept", "_locked", "_on_write", "_started")

    def __init__(self, kept: KeptConnection[C], on_write: Callable[[float], None] | None) -> None:
        self._kept = kept
        self._on_write = on_write
        self._locked = False
        self._started = 0.0
        self._conn: C | None = None

    async def __aenter__(self) -> C:
        self._started = time.perf_counter()
        kept = self._kept
        try:
            await kept.lock.acquire()
            self._locked = True
            conn = self._conn = await kept.get()
            return conn
        except BaseException:
            self._end()
            raise

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        kept, conn = self._kept, self._conn
        assert conn is not None  # entered
        try:
            # raised, or ended without committing: nothing is kept
            if kind is not None or kept.in_transaction(conn):
                await kept.roll_back(conn)
        finally:
            self._end()

    def _end(self) -> None:
        if self._locked:
            self._locked = False
            self._kept.lock.release()
        if self._on_write is not None:
            self._on_write(time.perf_counter() - self._started)


class KeptConnection(Generic[C]):
    """One connection kept open between transactions, and whose turn it is
    (`Database._kept`): made at first use, dropped when it cannot roll back."""

    def __init__(
        self,
        lock: asyncio.Lock,
        connect: Callable[[], Awaitable[C]],
        in_transaction: Callable[[C], bool],
    ) -> None:
        self.lock = lock
        self._connect = connect
        self.in_transaction = in_transaction
        self.conn: C | None = None

    async def get(self) -> C:
        if self.conn is None:
            self.conn = await self._connect()
        return self.conn

    async def roll_back(self, conn: C) -> None:
        try:
            await conn.rollback()
        except Exception:
            await self.close()

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
