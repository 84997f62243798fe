"""Run Alembic migrations programmatically (`visavis migrate`, and at `serve` and
every command that uses the database).

A database already at the newest schema, which is nearly every time, is told apart
by reading its `alembic_version` row: Alembic itself (0.4 s to import, and a walk of
the migration scripts) is imported only when there is something to migrate, so a
command or a server start does not pay for it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from visavis.storage.engine import Database, make_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision id: what the code needs. Kept true by
# tests/unit/test_migrations_head.py (Alembic's own head of the scripts).
HEAD = "0011_privacy"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def current_revision(conn: AsyncConnection) -> str | None:
    """The database's revision (None: never migrated), as Alembic keeps it; `conn`
    not in a transaction (one is begun and ended here)."""
    try:
        async with conn.begin():
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:  # no such table: a fresh database
        return None
    return rows[0][0] if len(rows) == 1 else None


async def do_migrate(url: str, revision: str = "head") -> None:
    engine = make_engine(url)
    try:
        if revision == "head":
            async with engine.connect() as conn:
                if await current_revision(conn) == HEAD:
                    return
        from alembic import command

        cfg = alembic_config(url)

        def _upgrade(conn: Connection) -> None:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

        async with engine.begin() as conn:
            await conn.run_sync(_upgrade)
    finally:
        await engine.dispose()


async def schema_problem(database: Database) -> str | None:
    """None when the database answers and has the newest migration; else what is
    wrong (for readiness)."""

    async with database.engine.connect() as conn:
        current = await current_revision(conn)
    if current != HEAD:
        return f"schema at {current!r}, the code needs {HEAD!r}: run `visavis migrate`"
    return None


def migrate_sync(url: str) -> None:
    asyncio.run(do_migrate(url))
