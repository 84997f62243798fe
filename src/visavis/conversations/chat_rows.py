"""The statements of a chat group commit (`ChatWrite.append_chats`), per database.

A group commit reads the resends among its messages, reads their conversations,
bumps their `last_seq` and inserts the events — the same four statements however
many messages it holds (on PostgreSQL the two reads are one statement, and so are
the two writes).

SQLite: the statements go to the driver, not through SQLAlchemy, on a connection of
the group commit's own that stays open and runs on the event loop itself
(`Database.own_writer`, storage/own_writer.py): no session, no pool checkout, no
reset (a rollback) and no trip to a driver thread per group — those trips, not
SQLite, were most of a group's time on a busy loop. The transaction takes the file's
write lock first (BEGIN IMMEDIATE), so its reads and writes are one snapshot even
beside another process's writers. Values are converted by the dialect's own
processors, so rows are stored exactly as SQLAlchemy stores them. No row lock: the
process-wide write lock (`storage/engine.py`) already serialises every writing
transaction. (SQLite in memory, the tests' default, has one connection that everybody
shares: there the statements take trips to its aiosqlite thread.)

PostgreSQL: the statements go to asyncpg itself, on a connection of the group
commit's own that stays open (`Database.own_connection`, storage/own_pg.py): no
session, no pool checkout with its pre-ping and no reset per group, and no
SQLAlchemy around each statement; every parameter of many values is an array, so
each statement is one text whatever the group's size (prepared once per connection),
and the bump and the insert are one statement.

PostgreSQL, two round trips a group: the read takes no lock and no transaction, and
the write is one statement, so its own transaction (no BEGIN, no COMMIT: half the
round trips of a locked group, and a round trip costs CPU in the server and in
the database). The write stores a conversation's messages only if what the checks
read is still so (`last_seq`, status, adviser, consultant; locked in id order while
it looks, so two writers never deadlock), and says which conversations changed
meanwhile: their messages are appended again in a group that locks as it reads
(`locked`, the four round trips of before), which cannot lose.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast

from sqlalchemy import DateTime
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect

from visavis.storage.engine import Database
from visavis.storage.own_writer import OwnWriter

if TYPE_CHECKING:  # asyncpg is imported only where PostgreSQL is used
    from visavis.storage.own_pg import OwnPg

# the columns read of a conversation, and of a stored event
CONV_COLUMNS = ("id", "status", "adviser_id", "consultant_id", "team_id", "call_id",
                "call_status", "last_seq", "preview")  # fmt: skip
EVENT_COLUMNS = ("conversation_id", "seq", "kind", "author_role", "author_id", "author_name",
                 "client_id", "body", "created_at")  # fmt: skip


class ConvRow(NamedTuple):
    id: str
    status: str
    adviser_id: str | None
    consultant_id: str | None
    team_id: str | None
    call_id: str | None
    call_status: str | None
    last_seq: int
    preview: str | None


class Bump(NamedTuple):
    cid: str
    new_seq: int
    new_preview: str | None
    seen: ConvRow  # the conversation as the checks read it


class ChatRows(Protocol):
    @property
    def write_commits(self) -> bool:
        """True: `write` commits what it wrote (PostgreSQL, not locked), `commit` has
        nothing left to do."""

    async def read(
        self, keys: Sequence[tuple[str, str]], ids: Sequence[str]
    ) -> tuple[Sequence[Any], Sequence[Any]]:
        """The stored events (rows with EVENT_COLUMNS) of (conversation_id, client_id)
        pairs, and the conversations (rows with CONV_COLUMNS) of `ids`; locked for
        this transaction where `chat_rows` was asked to lock."""

    async def write(
        self, bumps: Sequence[Bump], events: Sequence[tuple[Any, ...]], created_at: datetime
    ) -> Collection[str]:
        """Set each conversation's `last_seq` and `preview`; insert the events (tuples
        of EVENT_COLUMNS but the last: all of a group are created at `created_at`).
        Returns the conversations that changed since they were read (not locked:
        PostgreSQL's two round trips): none of their events was stored."""

    async def commit(self) -> None: ...


@contextlib.asynccontextmanager
async def chat_rows(database: Database, locked: bool = False) -> AsyncIterator[ChatRows]:
    """A transaction for a group commit and its statements; rolled back if the block
    raises. The caller commits. `locked`: PostgreSQL locks the conversations as it
    reads them, so no write is lost to a change meanwhile (SQLite's writers take
    turns anyway)."""
    if database.has_own_writer:
        async with database.own_writer() as own:
            with _as_sqlalchemy_errors(database.engine.dialect):
                await own.begin()
            yield SqliteChatRows(_on_loop(own), database.engine.dialect, None)
        return
    if database.engine.dialect.name != "sqlite":
        async with database.own_connection() as own:
            if locked:
                await own.begin()
            yield PgChatRows(own, locked)
        return
    async with database.writer() as db:  # in memory: the one connection everybody uses
        raw = await (await db.connection()).get_raw_connection()
        yield SqliteChatRows(_in_thread(raw.driver_connection), database.engine.dialect, db.commit)


# ---------------------------------------------------------------- PostgreSQL
# Both writes in one statement and one round trip, each column one array parameter:
# what SQLAlchemy's executemany cost per row (a parameter set, rendered into a
# multi-row VALUES for the insert, and an execution per row for the update) was the
# larger part of a group's CPU, and the bump a trip of its own. A data-modifying WITH
# runs once whether or not it is read; a unique seq broken fails the whole statement.
_PG_BUMP = (
    "UPDATE conversations c SET last_seq = b.seq, preview = b.preview "
    "FROM unnest($1::varchar[], $2::bigint[], $3::varchar[]) AS b(id, seq, preview) "
    "WHERE c.id = b.id"
)
_PG_INSERT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    "SELECT e.*, $4::timestamptz FROM unnest($5::varchar[], $6::bigint[], $7::varchar[], "
    "$8::varchar[], $9::varchar[], $10::varchar[], $11::varchar[], $12::text[]) "
    f"AS e({', '.join(EVENT_COLUMNS[:-1])})"
)
_PG_WRITE = f"WITH bump AS ({_PG_BUMP}) {_PG_INSERT}"
# Both reads in one statement and one round trip (a round trip cost the server about
# 0.1 ms of CPU, and a group five of them): each conversation (locked, in a locked
# group: `_PG_READ_LOCKED`) with the
# stored events of the group's (conversation, client_id) pairs in it beside it (a
# resend), one row per such event or one without. Array parameters: one text
# whatever the group's size, so asyncpg prepares it once per connection (a text per
# size, an IN or VALUES list, was a prepare, a round trip and a plan, each time a
# size fell out of its cache). LATERAL: one probe of the unique index per pair, as
# the planner might otherwise scan the events table for a hash join. Locked in one
# order (ORDER BY id, FOR UPDATE OF the conversations only): never a deadlock.
_PG_READ = (
    f"SELECT {', '.join('c.' + col for col in CONV_COLUMNS)}, "
    f"{', '.join('e.' + col for col in EVENT_COLUMNS)} FROM conversations c "
    "LEFT JOIN LATERAL (SELECT ev.* FROM unnest($2::varchar[], $3::varchar[]) AS k(c, id) "
    "JOIN events ev ON ev.conversation_id = k.c AND ev.client_id = k.id "
    "WHERE k.c = c.id) AS e ON true "
    "WHERE c.id = ANY($1::varchar[]) ORDER BY c.id"
)
_PG_READ_LOCKED = _PG_READ + " FOR UPDATE OF c"
# The write of a group that did not lock, one statement and so one transaction: `seen`
# locks (in id order: two writers never wait for each other in a circle) those of
# the group's conversations that are as the checks read them, looked at again once
# their lock is had (a concurrent change committed meanwhile: READ COMMITTED reads
# the row anew); only those are bumped, only their events inserted, and their ids
# are what the statement returns. A status or assignment change always comes with
# an event, but the columns are compared anyway: the checks read them.
_PG_WRITE_SEEN = (
    "WITH seen AS (SELECT c.id FROM conversations c JOIN unnest($1::varchar[], "
    "$13::bigint[], $14::varchar[], $15::varchar[], $16::varchar[]) "
    "AS s(id, seq, status, adviser, consultant) ON c.id = s.id "
    "WHERE c.last_seq = s.seq AND c.status = s.status "
    "AND c.adviser_id IS NOT DISTINCT FROM s.adviser "
    "AND c.consultant_id IS NOT DISTINCT FROM s.consultant ORDER BY c.id FOR UPDATE OF c), "
    f"bump AS ({_PG_BUMP} AND c.id IN (SELECT id FROM seen) RETURNING c.id), "
    f"ins AS ({_PG_INSERT} WHERE e.conversation_id IN (SELECT id FROM bump)) "
    "SELECT id FROM bump"
)
_SPLIT = len(CONV_COLUMNS)


