"""The server's WAL checkpoints (storage/checkpoint.py), on a real SQLite file: its
connections leave checkpoints to the checkpointer, which copies the WAL beside the
commits and starts it over (holding the write lock only for the last few pages)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from visavis.storage.checkpoint import WalCheckpointer
from visavis.storage.engine import Database


def wal_pages(path: Path) -> int:
    """The WAL's size in pages, as SQLite counts them (what a checkpoint would copy)."""
    conn = sqlite3.connect(path)
    try:
        _busy, pages, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(pages)
    finally:
        conn.close()


ServerDb = tuple[Database, WalCheckpointer, Path]


@pytest.fixture
async def server_db(tmp_path: Path) -> AsyncIterator[ServerDb]:
    """A database as the server has it (checkpoints on, not started), with a table."""
    path = tmp_path / "v.db"
    db = Database(f"sqlite+aiosqlite:///{path}", checkpoints=True)
    assert db.checkpointer is not None
    try:
        async with db.writer() as session:
            await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
            await session.commit()
        yield db, db.checkpointer, path
    finally:
        await db.dispose()


async def write_rows(db: Database, n: int) -> None:
    for i in range(n):
        async with db.writer() as session:
            await session.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 2000 + str(i)})
            await session.commit()


async def test_the_server_connections_leave_checkpoints_to_the_checkpointer(
    server_db: ServerDb,
) -> None:
    db, _, path = server_db
    # far past SQLite's own 1,000 pages: no commit checkpointed on its way
    await write_rows(db, 1500)
    assert wal_pages(path) > 1500
    async with db.own_writer() as own:
        assert own.conn.execute("PRAGMA wal_autocheckpoint").fetchall() == [(0,)]


async def test_a_round_copies_the_wal_and_the_next_commit_starts_it_over(
    server_db: ServerDb,
) -> None:
    db, checkpointer, path = server_db
    checkpointer.restart_pages = 100
    await write_rows(db, 300)
    assert wal_pages(path) > 300
    await checkpointer.do_round()
    assert checkpointer.locked_rounds == 1 and checkpointer.rounds == 1
    assert checkpointer.hard_restarts == 0
    await write_rows(db, 1)
    # the WAL started over: it holds the one commit since
    assert wal_pages(path) < 10
    async with db.sessions() as session:
        count = (await session.execute(text("SELECT count(*) FROM t"))).scalar_one()
    assert count == 301


async def test_a_wal_past_the_hard_limit_is_started_over_by_sqlite(
    server_db: ServerDb,
) -> None:
    """Another process's commits may keep the WAL from ever being copied whole at a
    commit's start (`--workers` on SQLite): past `hard_pages`, SQLite's RESTART."""
    db, checkpointer, path = server_db
    checkpointer.restart_pages = checkpointer.hard_pages = 100
    await write_rows(db, 300)
    await checkpointer.do_round()
    assert checkpointer.hard_restarts == 1
    await write_rows(db, 1)
    assert wal_pages(path) < 10


async def test_a_quiet_wal_is_started_over_without_the_lock(server_db: ServerDb) -> None:
    """No commit ran beside the checkpoint: it copied every page, and the next commit
    starts the WAL over by itself (SQLite does), below the restart's threshold."""
    db, checkpointer, path = server_db
    await write_rows(db, 20)
    await checkpointer.do_round()
    assert checkpointer.rounds == 1 and checkpointer.locked_rounds == 0
    await write_rows(db, 1)
    assert wal_pages(path) < 10


async def test_a_failing_checkpoint_is_said_once_and_tried_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = WalCheckpointer(str(tmp_path / "gone" / "v.db"), asyncio.Lock())
    try:
        with caplog.at_level(logging.WARNING, "visavis.storage.checkpoint"):
            await checkpointer.do_round()
            await checkpointer.do_round()
        failures = [r for r in caplog.records if "WAL checkpoint failed" in r.message]
        assert len(failures) == 1, caplog.text
        assert checkpointer.rounds == 0
    finally:
        await checkpointer.stop()


async def test_the_server_database_runs_its_checkpoints_until_disposed(
    server_db: ServerDb,
) -> None:
    db, checkpointer, path = server_db
    checkpointer.every_s = 0.0
    three = asyncio.Event()
    one_round = checkpointer.do_round

    async def counted() -> None:
        await one_round()
        if checkpointer.rounds >= 3:
            three.set()

    checkpointer.do_round = counted  # type: ignore[method-assign]
    db.start_checkpoints()
    await asyncio.wait_for(three.wait(), 60)
    assert path in open_files()  # the checkpointer's, at least
    await db.dispose()
    rounds = checkpointer.rounds
    await asyncio.sleep(0)
    assert checkpointer.rounds == rounds
    assert path not in open_files()


def open_files() -> set[Path]:
    """What this process's descriptors point at (Linux)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # closed meanwhile (listdir's own)
            found.add(Path(os.readlink(f"/proc/self/fd/{fd}")))
    return found


def test_only_a_file_database_asked_for_it_gets_a_checkpointer(tmp_path: Path) -> None:
    assert Database(f"sqlite+aiosqlite:///{tmp_path / 'v.db'}").checkpointer is None
    assert Database("sqlite+aiosqlite:///:memory:", checkpoints=True).checkpointer is None
    assert Database("postgresql+asyncpg://u@h/d", checkpoints=True).checkpointer is None
