"""The four statements of a chat group commit (`Write.append_chats`), per database.

A group commit reads the resends among its messages, reads (PostgreSQL: locks) their
conversations, bumps their `last_seq` and inserts the events — the same four
statements however many messages it holds. With SQLAlchemy on aiosqlite each
statement is four trips to the SQLite thread (cursor, execute, fetch, close), and
each trip wakes that thread and hands the GIL over and back: on a busy event loop
that wait, not SQLite, was most of a commit's time and much of its CPU. So on SQLite
the four statements go straight to the driver connection of the same transaction
(`aiosqlite`'s `execute_fetchall` and `executemany`: one trip each); values are
converted by the dialect's own processors, so rows are stored exactly as SQLAlchemy
stores them. Elsewhere (PostgreSQL) the statements run through SQLAlchemy Core.

No row lock on SQLite: the process-wide write lock (`storage/engine.py`) already
serialises every writing transaction.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import DateTime, Table, TextualSelect, bindparam, insert, select, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.storage.models import Conversation, Event

_CONV = cast(Table, Conversation.__table__)
_EVENT = cast(Table, Event.__table__)
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


class ChatRows(Protocol):
    async def stored(self, keys: Sequence[tuple[str, str]]) -> Sequence[Any]:
        """The stored events (rows with EVENT_COLUMNS) of (conversation_id,
        client_id) pairs."""

    async def conversations(self, ids: Sequence[str]) -> Sequence[Any]:
        """The conversations (rows with CONV_COLUMNS), locked for this transaction."""

    async def bump(self, bumps: Sequence[Bump]) -> None:
        """Set each conversation's `last_seq` and `preview`."""

    async def insert(self, events: Sequence[dict[str, Any]]) -> None:
        """Insert events (dicts with EVENT_COLUMNS; `created_at` a datetime)."""


async def chat_rows(db: AsyncSession) -> ChatRows:
    """The statements for the database of `db`'s transaction."""
    conn = await db.connection()
    if conn.dialect.name == "sqlite":
        raw = await conn.get_raw_connection()
        return SqliteChatRows(raw.driver_connection, conn.dialect)
    return CoreChatRows(db)


# ---------------------------------------------------------------- SQLAlchemy Core
_BUMP = (
    update(_CONV)
    .where(_CONV.c.id == bindparam("cid"))
    .values(last_seq=bindparam("new_seq"), preview=bindparam("new_preview"))
)
_INSERT_EVENT = insert(_EVENT)
_LOCK = (
    select(*(_CONV.c[c] for c in CONV_COLUMNS))
    .where(_CONV.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_CONV.c.id)  # PostgreSQL: lock in one order, never deadlock
    .with_for_update()
)


@functools.cache
def _stored_events(n: int) -> TextualSelect:
    """The stored events of n (conversation_id, client_id) pairs: a join of a VALUES
    list on the unique index, which SQLite (3.40) and PostgreSQL both probe per pair.
    (A row-value `IN` makes SQLite scan the whole events table.) Cached per n, which
    is at most the group commit's batch size."""
    pairs = ", ".join(f"(:c{i}, :k{i})" for i in range(n))
    return text(
        f"WITH k(c, id) AS (VALUES {pairs}) "  # placeholders only
        f"SELECT {', '.join('e.' + c for c in EVENT_COLUMNS)} FROM k "
        "JOIN events e ON e.conversation_id = k.c AND e.client_id = k.id"
    ).columns(*(_EVENT.c[c] for c in EVENT_COLUMNS))


class CoreChatRows:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def stored(self, keys: Sequence[tuple[str, str]]) -> Sequence[Any]:
        params: dict[str, str] = {}
        for n, (cid, client_id) in enumerate(keys):
            params[f"c{n}"], params[f"k{n}"] = cid, client_id
        return (await self.db.execute(_stored_events(len(keys)), params)).all()

    async def conversations(self, ids: Sequence[str]) -> Sequence[Any]:
        return (await self.db.execute(_LOCK, {"ids": list(ids)})).all()

    async def bump(self, bumps: Sequence[Bump]) -> None:
        await self.db.execute(_BUMP, [b._asdict() for b in bumps])

    async def insert(self, events: Sequence[dict[str, Any]]) -> None:
        await self.db.execute(_INSERT_EVENT, list(events))


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


class SqliteChatRows:
    def __init__(self, driver: Any, dialect: Dialect) -> None:
        """`driver`: the transaction's `aiosqlite.Connection`."""
        self.driver = driver
        self._to_db, self._from_db = _datetime_processors(dialect)

    async def stored(self, keys: Sequence[tuple[str, str]]) -> Sequence[Any]:
        params = [v for key in keys for v in key]
        rows = await self._run(self.driver.execute_fetchall(_sqlite_stored(len(keys)), params))
        from_db = self._from_db
        if from_db is None:
            return [StoredRow(*r) for r in rows]
        return [StoredRow._make((*r[:-1], from_db(r[-1]))) for r in rows]

    async def conversations(self, ids: Sequence[str]) -> Sequence[Any]:
        sql = _sqlite_conversations(len(ids))
        return [ConvRow(*r) for r in await self._run(self.driver.execute_fetchall(sql, ids))]

    async def bump(self, bumps: Sequence[Bump]) -> None:
        params = [(b.new_seq, b.new_preview, b.cid) for b in bumps]
        await self._run(self.driver.executemany(_SQLITE_BUMP, params))

    async def insert(self, events: Sequence[dict[str, Any]]) -> None:
        to_db = self._to_db
        params = [
            (
                *(e[c] for c in EVENT_COLUMNS[:-1]),
                e["created_at"] if to_db is None else to_db(e["created_at"]),
            )
            for e in events
        ]
        await self._run(self.driver.executemany(_SQLITE_INSERT, params))

    @staticmethod
    async def _run(call: Any) -> Any:
        """The driver's errors as SQLAlchemy's (what the group commit tells apart:
        a busy or lost database is `OperationalError`, a broken rule not)."""
        try:
            return await call
        except sqlite3.OperationalError as exc:
            raise sa_exc.OperationalError("chat group commit", None, exc) from exc
        except sqlite3.IntegrityError as exc:
            raise sa_exc.IntegrityError("chat group commit", None, exc) from exc