class PgChatRows:
    def __init__(self, own: OwnPg, locked: bool) -> None:
        """`locked`: in a transaction begun, the conversations locked as they are
        read; else each statement is its own transaction (see the module's
        docstring)."""
        self._own = own
        self._locked = locked

    @property
    def write_commits(self) -> bool:
        return not self._locked

    async def read(
        self, keys: Sequence[tuple[str, str]], ids: Sequence[str]
    ) -> tuple[Sequence[Any], Sequence[Any]]:
        c, k = zip(*keys, strict=True) if keys else ((), ())
        read = _PG_READ_LOCKED if self._locked else _PG_READ
        rows = await self._own.fetch(read, list(ids), list(c), list(k))
        # asyncpg's records read by position, as the named rows the write reads by
        # name; a conversation comes once per stored event in it, or once without
        convs: dict[str, ConvRow] = {}
        stored: list[StoredRow] = []
        for r in rows:
            values = tuple(r)
            if values[0] not in convs:
                convs[values[0]] = ConvRow(*values[:_SPLIT])
            if values[_SPLIT] is not None:
                stored.append(StoredRow(*values[_SPLIT:]))
        return stored, list(convs.values())

    async def write(
        self, bumps: Sequence[Bump], events: Sequence[tuple[Any, ...]], created_at: datetime
    ) -> Collection[str]:
        if not events:
            return ()  # a bump comes with an event, always
        columns = [list(c) for c in zip(*events, strict=True)]
        b_id, b_seq, b_preview = (
            [b.cid for b in bumps],
            [b.new_seq for b in bumps],
            [b.new_preview for b in bumps],
        )
        if self._locked:
            await self._own.execute(_PG_WRITE, b_id, b_seq, b_preview, created_at, *columns)
            return ()
        seen = [b.seen for b in bumps]
        bumped = await self._own.fetch(
            _PG_WRITE_SEEN, b_id, b_seq, b_preview, created_at, *columns,
            [r.last_seq for r in seen], [r.status for r in seen],
            [r.adviser_id for r in seen], [r.consultant_id for r in seen],
        )  # fmt: skip
        return set(b_id).difference(r[0] for r in bumped)

    async def commit(self) -> None:
        if self._locked:
            await self._own.commit()


