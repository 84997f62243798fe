"""Group commit of chat messages (conversations/commits.py) on SQLite and PostgreSQL:
many messages in one transaction, each sender answered only after its commit, seqs in
the order submitted, one bad message never failing the others, and a full queue said
(`overloaded`) instead of queued, with a resend stored exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asyncpg.connection import LoggedQuery
from services import conversation_service, new_conversation
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from until import until

from visavis.auth.service import AuthService
from visavis.bus import MemoryBus
from visavis.config import POSTGRES_LINGER_US, SQLITE_LINGER_US, Settings
from visavis.conversations.announcer import conv_topic
from visavis.conversations.chat_rows import (
    _PG_APPEND,
    ConvRow,
    NewChat,
    chat_refusal,
    chat_rows,
)
from visavis.conversations.chat_write import Appended, ChatIn, ChatWrite
from visavis.conversations.commits import MAX_RETRY_MS, MIN_RETRY_MS, ChatCommits, check_linger_us
from visavis.conversations.service import ConversationService
from visavis.conversations.writes import Author
from visavis.errors import VisavisError
from visavis.protocol.wire import dumps, loads
from visavis.routing.decide import ChatLimits
from visavis.storage.engine import Database

CUSTOMER = Author("customer", None, "Bob")


async def active_conversation(
    db: Database, svc: ConversationService, email: str
) -> tuple[str, Author]:
    auth = AuthService(db, 3, 3600, 5)
    anna = await auth.do_add_adviser(email, "long-enough-pw", "Anna", max_chats=5)
    cid = await new_conversation(svc)
    await svc.do_accept(cid, anna.id, anna.name, ChatLimits(5))
    return cid, Author("adviser", anna.id, anna.name)


class Gate:
    """Writes that stop between appending and committing until released: what a
    sender is told while its transaction is still open can be observed."""

    def __init__(self, svc: ConversationService) -> None:
        self.svc = svc
        self.appended = asyncio.Event()
        self.release = asyncio.Event()
        self.writes = 0

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[ChatWrite]:
        self.writes += 1
        async with self.svc.write_chats() as w:
            yield w
            self.appended.set()
            await self.release.wait()


async def test_a_group_commits_once_and_answers_after_the_commit(
    svc: ConversationService, database_url: str
) -> None:
    a, b = await new_conversation(svc), await new_conversation(svc)
    gate = Gate(svc)
    commits = ChatCommits(gate.write, max_queued=100)
    futures = [
        commits.submit(ChatIn(cid, CUSTOMER, f"{cid[:6]}-{i:03d}", f"{cid[:6]} {i}"))
        for i in range(20)
        for cid in (a, b)
    ]
    await asyncio.wait_for(gate.appended.wait(), 30)
    # appended: nobody is answered; and no other session sees a row, but where the
    # write was its own transaction (PostgreSQL's one statement)
    assert not any(f.done() for f in futures)
    seen = len(await svc.events_after(a, 0))
    assert seen == (21 if database_url.startswith("postgresql") else 1)
    gate.release.set()
    results = await asyncio.gather(*futures)
    assert gate.writes == 1 and commits.batches == 1 and commits.committed == 40
    for cid in (a, b):
        mine = [r for r in results if r.frame["conversation_id"] == cid]
        # seqs in the order submitted, after conversation.created
        assert [r.frame["seq"] for r in mine] == list(range(2, 22))
        assert [r.frame["body"]["text"] for r in mine] == [f"{cid[:6]} {i}" for i in range(20)]
        stored = await svc.events_after(cid, 1)
        assert [e["client_id"] for e in stored] == [r.frame["client_id"] for r in mine]
        assert stored == [r.frame for r in mine]  # what was announced is what is stored
        assert (await svc.get(cid))["last_seq"] == 21


async def test_messages_arriving_during_a_commit_share_the_next(
    svc: ConversationService,
) -> None:
    cid = await new_conversation(svc)
    gate = Gate(svc)
    commits = ChatCommits(gate.write, max_queued=100)
    first = commits.submit(ChatIn(cid, CUSTOMER, "first-0001", "first"))
    await asyncio.wait_for(gate.appended.wait(), 30)
    later = [commits.submit(ChatIn(cid, CUSTOMER, f"later-{i:04d}", str(i))) for i in range(10)]
    gate.release.set()
    results = await asyncio.gather(first, *later)
    assert gate.writes == 2  # one for the first, one for the ten that waited
    assert [r.frame["seq"] for r in results] == list(range(2, 13))


async def test_one_refused_message_does_not_fail_its_group(
    db: Database, svc: ConversationService
) -> None:
    open_, ended = await new_conversation(svc), await new_conversation(svc)
    await svc.do_end(ended, CUSTOMER)
    theirs, _anna = await active_conversation(db, svc, "anna@bank.example")
    _other, ben = await active_conversation(db, svc, "ben@bank.example")
    gate = Gate(svc)
    commits = ChatCommits(gate.write, max_queued=100)
    gate.release.set()
    results = await asyncio.gather(
        commits.submit(ChatIn(open_, CUSTOMER, "ok-00000001", "one")),
        commits.submit(ChatIn(ended, CUSTOMER, "late-0000001", "too late")),
        commits.submit(ChatIn(theirs, ben, "ben-00000001", "not mine")),
        commits.submit(ChatIn("no-such-conversation", CUSTOMER, "lost-000001", "?")),
        commits.submit(ChatIn(open_, CUSTOMER, "ok-00000002", "two")),
        return_exceptions=True,
    )
    assert gate.writes == 1
    ok1, late, forbidden, missing, ok2 = results
    assert isinstance(ok1, Appended) and isinstance(ok2, Appended)
    assert (ok1.frame["seq"], ok2.frame["seq"]) == (2, 3)
    assert isinstance(late, VisavisError) and late.code == "invalid_state"
    assert isinstance(forbidden, VisavisError) and forbidden.code == "forbidden"
    assert isinstance(missing, VisavisError) and missing.code == "not_found"
    assert [e["kind"] for e in await svc.events_after(ended, 0)][-1] == "conversation.ended"


async def test_a_message_stored_by_another_node_meanwhile_is_answered_as_a_resend(
    database_url: str,
) -> None:
    """Another node stores a client_id (a resend that reached it) while this node's
    group waits for the conversation's row lock. The group's statement began before
    that event was committed and does not see it: its insert breaks the unique key,
    the statement fails and the group is retried message by message, which answers
    the resend with the other node's event and stores the rest, in order. (Row locks
    are PostgreSQL's; SQLite's nodes are one process, whose writers take turns.)"""
    if not database_url.startswith("postgresql"):
        pytest.skip("a lock wait between two nodes is PostgreSQL's")
    here, there = Database(database_url), Database(database_url)
    try:
        svc, other = conversation_service(here), conversation_service(there)
        cid = await new_conversation(svc)
        async with there.writer() as theirs:  # the other node's write, held open
            await theirs.execute(
                text("UPDATE conversations SET last_seq = 2 WHERE id = :c"), {"c": cid}
            )
            await theirs.execute(
                text(
                    "INSERT INTO events (conversation_id, seq, kind, author_role, "
                    "author_name, client_id, body, created_at) VALUES (:c, 2, "
                    "'chat.message', 'customer', 'Bob', 'raced-000001', "
                    """'{"text":"resent"}', now())"""
                ),
                {"c": cid},
            )
            commits = svc.chats
            ours = [
                commits.submit(ChatIn(cid, CUSTOMER, cl, cl))
                for cl in ("before-00001", "raced-000001", "after-000001")
            ]
            await wait_for_lock_waiter(here)
            await theirs.commit()
        before, raced, after = await asyncio.gather(*ours)
        first = (await other.events_after(cid, 1))[0]
        assert first["client_id"] == "raced-000001" and first["seq"] == 2
        assert not raced.created and raced.frame == first
        assert before.created and after.created
        assert (before.frame["seq"], after.frame["seq"]) == (3, 4)
        assert commits.batches == 3  # the failed group was not counted; then each alone
        stored = [e["client_id"] for e in await svc.events_after(cid, 1)]
        assert stored == ["raced-000001", "before-00001", "after-000001"]
    finally:
        await here.dispose()
        await there.dispose()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("last_seq = last_seq + 1", None),
        ("status = 'ended'", "invalid_state"),
        ("adviser_id = NULL", "forbidden"),
        ("consultant_id = 'a-colleague'", None),
    ],
)
async def test_postgresql_a_group_decides_on_the_conversation_as_it_is_once_locked(
    db: Database, database_url: str, change: str, code: str | None
) -> None:
    """Another writer changes a conversation while the group's statement waits for its
    lock: the statement decides on the row as committed then, not as it was when the
    statement began. A message the change forbids is refused with its reason, one it
    allows gets the seq after the other writer's; the group's other conversation is
    written either way."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's group reads and writes in one locked transaction")
    here = Database(database_url)
    try:
        svc = conversation_service(here)
        a, anna = await active_conversation(here, svc, "guard@example.org")
        b = await new_conversation(svc)
        async with db.writer() as s:  # another writer, committed while the group waits
            await s.execute(text(f"UPDATE conversations SET {change} WHERE id = :c"), {"c": a})
            results = [
                svc.chats.submit(ChatIn(a, anna, "guard-000001", "x")),
                svc.chats.submit(ChatIn(b, CUSTOMER, "guard-000002", "y")),
            ]
            await wait_for_lock_waiter(here)
            await s.commit()
        mine, theirs = await asyncio.gather(*results, return_exceptions=True)
        assert isinstance(theirs, Appended) and theirs.frame["seq"] == 2
        if code is None:
            assert isinstance(mine, Appended) and mine.created
            assert mine.frame["seq"] == (await svc.get(a))["last_seq"]
            seqs = [e["seq"] for e in await svc.events_after(a, 0)]
            assert len(seqs) == len(set(seqs))
        else:
            assert isinstance(mine, VisavisError) and mine.code == code
            assert "guard-000001" not in [e.get("client_id") for e in await svc.events_after(a, 0)]
    finally:
        await here.dispose()


