"""SQLite in a file: the batched summaries (a reconnect storm's reads) are read on the
event loop (storage/loop_reads.py) and equal what a session reads; a file that a
reader cannot read at once (locked exclusively by another program) is read through
the session instead, which waits beside the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services import executed_statements, new_conversation
from sqlalchemy import update
from until import until

from visavis.auth.service import AuthService
from visavis.conversations.reads import ConversationReads
from visavis.conversations.service import ConversationService
from visavis.storage.engine import Database
from visavis.storage.models import Conversation


async def some_conversations(db: Database, svc: ConversationService) -> list[str]:
    """A queued one, one with an adviser and a consulting colleague and a call, one
    ended: every kind of column a summary shows, names from two joins included."""
    auth = AuthService(db, 3, 3600, 5)
    anna = await auth.do_add_adviser("anna@bank.example", "pw-123456789", "Anna Ähnlich")
    ben = await auth.do_add_adviser("ben@bank.example", "pw-123456789", "Ben")
    queued, busy, ended = [await new_conversation(svc) for _ in range(3)]
    now = datetime(2026, 12, 5, 10, 30, 15, 123456, tzinfo=UTC)
    async with db.writer() as w:
        # the columns as the services leave them; set here, as only reading is tested
        await w.execute(
            update(Conversation)
            .where(Conversation.id == busy)
            .values(status="active", adviser_id=anna.id, consultant_id=ben.id,
                    accepted_at=now, call_id="call-1", call_status="ringing",
                    call_media="video", call_requested_by="customer",
                    call_requested_at=now + timedelta(seconds=3), last_seq=7,
                    customer_read_seq=5, topic="Kredit", contact="bob@example.org")
        )  # fmt: skip
        await w.execute(
            update(Conversation)
            .where(Conversation.id == ended)
            .values(status="ended", adviser_id=ben.id, ended_at=now)
        )
        await w.commit()
    return [queued, busy, ended]


async def test_summaries_read_on_the_loop_equal_the_sessions(
    in_file: tuple[Database, ConversationService, Path],
) -> None:
    db, svc, _ = in_file
    ids = await some_conversations(db, svc)
    assert db.loop_reads is not None
    through_session = ConversationReads(db.sessions)
    wanted = [*ids, "no-such-conversation"]
    with executed_statements(db) as statements:
        on_loop = await svc._summaries_of(wanted)
    assert statements == []  # none went through SQLAlchemy's engine
    assert on_loop == await through_session._summaries_of(wanted)
    assert set(on_loop) == set(ids)
    busy = on_loop[ids[1]]
    assert busy["adviser"] == {"role": "adviser", "id": busy["adviser"]["id"], "name": "Anna Ähnlich"}  # type: ignore[index]  # fmt: skip
    assert busy["consultant"] is not None and busy["consultant"]["name"] == "Ben"
    assert busy["accepted_at"] == "2026-12-05T10:30:15.123456Z"
    assert busy["call"] is not None and busy["call"]["requested_at"] == "2026-12-05T10:30:18.123456Z"  # fmt: skip
    # the same statement serves any number of ids (compiled once per number)
    assert await svc._summaries_of([ids[2]]) == {ids[2]: on_loop[ids[2]]}


async def test_a_file_locked_by_another_program_is_read_through_the_session(
    in_file: tuple[Database, ConversationService, Path],
) -> None:
    """Another program holds the file exclusively: the read on the loop fails at once
    (no wait on the loop, not even to open the file), the session's read waits in its
    thread until the lock is gone, and then answers."""
    db, svc, path = in_file
    ids = await some_conversations(db, svc)
    expected = await svc._summaries_of(ids)
    assert db.loop_reads is not None and db.loop_reads.busy == 0
    # the program takes the file while nobody of ours has it open
    db.loop_reads.close()
    await db.engine.dispose()
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    await asyncio.to_thread(other.execute, "PRAGMA locking_mode = EXCLUSIVE")
    await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")
    try:
        read = asyncio.ensure_future(svc._summaries_of(ids))
        await until(lambda: db.loop_reads is not None and db.loop_reads.busy > 0)
        assert not read.done()  # waiting in the session's thread, not on the loop
    finally:
        await asyncio.to_thread(other.execute, "COMMIT")
        await asyncio.to_thread(other.close)
    assert await read == expected
    assert await svc._summaries_of(ids) == expected  # and on the loop again
    assert db.loop_reads.busy == 1
