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

Errors leave as SQLAlchemy's, as the group commit tells them apart
(conversations/commits.py): a lost, busy or locked database is an
`OperationalError` (said as `overloaded`, the clients resend), a broken rule an
`IntegrityError` (the group is retried message by message).
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
        return cls(kept, raw)

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
