"""The schema's newest revision as the code states it (`storage.migrate.HEAD`, read
without Alembic at every start and command) is Alembic's own head of the migration
scripts; and a database is migrated once, then found at the head."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from visavis.storage.engine import make_engine
from visavis.storage.migrate import HEAD, alembic_config, current_revision, do_migrate


def test_head_is_the_newest_migration_script() -> None:
    assert ScriptDirectory.from_config(alembic_config("")).get_heads() == [HEAD]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind, not migrated."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    url: str = request.getfixturevalue("pg_database_url")
    return url


async def test_a_fresh_database_is_migrated_then_found_at_the_head(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        async with engine.connect() as conn:
            assert await current_revision(conn) is None  # no alembic_version table yet
            # ... and the failed read left the connection usable (PostgreSQL aborts
            # the transaction of a failed statement)
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        await do_migrate(fresh_url)
        async with engine.connect() as conn:
            assert await current_revision(conn) == HEAD
            count = await conn.execute(text("SELECT count(*) FROM conversations"))
            assert count.scalar() == 0
        await do_migrate(fresh_url)  # at the head: nothing to do, nothing changed
        async with engine.connect() as conn:
            assert await current_revision(conn) == HEAD
    finally:
        await engine.dispose()
