"""The chat group commit's own database connection (storage/engine.py:
`Database.own_writer` on SQLite, `Database.own_connection` on PostgreSQL), with real
faults: a group that raises keeps nothing and the connection serves the next; a
connection that broke is replaced; a lost PostgreSQL backend costs one group
(`overloaded`), not the next; and `dispose` closes the kept connection."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from services import conversation_service, new_conversation
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from until import until

from visavis.bus import MemoryBus
from visavis.conversations.announcer import conv_topic
from visavis.conversations.chat_write import Appended, ChatIn
from visavis.conversations.commits import ChatCommits
from visavis.conversations.service import ConversationService
from visavis.conversations.writes import Author
from visavis.errors import VisavisError
from visavis.protocol.wire import loads
from visavis.storage.engine import Database
from visavis.storage.migrate import do_migrate, migrate_sync
from visavis.storage.models import Event

CUSTOMER = Author("customer", None, "Bob")
ROOT = Path(__file__).resolve().parents[2]


async def stored(svc: ConversationService, cid: str) -> list[str | None]:
    """The client_ids of the conversation's chat messages, in seq order."""
    return [e.get("client_id") for e in await svc.events_after(cid, 1)]


class Boom(Exception):
    pass


async def test_sqlite_a_group_that_raises_keeps_nothing_and_the_next_commits(
    svc: ConversationService, database_url: str
) -> None:
    """SQLite's group is one transaction, committed at the block's end. (PostgreSQL's
    is one statement, committed at once: see the next test.)"""
    if database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's group commits in its one statement")
    cid = await new_conversation(svc)
    first = await svc.do_chat(cid, CUSTOMER, "kept-000001", "kept")
    with pytest.raises(Boom):
        async with svc.write_chats() as w:
            appended = await w.append_chats([ChatIn(cid, CUSTOMER, "lost-000001", "lost")])
            assert isinstance(appended[0], Appended) and appended[0].frame["seq"] == 3
            raise Boom  # after its rows were written, before the commit
    # nothing of it: no event, last_seq not bumped; what was accepted before stays
    assert await stored(svc, cid) == ["kept-000001"]
    assert (await svc.get(cid))["last_seq"] == first.frame["seq"] == 2
    # the kept connection serves the next group, which gets the seq the lost one had
    again = await svc.do_chat(cid, CUSTOMER, "lost-000001", "lost")
    assert again.created and again.frame["seq"] == 3
    assert await stored(svc, cid) == ["kept-000001", "lost-000001"]


