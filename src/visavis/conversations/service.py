"""Conversations and their event log: the one way to change them.

Every change is one `write()`: a transaction that (1) locks and checks the state,
(2) appends events — each takes the next `seq` by incrementing
`conversations.last_seq` (a row lock on PostgreSQL; on SQLite `Database.writer()`
serialises this process's writers) — and (3) commits. Only after the commit does the
announcer tell everyone what the write appended (`announcer.py`), so nobody is ever
told about something that could still be rolled back, and no caller publishes by hand.
Reads are in `reads.py`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select, true, update

from visavis.conversations.announcer import Announcer
from visavis.conversations.callstate import clear_call, ended_body
from visavis.conversations.chat_write import Appended, ChatIn, ChatWrite, chat_write, preview_of
from visavis.conversations.cobrowsing import end_running
from visavis.conversations.commits import LINGER_S, Answer, ChatCommits
from visavis.conversations.erasure import do_erase_at_end
from visavis.conversations.reads import ConversationReads
from visavis.conversations.recordingstate import stop_running
from visavis.conversations.state import Status, check_transition
from visavis.conversations.writes import Author, Result, Write, count_active
from visavis.errors import VisavisError
from visavis.routing.decide import ChatLimits, check_chat_limit
from visavis.storage.engine import Database
from visavis.storage.ids import new_id
from visavis.storage.models import Adviser, Conversation

MAX_NAME = 80
MAX_TOPIC = 64
CHAT_QUEUE_MAX = 2000  # messages waiting for their group commit; beyond: `overloaded`


def _within(limits: ChatLimits, active: int) -> Any:
    """Queued conversations whose team still lets an adviser with `active` chats take
    one more: "take the next" skips the teams where they are at their limit."""
    default_ok = active < limits.default
    if default_ok:
        full = [t for t, n in limits.teams.items() if n <= active]
        return (
            or_(Conversation.team_id.is_(None), Conversation.team_id.not_in(full))
            if full
            else true()
        )
    room = [t for t, n in limits.teams.items() if n > active]
    return Conversation.team_id.in_(room)


def new_conversation(now: datetime, **fields: Any) -> Conversation:
    """A fresh conversation row: an unguessable id (128 bits), an empty log."""
    defaults: dict[str, Any] = {
        "kind": "chat",
        "last_seq": 0,
        "customer_delivered_seq": 0,
        "customer_read_seq": 0,
        "adviser_delivered_seq": 0,
        "adviser_read_seq": 0,
    }
    return Conversation(id=new_id(16), created_at=now, **{**defaults, **fields})


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class ConversationService(ConversationReads):
    def __init__(
        self,
        database: Database,
        announcer: Announcer,
        erase_at_end: Collection[str] = (),
        chat_queue_max: int = CHAT_QUEUE_MAX,
        chat_linger_s: float = LINGER_S,
        release_files: Callable[[set[str]], Awaitable[None]] | None = None,
    ) -> None:
        """`erase_at_end`: the kinds of data (messages, forms, documents, signed_pdfs)
        erased in the write that ends a conversation — the medical profile's
        (privacy/profiles.py). `release_files`: deletes, after that commit, the stored
        files no row uses any more (privacy/retention.py's `FileCleanup`)."""
        super().__init__(
            database.sessions,
            arrays=database.engine.dialect.name == "postgresql",
            loop_reads=database.loop_reads,
        )
        self._database = database
        self.announcer = announcer
        self.erase_at_end = frozenset(erase_at_end)
        self.release_files = release_files
        # chat messages are committed in groups (commits.py)
        self.chats = ChatCommits(self.write_chats, chat_queue_max, chat_linger_s)

    @contextlib.asynccontextmanager
    async def write(self, summaries: bool = True) -> AsyncIterator[Write]:
        """The one way to change conversations: commits when the block ends without
        an exception, then announces what was committed (also what an explicit
        `Write.commit()` committed before a later exception)."""
        write: Write | None = None
        try:
            async with self._database.writer() as db:
                write = Write(db, summaries)
                yield write
                await write.commit()
        finally:
            if write is not None and write.changes:
                await self.announcer.announce(write.changes)

    @contextlib.asynccontextmanager
    async def write_chats(self) -> AsyncIterator[ChatWrite]:
        """As `write`, for a group of chat messages (chat_write.py): committed when the
        block ends without an exception, then announced."""
        write: ChatWrite | None = None
        try:
            async with chat_write(self._database) as write:
                yield write
        finally:
            if write is not None and write.changes:
                await self.announcer.announce(write.changes)

    # ------------------------------------------------------------- writes
    async def do_create(
        self,
        customer_name: str | None,
        topic: str | None,
        language: str | None,
        first_message: tuple[str, str] | None,
        team_id: str | None = None,
        kind: str = "chat",
        contact: str | None = None,
        requested_adviser_id: str | None = None,
    ) -> Result:
        now = datetime.now(UTC)
        name = (customer_name or "").strip()[:MAX_NAME] or None
        conv = new_conversation(
            now,
            status=Status.QUEUED if kind == "chat" else Status.OFFLINE,
            team_id=team_id,
            kind=kind,
            contact=contact,
            requested_adviser_id=requested_adviser_id,
            customer_name=name,
            topic=topic,
            language=language,
            queued_at=now,
            preview=preview_of(first_message[1]) if first_message else None,
        )
        customer = Author("customer", None, name)
        async with self.write() as w:
            await w.add(conv)
            body = {"customer_name": name, "topic": topic, "language": language,
                    "team_id": team_id, "kind": kind, "contact": contact}  # fmt: skip
            await w.append(conv.id, "conversation.created", customer, body, now=now)
            if first_message:
                client_id, text = first_message
                await w.append(conv.id, "chat.message", customer, {"text": text}, client_id, now)
        return w.summary(conv.id), w.events(conv.id)

    async def do_create_assigned(
        self,
        adviser_id: str,
        adviser_name: str,
        max_chats: int,
        customer_name: str | None,
        language: str | None,
        via: str,
    ) -> Result:
        """A conversation that starts with its adviser (invitation link, phone code):
        the customer joins it directly instead of waiting in a queue."""
        now = datetime.now(UTC)
        name = (customer_name or "").strip()[:MAX_NAME] or None
        conv = new_conversation(
            now,
            status=Status.ACTIVE,
            adviser_id=adviser_id,
            customer_name=name,
            language=language,
            accepted_at=now,
        )
        adviser = Author("adviser", adviser_id, adviser_name)
        async with self.write() as w:
            await w.db.scalar(select(Adviser.id).where(Adviser.id == adviser_id).with_for_update())
            check_chat_limit(await count_active(w.db, adviser_id), max_chats)
            await w.add(conv)
            body = {"customer_name": name, "topic": None, "language": language, "via": via}
            await w.append(conv.id, "conversation.created", adviser, body, now=now)
            body = {"adviser_id": adviser_id, "adviser_name": adviser_name}
            await w.append(conv.id, "conversation.accepted", adviser, body, now=now)
        return w.summary(conv.id), w.events(conv.id)

    async def do_chat(
        self, conversation_id: str, author: Author, client_id: str, text: str
    ) -> Appended:
        """Store one chat message (a resend of a stored client_id: the stored event),
        committed with whatever else is queued (commits.py). An adviser must serve the
        conversation and it must be active; a customer's must not have ended — both
        checked in the transaction. `overloaded` when too many messages wait."""
        return await self.chats.submit(ChatIn(conversation_id, author, client_id, text))

    def submit_chat(
        self, conversation_id: str, author: Author, client_id: str, text: str, answer: Answer
    ) -> None:
        """As `do_chat`, without waiting: refuses (`overloaded`) at once, and `answer`
        is called after the commit, in its loop turn (commits.py)."""
        self.chats.submit_answered(ChatIn(conversation_id, author, client_id, text), answer)

    async def do_accept(
        self,
        conversation_id: str | None,
        adviser_id: str,
        adviser_name: str,
        limits: ChatLimits,
        team_ids: frozenset[str] | None = None,
        requested_cutoff: datetime | None = None,
    ) -> Result:
        """Assign a queued conversation (or the oldest, if id is None) to the adviser.

        `limits`: the adviser's chat limit per team of the conversation. `team_ids`: the
        teams the adviser serves (None: all). Conversations of no team are served by
        everyone. `requested_cutoff`: customers who picked another adviser in the
        portal and were queued after it wait for that adviser only."""
        async with self.write() as w:
            db = w.db
            # Lock the adviser row: two sockets of one adviser accepting at once
            # must not both pass the limit check.
            await db.scalar(select(Adviser.id).where(Adviser.id == adviser_id).with_for_update())
            active = await count_active(db, adviser_id)
            if conversation_id is None:
                check_chat_limit(active, limits.highest())
                mine = (
                    or_(Conversation.team_id.is_(None), Conversation.team_id.in_(team_ids))
                    if team_ids
                    else true()
                )
                free = (
                    or_(
                        Conversation.requested_adviser_id.is_(None),
                        Conversation.requested_adviser_id == adviser_id,
                        Conversation.queued_at < requested_cutoff,
                    )
                    if requested_cutoff is not None
                    else true()
                )
                oldest = (
                    select(Conversation.id)
                    .where(Conversation.status == Status.QUEUED, mine, free)
                    .order_by(Conversation.queued_at, Conversation.id)
                    .limit(1)
                )
                conversation_id = await db.scalar(
                    oldest.where(_within(limits, active)).with_for_update(skip_locked=True)
                )
                if conversation_id is None:
                    # Say why: the customers still waiting are of teams where this
                    # adviser is at their limit, or there are none.
                    held_back = (
                        await db.execute(oldest.with_only_columns(Conversation.team_id))
                    ).first()
                    if held_back is not None:
                        team_id = held_back[0]
                        check_chat_limit(active, limits.for_team(team_id), team_id)
                    raise VisavisError("not_found", "nobody is waiting")
            conv = await w.lock(conversation_id)
            if conv.status not in (Status.QUEUED, Status.OFFLINE):
                raise VisavisError(
                    "invalid_state",
                    f"conversation is {conv.status!r}, expected 'queued' (someone else took it?)",
                )
            check_chat_limit(active, limits.for_team(conv.team_id), conv.team_id)
            if team_ids and conv.team_id is not None and conv.team_id not in team_ids:
                raise VisavisError("forbidden", "this customer waits for another team")
            if (
                requested_cutoff is not None
                and conv.requested_adviser_id not in (None, adviser_id)
                and conv.queued_at is not None
                and _aware(conv.queued_at) >= requested_cutoff
            ):
                raise VisavisError("forbidden", "this customer asked for a colleague of yours")
            now = datetime.now(UTC)
            conv.status = check_transition(conv.status, "accept")
            conv.adviser_id = adviser_id
            conv.accepted_at = now
            body = {"adviser_id": adviser_id, "adviser_name": adviser_name}
            author = Author("adviser", adviser_id, adviser_name)
            await w.append(conversation_id, "conversation.accepted", author, body, now=now)
        return w.summary(conversation_id), w.events(conversation_id)

    def erases_at_end(self, kind: str) -> bool:
        return kind in self.erase_at_end

    async def do_release_files(self, digests: set[str]) -> None:
        """Delete these stored files unless a row still uses them (after a commit)."""
        if digests and self.release_files is not None:
            await self.release_files(digests)

    async def do_end(self, conversation_id: str, author: Author) -> Result:
        digests: set[str] = set()
        async with self.write() as w:
            conv = await w.lock(conversation_id)
            now = datetime.now(UTC)
            conv.status = check_transition(conv.status, "end")
            conv.ended_at = now
            if conv.call_id is not None:  # a running call ends with its conversation
                await stop_running(w, conversation_id, author, "conversation_ended")
                body = ended_body(conv, author.role, "conversation_ended")
                await w.append(conversation_id, "call.ended", author, body)
                clear_call(conv)
            await end_running(w, conversation_id, author)  # co-browsing stops with it
            await w.append(
                conversation_id, "conversation.ended", author, {"by": author.role}, now=now
            )
            if self.erase_at_end:
                # in the same transaction as the end: no moment in which an ended
                # conversation still holds its messages, documents, forms or signed
                # PDFs, and no job to wait for; their files go right after the commit
                digests = await do_erase_at_end(w.db, conversation_id, self.erase_at_end)
        await self.do_release_files(digests)
        return w.summary(conversation_id), w.events(conversation_id)

    async def do_receipt(
        self, conversation_id: str, role: str, delivered: int | None, read: int | None
    ) -> tuple[int, int]:
        """Move the role's marks forward (never back, never past last_seq). Receipts
        are columns, not events (they would double the log), and are pushed as
        ephemeral `receipt` frames by the caller."""
        if role == "customer":
            dcol, rcol = Conversation.customer_delivered_seq, Conversation.customer_read_seq
        else:
            dcol, rcol = Conversation.adviser_delivered_seq, Conversation.adviser_read_seq
        async with self.write() as w:
            conv = await w.db.get(Conversation, conversation_id)
            if conv is None:
                raise VisavisError("not_found", f"no conversation {conversation_id}")
            values: dict[Any, Any] = {}
            cur_d = getattr(conv, dcol.key)
            cur_r = getattr(conv, rcol.key)
            new_r = max(cur_r, min(read, conv.last_seq)) if read is not None else cur_r
            new_d = max(cur_d, new_r, min(delivered, conv.last_seq) if delivered else 0)
            if new_d != cur_d:
                values[dcol] = new_d
            if new_r != cur_r:
                values[rcol] = new_r
            if values:
                await w.db.execute(
                    update(Conversation)
                    .where(and_(Conversation.id == conversation_id))
                    .values(values)
                )
        return new_d, new_r