async def test_the_database_and_the_check_decide_alike(db: Database) -> None:
    """`chat_refusal` (what SQLite decides with, and what phrases PostgreSQL's
    refusals) and PostgreSQL's statement take the same messages: customers and
    advisers (assigned, consulting, neither, without an id) against every state, all
    in one group."""
    svc = conversation_service(db)
    auth = AuthService(db, 3, 3600, 5)
    anna = await auth.do_add_adviser(
        "anna.alike@bank.example", "long-enough-pw", "Anna", max_chats=5
    )
    ben = await auth.do_add_adviser("ben.alike@bank.example", "long-enough-pw", "Ben", max_chats=5)
    authors = (
        CUSTOMER,
        Author("adviser", anna.id, anna.name),
        Author("adviser", ben.id, ben.name),
        Author("adviser", None, "Nobody"),
    )
    cases: list[tuple[str, Author]] = []
    for status in ("queued", "active", "ended"):
        for adviser, consultant in ((None, None), (anna.id, None), (anna.id, ben.id)):
            cid = await new_conversation(svc)
            async with db.writer() as s:
                await s.execute(
                    text(
                        "UPDATE conversations SET status = :s, adviser_id = :a, "
                        "consultant_id = :k WHERE id = :c"
                    ),
                    {"s": status, "a": adviser, "k": consultant, "c": cid},
                )
                await s.commit()
            cases.extend((cid, author) for author in authors)
    async with chat_rows(db) as rows:
        chats = [
            NewChat(cid, f"alike-{n:06d}", a.role, a.id, a.name, '{"text":"x"}', None)
            for n, (cid, a) in enumerate(cases)
        ]
        decided = await rows.append(chats, datetime.now(UTC))
        await rows.commit()
    allowed = 0
    for (cid, author), (conv, seq, stored) in zip(cases, decided, strict=True):
        assert isinstance(conv, ConvRow) and conv.id == cid and stored is None
        may = chat_refusal(conv, author.role, author.id) is None
        assert (seq is not None) == may, (conv.status, conv.adviser_id, conv.consultant_id, author)
        allowed += may
    # customers in 6 open conversations; anna and ben in the active ones theirs
    assert allowed == 6 + 2 + 1