async def test_postgresql_a_group_that_raises_after_its_write_committed_announces_it(
    database_url: str,
) -> None:
    """A group's statement is its own transaction (conversations/chat_rows.py):
    what it stored is announced although the block raised after it, and the
    sender's resend is answered with it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's group is one transaction, committed at its end")
    bus = MemoryBus()
    db = Database(database_url)
    try:
        svc = conversation_service(db, bus)
        cid = await new_conversation(svc)
        heard: list[object] = []
        bus.subscribe(conv_topic(cid), lambda text, frame: heard.append(loads(text)["seq"]))
        with pytest.raises(Boom):
            async with svc.write_chats() as w:
                await w.append_chats([ChatIn(cid, CUSTOMER, "kept-000002", "kept")])
                raise Boom
        assert heard == [2]
        assert await stored(svc, cid) == ["kept-000002"]
        again = await svc.do_chat(cid, CUSTOMER, "kept-000002", "kept")
        assert not again.created and again.frame["seq"] == 2
    finally:
        await db.dispose()


async def test_a_group_that_breaks_a_rule_is_rolled_back_whole(
    db: Database, svc: ConversationService
) -> None:
    """A real constraint violation in the middle of a group's writes (its
    `last_seq` bump ran, its insert of events fails on the unique seq): each sender is
    answered with the failure and nothing of the group is stored, nor of its
    retries one by one; the connection then serves the next group."""
    a, b = await new_conversation(svc), await new_conversation(svc)
    await svc.do_chat(a, CUSTOMER, "before-0001", "before")
    await svc.do_chat(b, CUSTOMER, "before-0002", "before")
    # seq 3 of `a` taken behind the conversation's back: the group's insert collides
    async with db.writer() as s:
        s.add(
            Event(conversation_id=a, seq=3, kind="note", author_role="system", body="{}",
                  created_at=datetime.now(UTC))
        )  # fmt: skip
        await s.commit()
    commits = ChatCommits(svc.write_chats, max_queued=100)
    results = await asyncio.gather(
        commits.submit(ChatIn(b, CUSTOMER, "group-00001", "b first")),
        commits.submit(ChatIn(a, CUSTOMER, "group-00002", "a collides")),
        commits.submit(ChatIn(b, CUSTOMER, "group-00003", "b second")),
        return_exceptions=True,
    )
    b_first, a_collides, b_second = results
    assert isinstance(a_collides, sa_exc.IntegrityError)
    # the others, retried alone, commit: exactly the bad message failed
    assert isinstance(b_first, Appended) and isinstance(b_second, Appended)
    assert (b_first.frame["seq"], b_second.frame["seq"]) == (3, 4)
    assert commits.batches == 2
    # the failed group's bump of `a` was rolled back with it
    assert (await svc.get(a))["last_seq"] == 2
    assert await stored(svc, a) == ["before-0001", None]  # the stray note only
    assert await stored(svc, b) == ["before-0002", "group-00001", "group-00003"]
    async with db.writer() as s:
        await s.execute(text("DELETE FROM events WHERE conversation_id = :c AND seq = 3"), {"c": a})
        await s.commit()
    resent = await commits.submit(ChatIn(a, CUSTOMER, "group-00002", "a collides"))
    assert resent.created and resent.frame["seq"] == 3


async def test_sqlite_a_kept_connection_that_cannot_roll_back_is_replaced(
    in_file: tuple[Database, ConversationService, Path],
) -> None:
    """The kept connection's sqlite3 connection closed under it: the group on it fails
    as a lost database does (`overloaded`, to be resent), its rollback fails too, so
    it is dropped and the next group commits on a new one. Nothing accepted before
    is lost."""
    db, svc, _ = in_file
    cid = await new_conversation(svc)
    await svc.do_chat(cid, CUSTOMER, "before-0001", "before")
    async with db.own_writer() as kept:
        pass
    kept.conn.close()
    with pytest.raises(VisavisError) as refused:
        await svc.do_chat(cid, CUSTOMER, "refused-001", "refused")
    assert refused.value.code == "overloaded"
    results = await asyncio.gather(
        *(svc.do_chat(cid, CUSTOMER, cl, cl) for cl in ("refused-001", "after-00001"))
    )
    assert [(r.created, r.frame["seq"]) for r in results] == [(True, 3), (True, 4)]
    assert await stored(svc, cid) == ["before-0001", "refused-001", "after-00001"]
    async with db.own_writer() as now:
        assert now is not kept


class OtherWriter:
    """Another process's writer (the CLI, a second server on the file): a connection
    of its own in a thread that holds the file's write lock until told to let go."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    async def take(self) -> None:
        await asyncio.to_thread(self.conn.execute, "BEGIN IMMEDIATE")

    async def let_go(self) -> None:
        await asyncio.to_thread(self.conn.execute, "COMMIT")
        await asyncio.to_thread(self.conn.close)


async def test_sqlite_a_lock_held_elsewhere_is_waited_for_beside_the_loop(
    in_file: tuple[Database, ConversationService, Path],
) -> None:
    """The kept connection runs on the event loop with no busy timeout, so it cannot
    sit in SQLite's wait for a lock: while another writer holds the file, a group
    waits for it in a thread and the loop goes on serving others (here: the test
    itself sees the wait begin), then commits once the lock is free."""
    db, svc, path = in_file
    other = OtherWriter(path)
    cid = await new_conversation(svc)
    await svc.do_chat(cid, CUSTOMER, "before-0001", "before")
    async with db.own_writer() as own:
        pass
    await other.take()
    sent = asyncio.ensure_future(svc.do_chat(cid, CUSTOMER, "waited-001", "waited"))
    await until(lambda: own.lock_waits == 1)
    assert not sent.done()
    await other.let_go()
    done = await sent
    assert done.created and done.frame["seq"] == 3
    # the next group finds the lock free: no wait
    await svc.do_chat(cid, CUSTOMER, "after-00001", "after")
    assert own.lock_waits == 1
    assert await stored(svc, cid) == ["before-0001", "waited-001", "after-00001"]


