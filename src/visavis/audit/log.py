"""The audit log: who read, exported, erased or deleted what, append-only and chained.

Each entry carries the SHA-256 of its predecessor (`prev_hash`) and its own `hash`
over a canonical JSON of all its fields (id, time, actor, action, subject, detail,
prev_hash), so changing, removing or inserting an entry breaks the chain at that
entry and `check_chain` names it. The first entry's predecessor is `GENESIS`.

`do_audit` appends inside the caller's transaction, so an entry exists exactly when
what it records was committed. Appends are serialised: on PostgreSQL by a
transaction-scoped advisory lock, on SQLite by the single writer (`Database.writer()`
in this process; another process's write in between makes SQLite refuse ours with
SQLITE_BUSY rather than let it fork the chain). The unique `prev_hash` is the last
guard on both: two entries can never follow the same predecessor.

Details hold ids and counts, never content (no message text, no file bytes, no
names): the log outlives every retention period and is not part of an erasure.

This package sits on the lowest layer beside `storage` and does not import it: the
table is described here in SQLAlchemy Core and created by migration 0011_privacy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

GENESIS = "0" * 64
# pg_advisory_xact_lock key of the audit chain ("visavis audit" as a number)
PG_LOCK_KEY = 0x76_69_73_61_75_64_69_74
MAX_ACTOR = 120
MAX_ACTION = 64
MAX_SUBJECT = 200

metadata = MetaData()
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(MAX_ACTOR), nullable=False),
    Column("action", String(MAX_ACTION), nullable=False),
    Column("subject", String(MAX_SUBJECT), nullable=False),
    Column("detail", Text, nullable=False),  # canonical JSON, hashed as stored
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False),
)


def canonical(value: Any) -> str:
    """The one JSON spelling of `value`: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def stamp(at: datetime) -> str:
    """A time as hashed: UTC, microseconds (what both databases keep). SQLite hands
    back naive datetimes; they were written as UTC."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    id: int, at: datetime, actor: str, action: str, subject: str, detail: str, prev_hash: str
) -> str:
    fields = {
        "id": id,
        "at": stamp(at),
        "actor": actor,
        "action": action,
        "subject": subject,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


async def _serialise(session: AsyncSession) -> None:
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})


async def do_audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Append one entry in the caller's transaction (the caller commits). `actor`:
    who (`adviser:<id>`, `cli`, `system:retention`), `action`: what (`document.download`),
    `subject`: on what (`conversation:<id>`, `document:<id>`), `detail`: ids and counts."""
    for name, value, limit in (
        ("actor", actor, MAX_ACTOR),
        ("action", action, MAX_ACTION),
        ("subject", subject, MAX_SUBJECT),
    ):
        if not value or len(value) > limit:
            raise ValueError(f"audit {name}: expected 1 to {limit} characters, got {value!r}")
    await _serialise(session)
    last = (
        await session.execute(
            select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
        )
    ).first()
    new_id, prev = (last[0] + 1, last[1]) if last is not None else (1, GENESIS)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    body = canonical(detail or {})
    await session.execute(
        audit_log.insert().values(
            id=new_id,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            detail=body,
            prev_hash=prev,
            hash=entry_hash(new_id, at, actor, action, subject, body, prev),
        )
    )


class AuditLog:
    """`do_audit` in a transaction of its own, for callers that only read (a
    download): `AuditLog(database.writer)`."""

    def __init__(self, writer: Callable[[], AbstractAsyncContextManager[AsyncSession]]) -> None:
        self._writer = writer

    async def do_record(
        self, *, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None
    ) -> None:
        async with self._writer() as db:
            await do_audit(db, actor=actor, action=action, subject=subject, detail=detail)
            await db.commit()


@dataclass(frozen=True)
class Problem:
    id: int  # the entry where the chain breaks (for a removal: the first missing id)
    what: str

    def __str__(self) -> str:
        return f"entry {self.id}: {self.what}"


@dataclass
class Verification:
    count: int = 0
    head_id: int = 0
    head_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def _rows(session: AsyncSession, batch: int = 1000) -> AsyncIterator[Any]:
    after = 0
    while True:
        rows = (
            await session.execute(
                select(audit_log)
                .where(audit_log.c.id > after)
                .order_by(audit_log.c.id)
                .limit(batch)
            )
        ).all()
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        after = rows[-1].id


async def check_chain(
    session: AsyncSession, expect_head: tuple[int, str] | None = None
) -> Verification:
    """Walk the whole chain and name every entry where it breaks:
    - a changed entry: its stored hash is not the hash of its fields;
    - removed entries: the ids jump and the next one's `prev_hash` is not its
      predecessor's hash;
    - an inserted or replaced entry: it does not follow the entry before it.
    Removing entries at the end leaves a shorter, intact chain; `expect_head` (an id
    and hash printed by an earlier verify and kept elsewhere) catches that too."""
    result = Verification()
    prev_id, prev_hash = 0, GENESIS
    async for row in _rows(session):
        result.count += 1
        computed = entry_hash(
            row.id, row.at, row.actor, row.action, row.subject, row.detail, row.prev_hash
        )
        if computed != row.hash:
            result.problems.append(Problem(row.id, "changed: its hash does not match its content"))
        if row.prev_hash != prev_hash:
            if row.id > prev_id + 1:
                missing = (
                    f"{prev_id + 1}" if row.id == prev_id + 2 else f"{prev_id + 1}-{row.id - 1}"
                )
                result.problems.append(
                    Problem(prev_id + 1, f"removed (entries {missing} are missing before {row.id})")
                )
            else:
                result.problems.append(
                    Problem(
                        row.id,
                        f"inserted or replaced: it does not follow entry {prev_id}"
                        if prev_id
                        else "inserted or replaced: the first entry must follow the genesis hash",
                    )
                )
        elif row.id != prev_id + 1:
            result.problems.append(Problem(row.id, f"out of sequence after entry {prev_id}"))
        prev_id, prev_hash = row.id, row.hash
    result.head_id, result.head_hash = prev_id, prev_hash
    if expect_head is not None:
        want_id, want_hash = expect_head
        if want_id > prev_id:
            result.problems.append(
                Problem(prev_id + 1, f"removed (the log ends at {prev_id}, expected {want_id})")
            )
        else:
            row = (
                await session.execute(select(audit_log.c.hash).where(audit_log.c.id == want_id))
            ).first()
            if row is None or row[0] != want_hash:
                result.problems.append(Problem(want_id, "is not the expected head entry"))
    return result


async def entries(
    session: AsyncSession,
    *,
    subject: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[Entry]:
    """The newest entries first, optionally of one subject or action."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if subject is not None:
        query = query.where(audit_log.c.subject == subject)
    if action is not None:
        query = query.where(audit_log.c.action == action)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    rows = (await session.execute(query)).all()
    return [
        Entry(
            r.id,
            r.at if r.at.tzinfo is not None else r.at.replace(tzinfo=UTC),
            r.actor,
            r.action,
            r.subject,
            json.loads(r.detail),
            r.prev_hash,
            r.hash,
        )
        for r in rows
    ]
