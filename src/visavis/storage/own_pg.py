"""PostgreSQL: the connection of the chat group commit, used through asyncpg itself.

A group commit is one statement, its own transaction (conversations/chat_rows.py),
and on PostgreSQL much of its CPU was not the statements but SQLAlchemy's asyncio
layer around each: a greenlet per statement, its cursor adapter, its compiled
cache, its result. That cost is per group, and the groups are smaller when several
processes share the messages (two workers at 2,000 msg/s: 2.2 messages a group
against 4.3 for one process), so it weighed twice as much per message there. Here
the statement goes to the asyncpg connection directly: 10-15 % less server CPU at
2,000 msg/s (bench/scale_out.py).

The connection still comes from the engine's pool (its settings, its pre-ping) and
stays checked out, so the pool counts it. SQLAlchemy runs no statement on it;
`rollback` and `close` end what a failed statement left.

It runs one statement only, so it plans that statement once (`PLAN_SETTINGS`).
PostgreSQL plans a prepared statement anew at every execution as long as it deems
a plan for the given values cheaper than one for any values; for the group
statement that planning was about half of its CPU (0.45-0.6 ms of about 1 ms a
group of two, `EXPLAIN ANALYZE`), and in some runs on a new database the cost grew
with the log (0.9 ms a statement rising to 1.8 ms within 1,200). A plan for any
values, made while the tables were small, scanned the events table whole. Here it
keeps one plan that looks every row up by its index: 0.2-0.33 ms of PostgreSQL's
CPU a group of two, however the log grows (tests/unit/test_group_commit.py holds the
plan to index lookups).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# SQLSTATE classes of a failure of the moment, not of the statement: connection (08),
# transaction rollback such as a deadlock (40), resources (53), operator intervention
# such as a shutdown or a cancelled query (57), lock not available (55), system (58)
_TRANSIENT_CLASSES = {"08", "40", "53", "55", "57", "58"}
_BY_CLASS: dict[str, type[sa_exc.DBAPIError]] = {
    "23": sa_exc.IntegrityError,
    "22": sa_exc.DataError,
    "42": sa_exc.ProgrammingError,
    "XX": sa_exc.InternalError,
}


# The plan of the group statement, on its own connection only (never handed back to
# the pool): planned once, for any values, and every row looked up by its index
# (sequential scans and hash tables only where nothing else will do).
PLAN_SETTINGS = (
    "SET plan_cache_mode = force_generic_plan",
    "SET enable_seqscan = off",
    "SET enable_hashjoin = off",
)


class OwnPg:
    """One asyncpg connection of the engine's pool, kept by `Database.own_connection`."""

    def __init__(self, kept: AsyncConnection, raw: asyncpg.Connection) -> None:
        self._kept = kept
        self.raw = raw

    @classmethod
    async def connect(cls, engine: AsyncEngine) -> OwnPg:
        kept = await engine.connect()
        try:
            raw = (await kept.get_raw_connection()).driver_connection
        except BaseException:
            await kept.close()
            raise
        if not isinstance(raw, asyncpg.Connection):
            await kept.close()
            raise TypeError(f"expected an asyncpg connection, got {type(raw).__name__}")
        own = cls(kept, raw)
        try:
            for setting in PLAN_SETTINGS:
                with _as_sqlalchemy_errors(setting):
                    await raw.execute(setting)
        except BaseException:
            await own.close()
            raise
        return own

    @property
    def in_transaction(self) -> bool:
        return self.raw.is_in_transaction()

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        with _as_sqlalchemy_errors(query):
            return await self.raw.fetch(query, *args)

    async def rollback(self) -> None:
        """Also when no transaction seems open: on a connection that broke it raises,
        and `KeptConnection` replaces it."""
        await self.raw.execute("ROLLBACK")

    async def close(self) -> None:
        """Closed for good (it failed, or the process stops): not handed back to the
        pool in a state nobody knows."""
        with contextlib.suppress(Exception):
            await self._kept.invalidate()
        await self._kept.close()


@contextlib.contextmanager
def _as_sqlalchemy_errors(statement: str) -> Iterator[None]:
    """asyncpg's errors as SQLAlchemy's (see the module's docstring)."""
    try:
        yield
    except asyncpg.PostgresError as exc:
        state = str(getattr(exc, "sqlstate", "") or "")[:2]
        if state in _TRANSIENT_CLASSES:
            raise sa_exc.OperationalError(statement, None, exc) from exc
        raise _BY_CLASS.get(state, sa_exc.DatabaseError)(statement, None, exc) from exc
    except asyncpg.InterfaceError as exc:  # the client's: e.g. a closed connection
        raise sa_exc.InterfaceError(statement, None, exc) from exc
    except asyncpg.InternalClientError as exc:
        raise sa_exc.InternalError(statement, None, exc) from exc
    except (OSError, TimeoutError) as exc:
        raise sa_exc.OperationalError(statement, None, exc, connection_invalidated=True) from exc