async def test_sqlite_a_group_cancelled_while_it_waits_for_the_lock_leaves_the_loop_free(
    in_file: tuple[Database, ConversationService, Path],
) -> None:
    """Shutting down while a group waits for a lock held elsewhere: the group commit's
    task is cancelled at once, but the connection is the wait's until it ends in its
    thread, so its rollback waits for that beside the loop (on the loop it would
    have blocked it for as long as SQLite waits). Then the connection serves again."""
    db, svc, path = in_file
    other = OtherWriter(path)
    cid = await new_conversation(svc)
    async with db.own_writer() as own:
        pass
    await other.take()
    sent = asyncio.ensure_future(svc.do_chat(cid, CUSTOMER, "cut-000001", "cut"))
    await until(lambda: own.lock_waits == 1)
    closing = asyncio.ensure_future(svc.chats.close())
    for _ in range(5):  # the loop goes on (a rollback on it would hold it here)
        await asyncio.sleep(0)
    assert not closing.done()  # the rollback waits for the wait
    await other.let_go()
    await closing
    sent.cancel()  # its group was cut short, unanswered (a shutdown's)
    done = await svc.do_chat(cid, CUSTOMER, "after-00001", "after")
    assert done.created
    assert await stored(svc, cid) == ["after-00001"]


async def test_sqlite_a_lock_held_past_the_timeout_is_overloaded_and_the_resend_lands_once(
    in_file: tuple[Database, ConversationService, Path],
) -> None:
    db, svc, path = in_file
    other = OtherWriter(path)
    cid = await new_conversation(svc)
    async with db.own_writer() as own:
        own.timeout_s = 0.05
    await other.take()
    with pytest.raises(VisavisError) as refused:
        await svc.do_chat(cid, CUSTOMER, "refused-001", "refused")
    assert refused.value.code == "overloaded"
    await other.let_go()
    resent = await svc.do_chat(cid, CUSTOMER, "refused-001", "refused")
    assert resent.created
    assert await stored(svc, cid) == ["refused-001"]


async def backend_pid(db: Database) -> int:
    async with db.own_connection() as own:
        pid = await own.raw.fetchval("SELECT pg_backend_pid()")
    assert isinstance(pid, int)
    return pid


async def test_postgresql_a_lost_backend_costs_one_group_and_the_next_reconnects(
    pg_database_url: str,
) -> None:
    await do_migrate(pg_database_url)
    db = Database(pg_database_url)
    try:
        svc = conversation_service(db)
        cid = await new_conversation(svc)
        await svc.do_chat(cid, CUSTOMER, "before-0001", "before")
        pid = await backend_pid(db)
        async with db.sessions() as s:
            assert await s.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        # until PostgreSQL itself says the backend is gone
        async with db.sessions() as s:
            gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p")
            for _ in range(3000):
                if not await s.scalar(gone, {"p": pid}):
                    break
                await s.rollback()  # a fresh snapshot of pg_stat_activity
                await asyncio.sleep(0.01)
            else:
                raise AssertionError(f"backend {pid} never went away")
        # the group on the dead connection: said overloaded, nothing stored
        with pytest.raises(VisavisError) as refused:
            await svc.do_chat(cid, CUSTOMER, "refused-001", "refused")
        assert refused.value.code == "overloaded"
        assert await stored(svc, cid) == ["before-0001"]
        # the next group reconnects (a new backend) and commits; the resend lands once
        resent = await svc.do_chat(cid, CUSTOMER, "refused-001", "refused")
        assert resent.created and resent.frame["seq"] == 3
        assert await backend_pid(db) != pid
        again = await svc.do_chat(cid, CUSTOMER, "refused-001", "refused")
        assert not again.created and again.frame == resent.frame
        assert await stored(svc, cid) == ["before-0001", "refused-001"]
    finally:
        await db.dispose()


DISPOSE_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, sys.argv[2])
    from services import conversation_service
    from visavis.conversations.writes import Author
    from visavis.storage.engine import Database

    async def main() -> None:
        db = Database(sys.argv[1])
        svc = conversation_service(db)
        conv, _ = await svc.do_create("Bob", None, "de", None)
        done = await svc.do_chat(conv["id"], Author("customer", None, "Bob"), "exit-000001", "x")
        assert done.created and db.has_own_writer
        await svc.chats.close()
        await db.dispose()
        print("disposed", flush=True)

    asyncio.run(main())
    """
)


def test_dispose_closes_the_kept_connection_so_the_process_can_exit(tmp_path: Path) -> None:
    """aiosqlite's thread is not a daemon: a kept connection left open would keep
    the interpreter from exiting after `main` returned."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'exit.db'}"
    migrate_sync(url)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])}
    proc = subprocess.Popen(
        [sys.executable, "-c", DISPOSE_SCRIPT, url, str(ROOT / "tests")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the process did not exit after dispose: {out!r} {err!r}") from None
    assert proc.returncode == 0, err
    assert out.strip() == "disposed"
