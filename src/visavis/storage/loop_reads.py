"""SELECTs on the event loop, for SQLite in a file: the hot reads of a reconnect storm.

A returning socket's hello and subscribe read its conversation's summary; thousands
coming back at once are read in batches (conversations/batching.py). Through a
session, one batch of a few ids cost the loop about 0.7 ms of CPU — the session, the
pool checkout, SQLAlchemy's result machinery, the reset, and five trips to aiosqlite's
thread, each waking it and passing the GIL over and back — and SQLite under 0.1 ms. So
these reads run on a connection of their own, where they are called.

In WAL mode a reader waits for nobody: writers append to the WAL and readers keep
their snapshot. The connection's busy timeout is nevertheless zero, so that the
rare exception (a WAL being recovered after a crash, a file locked exclusively by
another program) fails at once (`is_busy`) instead of holding the loop; the caller
then reads through its session as before. The connection is `query_only`: nothing
read here can change the file.

Statements are SQLAlchemy Core selects, compiled once per number of ids, and the
rows' values converted by the dialect's own result processors, so a row reads as
the session would have read it.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, bindparam
from sqlalchemy.engine import Dialect

from visavis.storage.own_writer import is_busy, open_connection


class CompiledSelect:
    """A select as SQLite text with `?` placeholders, and how to make its rows."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.positions: tuple[str, ...] = tuple(compiled.positiontup or ())  # in order
        columns = list(statement.selected_columns)
        # a row as the session gives it: the columns by name
        self.row: Any = namedtuple("Row", [c.key or f"c{i}" for i, c in enumerate(columns)])  # type: ignore[misc]
        processors = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self._convert: list[tuple[int, Callable[[Any], Any]]] = [
            (i, p) for i, p in enumerate(processors) if p is not None
        ]

    def rows(self, raw: list[tuple[Any, ...]]) -> list[Any]:
        if not self._convert:
            return [self.row._make(r) for r in raw]
        made = []
        for r in raw:
            values = list(r)
            for i, convert in self._convert:
                values[i] = convert(values[i])
            made.append(self.row._make(values))
        return made


@functools.cache
def select_of_ids(base: Select[Any], column: Any, n: int, dialect: Dialect) -> CompiledSelect:
    """`base` for `n` ids of `column` (an IN list of `n` placeholders, named i0…)."""
    names = [f"i{k}" for k in range(n)]
    compiled = CompiledSelect(base.where(column.in_([bindparam(k) for k in names])), dialect)
    # the ids are given by position: the statement has no parameter but them
    assert compiled.positions == tuple(names), compiled.positions
    return compiled


class LoopReads:
    """One `sqlite3.Connection` for reading on the event loop, opened at first use."""

    def __init__(self, path: str, pragmas: tuple[str, ...], dialect: Dialect) -> None:
        self._path = path
        self._pragmas = pragmas
        self.dialect = dialect
        self._conn: sqlite3.Connection | None = None
        self.reads = 0  # reads done here
        self.busy = 0  # reads that found the file busy and went through a session

    async def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # no wait even to open it: a file that cannot be opened at once is read
            # through a session this time, and the next read tries again
            conn = await asyncio.to_thread(
                open_connection, self._path, 0, (*self._pragmas, "PRAGMA query_only = 1")
            )
            if self._conn is None:  # another first use may have won meanwhile
                self._conn = conn
            else:
                conn.close()
        return self._conn

    async def of_ids(self, base: Any, column: Any, ids: Sequence[str]) -> list[Any] | None:
        """The rows of `base` whose `column` is one of `ids`, read on the loop; None
        when the file was busy (the caller reads through its session)."""
        compiled = select_of_ids(base, column, len(ids), self.dialect)
        try:
            raw = (await self._connection()).execute(compiled.sql, ids).fetchall()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            self.busy += 1
            return None
        self.reads += 1
        return compiled.rows(raw)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
