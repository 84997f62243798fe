"""One write: a transaction that appends events, and what it tells everyone after.

Every change to a conversation runs inside `ConversationService.write()`, which
yields a `Write`. The write locks the conversations it changes (`lock`, or `add` for
a new one), appends events through `append`, and remembers how each conversation
looked before. When the block ends without an exception the transaction commits and
the write hands one `Change` per conversation to the announcer — after the commit,
so nobody is ever told about something that could still be rolled back, and in one
place, so no feature can forget to announce what it appended (zulip's
`send_event_on_commit` is the model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.conversations.state import Status
from visavis.conversations.summary import event_frame, summary
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.storage.models import Adviser, Conversation, Event


@dataclass(frozen=True)
class Author:
    role: f.AuthorRole
    id: str | None = None
    name: str | None = None


class Shape(NamedTuple):
    """What others must hear about when it changes: a `conversation.update` goes out
    when any of these differs after the write (not for `last_seq`, receipts or the
    media flags of a running call, which events and receipts already carry)."""

    status: str
    adviser_id: str | None
    consultant_id: str | None
    team_id: str | None
    call_id: str | None
    call_status: str | None

    @staticmethod
    def of(c: Conversation) -> Shape:
        return Shape(c.status, c.adviser_id, c.consultant_id, c.team_id, c.call_id, c.call_status)

    def serving(self) -> frozenset[str]:
        """The advisers this conversation counts for: its adviser and a consulting
        colleague while it is active (a scheduled one has an adviser, but is no load
        until the customer comes)."""
        if self.status != Status.ACTIVE:
            return frozenset()
        return frozenset(a for a in (self.adviser_id, self.consultant_id) if a is not None)


# What a write command returns: the conversation's summary after, the events appended.
Result = tuple[f.ConversationSummary, list[f.EventFrame]]


@dataclass
class Change:
    """What one write did to one conversation, for the announcer."""

    conversation_id: str
    events: list[f.EventFrame]
    before: Shape | None  # None: created by this write
    after: Shape
    summary: f.ConversationSummary | None  # the summary after, when the shape changed
    loads: dict[str, int]  # active conversations of each adviser whose load changed
    # `dumps` of each of `events`, when the write had them at hand (the chat group
    # commit puts them together from their parts); None: the announcer dumps them
    texts: list[str] | None = None

    @property
    def reshaped(self) -> bool:
        return self.before is not None and self.before != self.after

    @property
    def newcomers(self) -> frozenset[str]:
        """Advisers who now serve the conversation and did not before: their consoles
        open it (`conversation.assigned`)."""
        if self.before == self.after:  # most writes (every chat group's): no sets to make
            return frozenset()
        return self.after.serving() - (self.before.serving() if self.before else frozenset())

    @property
    def touches_queue(self) -> bool:
        waiting = (Status.QUEUED, Status.OFFLINE)
        was = self.before is not None and self.before.status in waiting
        return was != (self.after.status in waiting) or (was and self.reshaped)


@dataclass
class _Tracked:
    conv: Conversation
    before: Shape | None
    events: list[f.EventFrame] = field(default_factory=list)


class Write:
    """The transaction of one write; see the module docstring."""

    def __init__(self, db: AsyncSession, summaries: bool = True) -> None:
        self.db = db
        # False: the caller needs no summary back (chat messages, notes), so none is
        # read unless others must be told of a changed shape.
        self._summaries = summaries
        self._tracked: dict[str, _Tracked] = {}
        self.changes: list[Change] = []  # filled by commit, announced after it

    async def lock(self, conversation_id: str) -> Conversation:
        """The conversation's row, locked for this transaction (PostgreSQL: FOR
        UPDATE; SQLite: the process-wide write lock already serialises)."""
        tracked = self._tracked.get(conversation_id)
        if tracked is not None:
            return tracked.conv
        conv = await self.db.scalar(
            select(Conversation).where(Conversation.id == conversation_id).with_for_update()
        )
        if conv is None:
            raise VisavisError("not_found", f"no conversation {conversation_id}")
        self._tracked[conversation_id] = _Tracked(conv, Shape.of(conv))
        return conv

    async def add(self, conv: Conversation) -> Conversation:
        """A conversation created by this write."""
        self.db.add(conv)
        await self.db.flush()
        self._tracked[conv.id] = _Tracked(conv, None)
        return conv

    async def append(
        self,
        conversation_id: str,
        kind: str,
        author: Author,
        body: dict[str, Any],  # free-form: each kind has its own fields
        client_id: str | None = None,
        now: datetime | None = None,
    ) -> f.EventFrame:
        """Append one event: the next `seq` comes from incrementing `last_seq` in this
        transaction (a row lock on PostgreSQL), never from max(seq)+1."""
        await self.lock(conversation_id)
        # ORM-enabled UPDATE: the locked row in this session sees the new last_seq too
        seq = await self.db.scalar(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(last_seq=Conversation.last_seq + 1)
            .returning(Conversation.last_seq)
        )
        assert seq is not None  # the row is locked above
        event = Event(
            conversation_id=conversation_id,
            seq=seq,
            kind=kind,
            author_role=author.role,
            author_id=author.id,
            author_name=author.name,
            client_id=client_id,
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            created_at=now or datetime.now(UTC),
        )
        self.db.add(event)
        await self.db.flush()
        frame = event_frame(event)
        self._tracked[conversation_id].events.append(frame)
        return frame

    async def by_client_id(self, conversation_id: str, client_id: str) -> f.EventFrame | None:
        """The event a client already sent with this id: a resend is answered with the
        stored event (and its original seq), never stored twice."""
        row = await self.db.scalar(
            select(Event).where(
                Event.conversation_id == conversation_id, Event.client_id == client_id
            )
        )
        return event_frame(row) if row is not None else None

    async def summary_of(self, conv: Conversation) -> f.ConversationSummary:
        return summary(
            conv,
            await adviser_name(self.db, conv.adviser_id),
            await adviser_name(self.db, conv.consultant_id),
        )

    async def commit(self) -> None:
        """Commit, and note for the announcer what changed. Loads and summaries are
        read inside the transaction, so they are what the commit made true."""
        pending = [t for t in self._tracked.values() if t.events or _moved(t)]
        loads: dict[str, int] = {}
        changes = []
        for t in pending:
            after = Shape.of(t.conv)
            before_serving = t.before.serving() if t.before else frozenset()
            for aid in before_serving ^ after.serving():
                if aid not in loads:
                    loads[aid] = await count_active(self.db, aid)
            reshaped = t.before is None or t.before != after
            changes.append(
                Change(
                    t.conv.id,
                    t.events,
                    t.before,
                    after,
                    await self.summary_of(t.conv) if reshaped or self._summaries else None,
                    {a: loads[a] for a in before_serving ^ after.serving()},
                )
            )
        await self.db.commit()
        self.changes.extend(changes)
        self._tracked.clear()

    def summary(self, conversation_id: str) -> f.ConversationSummary:
        """After the commit: the conversation's summary as committed."""
        for change in self.changes:
            if change.conversation_id == conversation_id and change.summary is not None:
                return change.summary
        raise VisavisError("internal", f"write did not change conversation {conversation_id}")

    def events(self, conversation_id: str) -> list[f.EventFrame]:
        """After the commit: the events this write appended to the conversation."""
        return [e for c in self.changes if c.conversation_id == conversation_id for e in c.events]

    async def rollback(self) -> None:
        await self.db.rollback()
        self._tracked.clear()


def _moved(t: _Tracked) -> bool:
    return t.before is None or t.before != Shape.of(t.conv)


async def adviser_name(db: AsyncSession, adviser_id: str | None) -> str | None:
    if adviser_id is None:
        return None
    return await db.scalar(select(Adviser.name).where(Adviser.id == adviser_id))


async def count_active(db: AsyncSession, adviser_id: str) -> int:
    n = await db.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.adviser_id == adviser_id, Conversation.status == Status.ACTIVE)
    )
    return int(n or 0)
