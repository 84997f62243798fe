"""The audit log is a hash chain: a changed, removed or inserted entry is found and
named by its id; concurrent appends make one chain (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from zygote import run_visavis

from visavis.audit.log import AuditLog, audit_log, check_chain, do_audit, entry_hash
from visavis.storage.engine import Database


async def append(db: Database, n: int, action: str = "document.download") -> None:
    for i in range(n):
        async with db.writer() as s:
            await do_audit(
                s, actor="adviser:a1", action=action, subject=f"document:d{i}", detail={"n": i}
            )
            await s.commit()


async def verify(db: Database) -> list[str]:
    async with db.sessions() as s:
        return [str(p) for p in (await check_chain(s)).problems]


async def test_an_intact_chain_verifies(db: Database) -> None:
    await append(db, 5)
    async with db.sessions() as s:
        result = await check_chain(s)
        rows = (await s.execute(select(audit_log).order_by(audit_log.c.id))).all()
    assert result.ok and result.count == 5 and result.head_id == 5
    assert [r.id for r in rows] == [1, 2, 3, 4, 5]
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 5))


async def test_a_changed_entry_is_named(db: Database) -> None:
    await append(db, 5)
    async with db.writer() as s:
        await s.execute(update(audit_log).where(audit_log.c.id == 3).values(actor="adviser:x"))
        await s.commit()
    assert await verify(db) == ["entry 3: changed: its hash does not match its content"]


async def test_a_changed_entry_with_a_recomputed_hash_breaks_the_next_link(db: Database) -> None:
    """A forger who also recomputes the changed entry's hash still breaks its successor."""
    await append(db, 4)
    async with db.writer() as s:
        row = (await s.execute(select(audit_log).where(audit_log.c.id == 2))).one()
        forged = entry_hash(2, row.at, row.actor, "nothing", row.subject, row.detail, row.prev_hash)
        await s.execute(
            update(audit_log).where(audit_log.c.id == 2).values(action="nothing", hash=forged)
        )
        await s.commit()
    assert await verify(db) == ["entry 3: inserted or replaced: it does not follow entry 2"]


async def test_a_removed_entry_is_named(db: Database) -> None:
    await append(db, 5)
    async with db.writer() as s:
        await s.execute(delete(audit_log).where(audit_log.c.id == 2))
        await s.commit()
    assert await verify(db) == ["entry 2: removed (entries 2 are missing before 3)"]


async def test_an_inserted_entry_is_named(db: Database) -> None:
    """Squeezed in between 2 and 3 (renumbering 3 -> 4): the unique `prev_hash` keeps
    it from following entry 2 as well, and any other predecessor breaks the chain."""
    await append(db, 3)
    async with db.writer() as s:
        await s.execute(update(audit_log).where(audit_log.c.id == 3).values(id=4))
        at, prev = datetime.now(UTC), "f" * 64
        await s.execute(
            audit_log.insert().values(
                id=3, at=at, actor="cli", action="x", subject="y", detail="{}",
                prev_hash=prev, hash=entry_hash(3, at, "cli", "x", "y", "{}", prev),
            )
        )  # fmt: skip
        await s.commit()
    assert await verify(db) == [
        "entry 3: inserted or replaced: it does not follow entry 2",
        "entry 4: changed: its hash does not match its content",
        "entry 4: inserted or replaced: it does not follow entry 3",
    ]


async def test_a_second_successor_of_one_entry_is_refused(db: Database) -> None:
    await append(db, 2)
    async with db.writer() as s:
        prev = (await s.execute(select(audit_log.c.prev_hash).where(audit_log.c.id == 2))).scalar()
        with pytest.raises(IntegrityError):
            await s.execute(
                audit_log.insert().values(
                    id=3, at=datetime.now(UTC), actor="cli", action="x", subject="y",
                    detail="{}", prev_hash=prev, hash="0" * 64,
                )
            )  # fmt: skip


async def test_entries_removed_at_the_end_are_caught_with_the_expected_head(db: Database) -> None:
    await append(db, 4)
    async with db.sessions() as s:
        head = await check_chain(s)
    async with db.writer() as s:
        await s.execute(delete(audit_log).where(audit_log.c.id == 4))
        await s.commit()
    async with db.sessions() as s:
        assert (await check_chain(s)).ok  # the shorter chain is intact in itself...
        late = await check_chain(s, (head.head_id, head.head_hash))
    assert [str(p) for p in late.problems] == ["entry 4: removed (the log ends at 3, expected 4)"]


async def test_concurrent_appends_make_one_chain(db: Database) -> None:
    log = AuditLog(db.writer)
    await asyncio.gather(
        *(
            log.do_record(actor=f"adviser:{i}", action="document.download", subject=f"d:{i}")
            for i in range(20)
        )
    )
    async with db.sessions() as s:
        result = await check_chain(s)
    assert result.ok and result.count == 20


async def test_an_entry_is_part_of_the_callers_transaction(db: Database) -> None:
    async with db.writer() as s:
        await do_audit(s, actor="cli", action="subject.erase", subject="conversation:c1")
        await s.rollback()
    async with db.sessions() as s:
        assert (await check_chain(s)).count == 0


async def test_times_are_hashed_as_stored(db: Database) -> None:
    """Microseconds and time zones survive the database round trip on both."""
    odd = datetime(2026, 3, 29, 1, 59, 59, 123456, tzinfo=UTC) + timedelta(hours=0)
    async with db.writer() as s:
        await do_audit(s, actor="cli", action="a", subject="s", detail={"ü": 1}, now=odd)
        await s.commit()
    assert await verify(db) == []


def test_visavis_audit_verify_names_the_changed_entry(tmp_path: Path) -> None:
    env = {**os.environ, "VISAVIS_DATA_DIR": str(tmp_path)}
    env.pop("VISAVIS_DATABASE_URL", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_visavis(list(args), env)

    empty = cli("audit", "verify")
    assert empty.returncode == 0, empty.stderr
    url = f"sqlite+aiosqlite:///{tmp_path / 'visavis.db'}"

    async def write_then_tamper() -> None:
        db = Database(url)
        try:
            await append(db, 3)
            async with db.writer() as s:
                await s.execute(update(audit_log).where(audit_log.c.id == 2).values(detail="{}"))
                await s.commit()
        finally:
            await db.dispose()

    asyncio.run(write_then_tamper())
    out = cli("audit", "verify")
    assert out.returncode == 1
    assert "BROKEN entry 2: changed" in out.stdout
    listed = cli("audit", "list", "--limit", "2")
    assert listed.returncode == 0 and listed.stdout.count("\n") == 2


@pytest.mark.parametrize("bad", ["", "x" * 121])
async def test_an_actor_must_be_named(db: Database, bad: str) -> None:
    async with db.writer() as s:
        with pytest.raises(ValueError, match="audit actor"):
            await do_audit(s, actor=bad, action="a", subject="s")