async def wait_for_lock_waiter(db: Database) -> None:
    """Until a session of the database waits for a row lock (PostgreSQL's own view)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(3000):
        async with db.sessions() as s:
            if await s.scalar(query):
                return
        await asyncio.sleep(0.01)
    raise AssertionError("no session ever waited for the row lock")


# what a chat text can hold that JSON writes in its own way
ODD_TEXTS = (
    "plain",
    'Grüße, "zitiert" \\ mit\nZeilen\tund Tab',
    "😀 emoji ß Ä",
    "\x00\x01\x1f\x7f control",
    "</script><b>&amp;",
    "\u2028\u2029 separators",
    "",
)


async def test_the_announced_text_of_each_message_is_the_json_of_what_was_stored(
    db: Database,
) -> None:
    """The group commit puts each event's wire text together from its parts
    (chat_write.py) instead of `dumps`-ing the frame: it must be `dumps` of the
    frame as stored and read back, for odd texts and authors with and without id
    and name, customers and advisers in one group."""
    bus = MemoryBus()
    svc = conversation_service(db, bus)
    cid, anna = await active_conversation(db, svc, "anna.wire@bank.example")
    heard: list[str] = []
    frames: list[Mapping[str, object] | None] = []

    def hear(text: str, frame: Mapping[str, object] | None) -> None:
        heard.append(text)
        frames.append(frame)

    bus.subscribe(conv_topic(cid), hear)
    authors = (CUSTOMER, Author("customer"), anna, Author("customer", None, 'Bo "b" \\ ü'))
    items = [
        ChatIn(cid, authors[i % len(authors)], f"wire-{i:06d}", t)
        for i, t in enumerate(ODD_TEXTS * 2)
    ]
    results = await asyncio.gather(*(svc.chats.submit(i) for i in items))
    assert all(r.created for r in results)
    stored = [e for e in await svc.events_after(cid, 0) if e["kind"] == "chat.message"]
    assert [e["body"]["text"] for e in stored] == [i.text for i in items]
    assert [r.frame for r in results] == stored
    chats = [h for h in heard if loads(h)["kind"] == "chat.message"]
    assert chats == [dumps(e) for e in stored]
    # this process's handlers route from the frame handed along: what the text encodes
    routed = [fr for h, fr in zip(heard, frames, strict=True) if loads(h)["kind"] == "chat.message"]
    assert routed == stored


async def test_answers_come_in_the_loop_turn_of_their_announcement(db: Database) -> None:
    """`submit_answered` (the gateway's acks): each sender is answered after its event
    was announced and before the loop's next turn, so the sockets' events and acks
    of one group are written together: then `after_answers` (web/leanws.py's
    `write_corked`) writes them, in that turn."""
    bus = MemoryBus()
    svc = conversation_service(db, bus)
    cid = await new_conversation(svc)
    next_turn: list[str] = []  # client_ids whose announcement's next turn has come
    announced: list[str] = []
    answers: list[tuple[str, bool, bool]] = []  # client_id, announced, next turn come

    def hear(text: str, frame: Mapping[str, object] | None) -> None:
        client_id = str(loads(text).get("client_id"))
        announced.append(client_id)
        asyncio.get_running_loop().call_soon(next_turn.append, client_id)

    bus.subscribe(conv_topic(cid), hear)
    done = asyncio.Event()
    written: list[int] = []  # answers given when the gateway was told to write
    svc.chats.after_answers = lambda: written.append(len(answers))

    def answer(client_id: str, result: Appended | BaseException) -> None:
        assert isinstance(result, Appended) and result.created
        answers.append((client_id, client_id in announced, client_id in next_turn))
        if len(answers) == 5:
            done.set()

    for i in range(5):
        client_id = f"turn-{i:06d}"
        item = ChatIn(cid, CUSTOMER, client_id, str(i))
        svc.chats.submit_answered(item, functools.partial(answer, client_id))
    await done.wait()
    assert answers == [(f"turn-{i:06d}", True, False) for i in range(5)]
    assert written == [5]  # one group: once, after all its answers


async def test_a_failed_write_of_a_groups_frames_stops_no_later_group(
    svc: ConversationService, caplog: pytest.LogCaptureFixture
) -> None:
    cid = await new_conversation(svc)

    def broken() -> None:
        raise OSError("the write failed")

    svc.chats.after_answers = broken
    first = await svc.chats.submit(ChatIn(cid, CUSTOMER, "write-000001", "one"))
    second = await svc.chats.submit(ChatIn(cid, CUSTOMER, "write-000002", "two"))
    assert (first.frame["seq"], second.frame["seq"]) == (2, 3)
    assert caplog.text.count("writing a chat group's frames failed") == 2


async def test_resends_in_one_group_and_across_groups_are_stored_once(
    svc: ConversationService,
) -> None:
    cid = await new_conversation(svc)
    results = await asyncio.gather(
        *(svc.do_chat(cid, CUSTOMER, "twice-in-one-group", "x") for _ in range(3))
    )
    assert [r.created for r in results] == [True, False, False]
    assert len({r.frame["seq"] for r in results}) == 1
    again = await svc.do_chat(cid, CUSTOMER, "twice-in-one-group", "x")
    assert not again.created and again.frame == results[0].frame
    assert len(await svc.events_after(cid, 1)) == 1


async def test_groups_of_any_size_run_the_same_statement_texts_on_postgresql(
    db: Database, database_url: str
) -> None:
    """A statement text per group size (an IN or VALUES list) was one more statement
    for asyncpg to prepare whenever a new size came: the reads take arrays, so groups
    of 1, 3 and 17 messages (resends among them, several conversations) run the same
    texts, straight on the kept asyncpg connection (storage/own_pg.py)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's group commit; SQLite's goes to its own driver")
    svc = conversation_service(db)
    cids = [await new_conversation(svc) for _ in range(3)]
    commits = ChatCommits(svc.write_chats, max_queued=100)
    # a first group: asyncpg looks up the array types once per connection (queries
    # of its own, logged too)
    await commits.submit(ChatIn(cids[0], CUSTOMER, "warm-000001", "x"))
    async with db.own_connection() as own:  # the kept connection, the groups' own
        raw = own.raw
    texts: list[str] = []

    def seen(query: LoggedQuery) -> None:
        texts.append(query.query)

    raw.add_query_logger(seen)
    try:
        for size in (1, 3, 17):
            # two of each client_id (a resend), over the three conversations
            sent = [
                ChatIn(cids[n // 2 % 3], CUSTOMER, f"m{size}-{n // 2}", "x") for n in range(size)
            ]
            results = await asyncio.gather(*(commits.submit(item) for item in sent))
            assert [r.created for r in results] == [n % 2 == 0 for n in range(size)]
        # the logger is told a loop turn after each statement
        await until(lambda: len(texts) >= 3)
    finally:
        raw.remove_query_logger(seen)
    assert commits.batches == 1 + 3
    # one statement a group, its own transaction: no BEGIN, no COMMIT
    assert len(texts) == 3 and len(set(texts)) == 1
    stored = [len(await svc.events_after(cid, 1)) for cid in cids]
    assert sum(stored) == 1 + 1 + 2 + 9  # each client_id stored once


async def test_postgresql_plans_the_group_statement_once_with_index_lookups(
    db: Database, database_url: str
) -> None:
    """The kept connection keeps one plan of the group statement, for any values
    (storage/own_pg.py: `PLAN_SETTINGS`), and it looks every row up by its index even
    in a new database, whose tiny tables make a scan look cheapest: a scan of the
    events table would grow with the log."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's group statement")
    svc = conversation_service(db)
    cid = await new_conversation(svc)
    async with db.own_connection() as own:  # the kept connection, the groups' own
        raw = own.raw
        assert await raw.fetchval("SHOW plan_cache_mode") == "force_generic_plan"
        await raw.execute(f"PREPARE group_plan_check AS {_PG_APPEND}")
        try:
            arrays = ("{0}", "{" + cid + "}", "{plan-000001}", "{customer}", "{NULL}",
                      "{Bob}", "{x}", "{NULL}")  # fmt: skip
            listed = ", ".join(f"'{a}'" for a in arrays)
            rows = await raw.fetch(f"EXPLAIN EXECUTE group_plan_check({listed}, now())")
        finally:
            await raw.execute("DEALLOCATE group_plan_check")
        assert not raw.is_in_transaction()
    plan = "\n".join(r[0] for r in rows)
    assert "Seq Scan" not in plan and "Hash Join" not in plan, plan
    assert "using uq_events_conversation_client on events" in plan, plan
    assert "conversations_pkey" in plan, plan
    # a plan for any values: the values are its parameters, not the ones given
    assert "$2" in plan and cid not in plan, plan
    # and the connection still serves the groups
    done = await svc.do_chat(cid, CUSTOMER, "after-plan-1", "x")
    assert done.created and done.frame["seq"] == 2


async def test_a_full_queue_is_refused_with_a_hint_and_the_resend_lands_once(
    svc: ConversationService,
) -> None:
    cid = await new_conversation(svc)
    gate = Gate(svc)
    commits = ChatCommits(gate.write, max_queued=3)
    queued = [commits.submit(ChatIn(cid, CUSTOMER, f"full-{i:07d}", str(i))) for i in range(3)]
    with pytest.raises(VisavisError) as err:
        commits.submit(ChatIn(cid, CUSTOMER, "refused-00001", "refused"))
    assert err.value.code == "overloaded" and err.value.http_status == 503
    assert MIN_RETRY_MS <= err.value.details["retry_after_ms"] <= MAX_RETRY_MS
    assert commits.refused == 1
    gate.release.set()
    await asyncio.gather(*queued)
    # the client resends with the same client_id (twice: its first resend's ack was lost)
    first = await commits.submit(ChatIn(cid, CUSTOMER, "refused-00001", "refused"))
    second = await commits.submit(ChatIn(cid, CUSTOMER, "refused-00001", "refused"))
    assert first.created and not second.created and first.frame == second.frame
    stored = [e["client_id"] for e in await svc.events_after(cid, 1)]
    assert stored == ["full-0000000", "full-0000001", "full-0000002", "refused-00001"]


async def test_a_database_failure_of_the_moment_is_said_as_overloaded(tmp_path: Path) -> None:
    """The driver's own errors (SQLite's statements bypass SQLAlchemy, chat_rows.py)
    are told apart as SQLAlchemy's are: a database that cannot answer now (here: no
    tables yet) makes the group `overloaded`, to be resent, not `internal`."""
    bare = Database(f"sqlite+aiosqlite:///{tmp_path / 'bare.db'}")
    try:
        commits = conversation_service(bare).chats
        with pytest.raises(VisavisError) as caught:
            await commits.submit(ChatIn("some-conversation", CUSTOMER, "moment-0001", "hi"))
        assert caught.value.code == "overloaded"
        assert caught.value.details["retry_after_ms"] >= MIN_RETRY_MS
    finally:
        await bare.dispose()


async def test_a_driver_in_a_broken_state_makes_the_group_overloaded_and_the_resend_lands(
    svc: ConversationService,
) -> None:
    """asyncpg says "cannot switch to state 15; another operation (2) is in progress"
    (SQLAlchemy's InternalError) when a killed backend's last message arrived before its
    socket closed: the connection's fault, not a message's. The whole group is told
    `overloaded` (not `internal`, which a client takes as final), and the resends land."""
    cid = await new_conversation(svc)
    broken = [True]

    @contextlib.asynccontextmanager
    async def writes() -> AsyncIterator[ChatWrite]:
        if broken.pop():
            raise sa_exc.InternalError(
                "BEGIN", {}, Exception("cannot switch to state 15; another operation (2)")
            )
        async with svc.write_chats() as w:
            yield w

    commits = ChatCommits(writes, max_queued=100)
    sent = [ChatIn(cid, CUSTOMER, f"broken-{n:05d}", f"m{n}") for n in range(3)]
    refused = await asyncio.gather(*(commits.submit(i) for i in sent), return_exceptions=True)
    assert [getattr(r, "code", r) for r in refused] == ["overloaded"] * 3
    broken.append(False)
    resent = await asyncio.gather(*(commits.submit(i) for i in sent))
    assert [r.frame["seq"] for r in resent] == [2, 3, 4]
    assert [e["client_id"] for e in await svc.events_after(cid, 1)] == [i.client_id for i in sent]


async def test_a_busy_committer_waits_for_company_and_a_quiet_one_does_not(
    svc: ConversationService,
) -> None:
    """After a group that had company, the next waits (up to `linger_s`, here longer
    than any test) until `linger_fill` messages are there, and commits them as one;
    a committer whose last group was one message commits at once."""
    cid = await new_conversation(svc)
    gate = Gate(svc)
    commits = ChatCommits(gate.write, max_queued=100, linger_s=3600, linger_fill=4)
    first = commits.submit(ChatIn(cid, CUSTOMER, "first-0001", "first"))
    await asyncio.wait_for(gate.appended.wait(), 30)
    company = [commits.submit(ChatIn(cid, CUSTOMER, f"pair-{i:06d}", str(i))) for i in range(2)]
    gate.release.set()
    await asyncio.wait_for(asyncio.gather(first, *company), 30)
    # quiet at first: the single message went at once, then the two that had waited
    assert (gate.writes, commits.lingered) == (2, 0)

    waiting = [commits.submit(ChatIn(cid, CUSTOMER, f"wait-{i:06d}", str(i))) for i in range(3)]
    await until(lambda: commits.lingered == 1)
    for _ in range(5):
        await asyncio.sleep(0)
    assert not any(f.done() for f in waiting) and gate.writes == 2
    fourth = commits.submit(ChatIn(cid, CUSTOMER, "wait-000003", "3"))
    results = await asyncio.wait_for(asyncio.gather(*waiting, fourth), 30)
    assert gate.writes == 3  # the four in one group
    assert [r.frame["seq"] for r in results] == list(range(5, 9))


async def test_a_lingering_group_commits_when_its_wait_is_over(svc: ConversationService) -> None:
    cid = await new_conversation(svc)
    gate = Gate(svc)
    gate.release.set()
    commits = ChatCommits(gate.write, max_queued=100, linger_s=0.01, linger_fill=100)
    await asyncio.wait_for(
        asyncio.gather(
            *(commits.submit(ChatIn(cid, CUSTOMER, f"two-{i:07d}", "x")) for i in range(2))
        ),
        30,
    )
    alone = await asyncio.wait_for(commits.submit(ChatIn(cid, CUSTOMER, "alone-00001", "x")), 30)
    assert (gate.writes, commits.lingered, alone.frame["seq"]) == (2, 1, 4)


def test_the_wait_for_company_is_bounded() -> None:
    assert check_linger_us(0) == 0 and check_linger_us(2000) == 0.002
    for bad in (-1, 50_001):
        with pytest.raises(ValueError, match="VISAVIS_CHAT_LINGER_US is"):
            check_linger_us(bad)


def test_only_postgresql_waits_for_company_unless_set(tmp_path: Path) -> None:
    """A SQLite commit saves only the server's own CPU by company, a PostgreSQL one
    the database's too (config.py)."""
    base = {"VISAVIS_DATA_DIR": str(tmp_path), "VISAVIS_SECRET_KEY": "k" * 32}
    pg = {**base, "VISAVIS_DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1/db"}
    assert Settings.from_env(base).chat_linger_us == SQLITE_LINGER_US == 0
    assert Settings.from_env(pg).chat_linger_us == POSTGRES_LINGER_US == 2000
    for env in (base, pg):
        assert Settings.from_env({**env, "VISAVIS_CHAT_LINGER_US": "1000"}).chat_linger_us == 1000
        assert Settings.from_env(env, chat_linger_us=500).chat_linger_us == 500


async def test_a_first_message_with_nul_characters_makes_a_preview_without_them(
    svc: ConversationService,
) -> None:
    """A chat text may hold NUL characters (its JSON escapes them), PostgreSQL's text
    columns cannot: the preview in the queue leaves them out, and the message (the
    group's only one, and a group of several) is stored whole."""
    cid = await new_conversation(svc)
    first = await svc.do_chat(cid, CUSTOMER, "nul-00000001", "Hallo\x00 Welt")
    assert first.created and first.frame["body"]["text"] == "Hallo\x00 Welt"
    more = await asyncio.gather(
        *(svc.do_chat(cid, CUSTOMER, f"nul-{n:08d}", f"\x00{n}") for n in range(2, 6))
    )
    assert all(m.created for m in more)
    (entry,) = [q for q in await svc.queue() if q["conversation_id"] == cid]
    assert entry["preview"] == "Hallo Welt"
    texts = [e["body"]["text"] for e in await svc.events_after(cid, 1)]
    assert texts == ["Hallo\x00 Welt", *(f"\x00{n}" for n in range(2, 6))]