# ---------------------------------------------------------------- SQLite driver
_SQLITE_BUMP = "UPDATE conversations SET last_seq = ?, preview = ? WHERE id = ?"
_SQLITE_INSERT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
)


@functools.cache
def _sqlite_stored(n: int) -> str:
    pairs = ", ".join("(?, ?)" for _ in range(n))
    return (
        f"WITH k(c, id) AS (VALUES {pairs}) "  # placeholders only
        f"SELECT {', '.join('e.' + c for c in EVENT_COLUMNS)} FROM k "
        "JOIN events e ON e.conversation_id = k.c AND e.client_id = k.id"
    )


@functools.cache
def _sqlite_conversations(n: int) -> str:
    marks = ", ".join("?" for _ in range(n))
    return f"SELECT {', '.join(CONV_COLUMNS)} FROM conversations WHERE id IN ({marks})"


class StoredRow(NamedTuple):
    conversation_id: str
    seq: int
    kind: str
    author_role: str
    author_id: str | None
    author_name: str | None
    client_id: str | None
    body: str
    created_at: datetime


@functools.cache
def _datetime_processors(dialect: Dialect) -> tuple[Any, Any]:
    """How the dialect stores and reads `DateTime(timezone=True)` (made once: a
    type's dialect implementation is built anew on each call)."""
    impl = DateTime(timezone=True).dialect_impl(dialect)
    return impl.bind_processor(dialect), impl.result_processor(dialect, None)


# `await run(fn, *args)`: `fn(sqlite3_connection, *args)` on the transaction's connection
Run = Callable[..., Awaitable[Any]]


