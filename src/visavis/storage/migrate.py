"""Run Alembic migrations programmatically (`visavis migrate`, and at `serve`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from visavis.storage.engine import Database, make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def do_migrate(url: str, revision: str = "head") -> None:
    engine = make_engine(url)
    cfg = alembic_config(url)

    def _upgrade(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade)
    finally:
        await engine.dispose()


def _head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def schema_problem(database: Database) -> str | None:
    """None when the database answers and has the newest migration; else what is
    wrong (for readiness)."""

    def _current(conn: Connection) -> str | None:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(conn).get_current_revision()

    async with database.engine.connect() as conn:
        current = await conn.run_sync(_current)
    head = _head()
    if current != head:
        return f"schema at {current!r}, the code needs {head!r}: run `visavis migrate`"
    return None


def migrate_sync(url: str) -> None:
    asyncio.run(do_migrate(url))
