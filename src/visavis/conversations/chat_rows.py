"""The statements of a chat group commit (`ChatWrite.append_chats`), per database:
`append` decides each message of a group (stored before: a resend; refused; stored
now, with its seq) and writes the new ones, with the same statements however many
messages the group holds.

Who may write (`chat_refusal`): a customer while the conversation has not ended; an
adviser while it is active and theirs (assigned, or consulting in it). PostgreSQL's
statement says the same in SQL (`_PG_MAY_WRITE`), beside it here;
tests/unit/test_group_commit.py holds the two to the same outcomes.

SQLite: the statements go to the driver, not through SQLAlchemy, on a connection of
the group commit's own that stays open and runs on the event loop itself
(`Database.own_writer`, storage/own_writer.py): no session, no pool checkout, no
reset (a rollback) and no trip to a driver thread per group — those trips, not
SQLite, were most of a group's time on a busy loop. The transaction takes the file's
write lock first (BEGIN IMMEDIATE), so its reads and writes are one snapshot even
beside another process's writers: it reads the resends and the conversations,
checks here, and writes with the commit. Values are converted by the dialect's own
processors, so rows are stored exactly as SQLAlchemy stores them. (SQLite in
memory, the tests' default, has one connection that everybody shares: there the
statements take trips to its aiosqlite thread.)

PostgreSQL: one statement, one round trip and its own transaction a group, on a
connection of the group commit's own that stays open (`Database.own_connection`,
storage/own_pg.py) and straight through asyncpg. It locks the group's
conversations in id order (two writers never wait for each other in a circle),
decides each message against the conversation as locked (READ COMMITTED reads a
row changed meanwhile anew once its lock is had, so no stale check can pass),
numbers the new ones after the locked `last_seq`, bumps it and inserts them, and
returns per message what it decided. Every parameter of many values is an array, so
the statement is one text whatever the group's size (prepared once per connection).
It had been two round trips (a read without locks, then a write that stored a
conversation's messages only if it was still as read, the others appended again in
a locked group of four round trips). At 2,000 msg/s on one process the server's
CPU fell by about a tenth (CHANGELOG.md has the runs). A resend that another node
stored after this statement began breaks the unique (conversation, client_id) key:
the statement fails and the group commit retries its messages one by one
(conversations/commits.py), which finds it.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, Protocol, cast

from sqlalchemy import DateTime
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect

from visavis.conversations.state import Status, check_can_write
from visavis.errors import VisavisError
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


class NewChat(NamedTuple):
    """A chat message to append, as the group commit hands it over: each (conversation,
    client_id) once a group."""

    cid: str
    client_id: str
    role: str
    author_id: str | None
    author_name: str | None
    body: str  # its JSON
    preview: str | None  # the conversation's preview, if it has none yet


class Decided(NamedTuple):
    """What `append` made of a message: `stored` (it was, before: a resend); else
    `seq` (stored now); else refused (`chat_refusal` of `conv` says why; no `conv`:
    no such conversation)."""

    conv: ConvRow | None
    seq: int | None
    stored: StoredRow | None


def chat_refusal(conv: ConvRow, role: str, author_id: str | None) -> VisavisError | None:
    """Why this author may not write to the conversation now (None: they may)."""
    if role == "adviser":
        if author_id is None or author_id not in (conv.adviser_id, conv.consultant_id):
            return VisavisError("forbidden", "this conversation is not assigned to you")
        if conv.status != Status.ACTIVE:
            return VisavisError("invalid_state", f"conversation is {conv.status!r}")
        return None
    try:
        check_can_write(conv.status)
    except VisavisError as err:
        return err
    return None


class ChatRows(Protocol):
    @property
    def write_commits(self) -> bool:
        """True: `append` committed what it wrote (PostgreSQL), `commit` has nothing
        left to do."""

    async def append(self, chats: Sequence[NewChat], created_at: datetime) -> list[Decided]:
        """Decide each message, in order (seqs follow it per conversation), and write
        the new ones, all created at `created_at`."""

    async def commit(self) -> None: ...


@contextlib.asynccontextmanager
async def chat_rows(database: Database) -> AsyncIterator[ChatRows]:
    """A transaction for a group commit and its statements; rolled back if the block
    raises. The caller commits."""
    if database.has_own_writer:
        async with database.own_writer() as own:
            try:
                await own.begin()
            except sqlite3.Error as exc:
                _raise_as_sqlalchemy(exc, database.engine.dialect)
            yield SqliteChatRows(_on_loop(own), database.engine.dialect, None)
        return
    if database.engine.dialect.name != "sqlite":
        async with database.own_connection() as own:
            yield PgChatRows(own)
        return
    async with database.writer() as db:  # in memory: the one connection everybody uses
        raw = await (await db.connection()).get_raw_connection()
        yield SqliteChatRows(_in_thread(raw.driver_connection), database.engine.dialect, db.commit)


# ---------------------------------------------------------------- PostgreSQL
# `chat_refusal` in SQL: which messages (`e`) their conversation (`c`, locked) takes
_PG_MAY_WRITE = (
    "CASE WHEN e.role = 'adviser' THEN c.status = 'active' "
    "AND (e.author_id = c.adviser_id OR e.author_id = c.consultant_id) "
    "ELSE c.status <> 'ended' END"
)
# A data-modifying WITH runs once whether or not it is read. `e`: the messages, `pos`
# their order in the group; `c`: their conversations, locked in id order; `old`: the
# resends; `ok`: the new messages their conversation takes, numbered after its
# `last_seq` in their order; then the bump (the first preview of the group where the
# conversation has none) and the insert. One row per message: its conversation as
# locked (none: no such conversation), its new seq, the stored event of a resend.
_PG_APPEND = (
    "WITH e AS (SELECT * FROM unnest($1::int[], $2::varchar[], $3::varchar[], $4::varchar[], "
    "$5::varchar[], $6::varchar[], $7::text[], $8::varchar[]) "
    "AS e(pos, cid, client_id, role, author_id, author_name, body, preview)), "
    f"c AS (SELECT {', '.join(CONV_COLUMNS)} FROM conversations WHERE id = ANY($2::varchar[]) "
    "ORDER BY id FOR UPDATE), "
    f"old AS (SELECT e.pos, {', '.join('ev.' + col for col in EVENT_COLUMNS)} FROM e "
    "JOIN events ev ON ev.conversation_id = e.cid AND ev.client_id = e.client_id), "
    "ok AS (SELECT e.*, c.last_seq + row_number() OVER (PARTITION BY e.cid ORDER BY e.pos) "
    "AS seq FROM e JOIN c ON c.id = e.cid "
    f"WHERE NOT EXISTS (SELECT FROM old WHERE old.pos = e.pos) AND {_PG_MAY_WRITE}), "
    "bump AS (UPDATE conversations x SET last_seq = b.seq, preview = coalesce(x.preview, "
    "b.preview) FROM (SELECT cid, max(seq) AS seq, (array_agg(preview ORDER BY pos) "
    "FILTER (WHERE preview IS NOT NULL))[1] AS preview FROM ok GROUP BY cid) AS b "
    "WHERE x.id = b.cid), "
    f"ins AS (INSERT INTO events ({', '.join(EVENT_COLUMNS)}) SELECT cid, seq, 'chat.message', "
    "role, author_id, author_name, client_id, body, $9::timestamptz FROM ok) "
    f"SELECT {', '.join('c.' + col for col in CONV_COLUMNS)}, ok.seq, "
    f"{', '.join('old.' + col for col in EVENT_COLUMNS)} FROM e "
    "LEFT JOIN c ON c.id = e.cid LEFT JOIN ok ON ok.pos = e.pos "
    "LEFT JOIN old ON old.pos = e.pos ORDER BY e.pos"
)
_SPLIT = len(CONV_COLUMNS)


class PgChatRows:
    def __init__(self, own: OwnPg) -> None:
        self._own = own

    write_commits = True  # one statement, its own transaction

    async def append(self, chats: Sequence[NewChat], created_at: datetime) -> list[Decided]:
        if not chats:
            return []
        columns = [list(c) for c in zip(*chats, strict=True)]
        rows = await self._own.fetch(_PG_APPEND, list(range(len(chats))), *columns, created_at)
        # asyncpg's records read by position
        decided: list[Decided] = []
        for r in rows:
            values = tuple(r)
            conv = ConvRow(*values[:_SPLIT]) if values[0] is not None else None
            old = values[_SPLIT + 1 :]
            stored = StoredRow(*old) if old[0] is not None else None
            decided.append(Decided(conv, values[_SPLIT], stored))
        return decided

    async def commit(self) -> None:
        pass  # `append` committed


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


def _raise_as_sqlalchemy(exc: sqlite3.Error, dialect: Dialect) -> NoReturn:
    """The driver's error raised as SQLAlchemy's (what the group commit tells apart: a
    busy or lost database is `OperationalError`, a broken rule not); other errors as
    they are. Called from the callers' `except`, not a context manager around them:
    two or three times a group commit, and a `contextmanager` costs 1 µs a use."""
    if isinstance(exc, sqlite3.OperationalError):
        raise sa_exc.OperationalError("chat group commit", None, exc) from exc
    if isinstance(exc, sqlite3.IntegrityError):
        raise sa_exc.IntegrityError("chat group commit", None, exc) from exc
    # a closed connection ("Cannot operate on a closed database", the dialect's
    # disconnect) is a lost database too: without this a group of one was answered
    # `internal` instead of `overloaded` (tests/unit/test_chat_connection.py)
    if isinstance(exc, sqlite3.ProgrammingError) and dialect.is_disconnect(
        cast(Any, exc), None, None
    ):
        raise sa_exc.OperationalError(
            "chat group commit", None, exc, connection_invalidated=True
        ) from exc
    raise exc


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

    async def append(self, chats: Sequence[NewChat], created_at: datetime) -> list[Decided]:
        """Reads the resends and the conversations, decides here, and keeps the writes
        for `commit`, which runs them with the commit at once: nobody sees them
        before anyway, and a broken rule fails the group there alike."""
        keys = list({(c.cid, c.client_id) for c in chats})
        ids = list({c.cid for c in chats})
        found, conv_rows = await self._trip(
            _read, _sqlite_stored(len(keys)), [v for k in keys for v in k],
            _sqlite_conversations(len(ids)), ids,
        )  # fmt: skip
        from_db = self._from_db
        olds = (StoredRow._make(r if from_db is None else (*r[:-1], from_db(r[-1]))) for r in found)
        stored = {(o.conversation_id, o.client_id): o for o in olds}
        convs = {r[0]: ConvRow._make(r) for r in conv_rows}
        at = created_at if self._to_db is None else self._to_db(created_at)  # once a group
        bumps: dict[str, tuple[int, str | None]] = {}  # the new last_seq and preview
        events = self._writes[1]
        decided: list[Decided] = []
        for c in chats:
            conv = convs.get(c.cid)
            old = stored.get((c.cid, c.client_id))
            if (
                old is not None
                or conv is None
                or chat_refusal(conv, c.role, c.author_id) is not None
            ):
                decided.append(Decided(conv, None, old))
                continue
            seq, preview = bumps.get(c.cid, (conv.last_seq, conv.preview))
            seq += 1
            bumps[c.cid] = (seq, preview if preview is not None else c.preview)
            events.append((c.cid, seq, "chat.message", c.role, c.author_id, c.author_name,
                           c.client_id, c.body, at))  # fmt: skip
            decided.append(Decided(conv, seq, None))
        self._writes[0].extend((seq, preview, cid) for cid, (seq, preview) in bumps.items())
        return decided

    async def commit(self) -> None:
        bumps, events = self._writes
        self._writes = ([], [])
        await self._trip(_write, bumps, events, self._commit is None)
        if self._commit is not None:
            await self._commit()

    async def _trip(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await self._run(fn, *args)
        except sqlite3.Error as exc:
            _raise_as_sqlalchemy(exc, self.dialect)


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