def _on_loop(own: OwnWriter) -> Run:
    async def run(fn: Callable[..., Any], *args: Any) -> Any:
        return fn(own.conn, *args)  # here and now: inside the transaction `begin` began

    return run


def _in_thread(driver: Any) -> Run:
    """In one trip to an `aiosqlite.Connection`'s thread (its `_execute` and `_conn`:
    what its own methods use; its public ones take one trip per statement)."""

    async def run(fn: Callable[..., Any], *args: Any) -> Any:
        return await driver._execute(lambda: fn(driver._conn, *args))

    return run


@contextlib.contextmanager
def _as_sqlalchemy_errors(dialect: Dialect) -> Iterator[None]:
    """The driver's errors as SQLAlchemy's (what the group commit tells apart: a busy
    or lost database is `OperationalError`, a broken rule not)."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise sa_exc.OperationalError("chat group commit", None, exc) from exc
    except sqlite3.IntegrityError as exc:
        raise sa_exc.IntegrityError("chat group commit", None, exc) from exc
    except sqlite3.ProgrammingError as exc:
        # a closed connection ("Cannot operate on a closed database", the dialect's
        # disconnect) is a lost database too: without this a group of one was
        # answered `internal` instead of `overloaded` (tests/unit/test_chat_connection.py)
        if not dialect.is_disconnect(cast(Any, exc), None, None):
            raise
        raise sa_exc.OperationalError(
            "chat group commit", None, exc, connection_invalidated=True
        ) from exc


class SqliteChatRows:
    def __init__(
        self, run: Run, dialect: Dialect, commit: Callable[[], Awaitable[None]] | None
    ) -> None:
        """`run`: how the transaction's statements run (`_on_loop`, `_in_thread`);
        `commit` commits it (None: sqlite3's own commit, with the writes)."""
        self._run = run
        self.dialect = dialect
        self._commit = commit
        self._to_db, self._from_db = _datetime_processors(dialect)
        self._writes: tuple[list[Any], list[Any]] = ([], [])

    write_commits = False  # the writes go with the commit

    async def read(
        self, keys: Sequence[tuple[str, str]], ids: Sequence[str]
    ) -> tuple[Sequence[Any], Sequence[Any]]:
        params = [v for key in keys for v in key]
        found, convs = await self._trip(
            _read, _sqlite_stored(len(keys)), params, _sqlite_conversations(len(ids)), ids
        )
        from_db = self._from_db
        if from_db is None:
            stored = [StoredRow(*r) for r in found]
        else:
            stored = [StoredRow._make((*r[:-1], from_db(r[-1]))) for r in found]
        return stored, [ConvRow(*r) for r in convs]

    async def write(
        self, bumps: Sequence[Bump], events: Sequence[tuple[Any, ...]], created_at: datetime
    ) -> Collection[str]:
        """Kept for `commit`, which runs them with the commit at once: nobody sees them
        before anyway, and a broken rule fails the group there alike. None lost: the
        reads were in this transaction, which holds the write lock."""
        at = created_at if self._to_db is None else self._to_db(created_at)  # once a group
        self._writes[0].extend((b.new_seq, b.new_preview, b.cid) for b in bumps)
        self._writes[1].extend((*e, at) for e in events)
        return ()

    async def commit(self) -> None:
        bumps, events = self._writes
        self._writes = ([], [])
        await self._trip(_write, bumps, events, self._commit is None)
        if self._commit is not None:
            await self._commit()

    async def _trip(self, fn: Callable[..., Any], *args: Any) -> Any:
        with _as_sqlalchemy_errors(self.dialect):
            return await self._run(fn, *args)


def _read(
    conn: sqlite3.Connection, stored: str, keys: list[str], convs: str, ids: Sequence[str]
) -> tuple[list[Any], list[Any]]:
    found = conn.execute(stored, keys).fetchall() if keys else []
    return found, conn.execute(convs, ids).fetchall()


def _write(conn: sqlite3.Connection, bumps: list[Any], events: list[Any], commit: bool) -> None:
    if bumps:
        conn.executemany(_SQLITE_BUMP, bumps)
    if events:
        conn.executemany(_SQLITE_INSERT, events)
    if commit:
        conn.commit()
