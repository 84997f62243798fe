"""Reading conversations: summaries, the event log, the queue, history search.

Reads take a session of their own and no lock; they never change anything. SQLite in
a file: the batched summaries (a reconnect storm's reads) are read on the event loop
instead, on a connection of their own (storage/loop_reads.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import ARRAY, Row, Select, String, and_, any_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from visavis.conversations.batching import Batcher
from visavis.conversations.state import Status
from visavis.conversations.summary import (
    SUMMARY_COLUMNS,
    SummarySource,
    event_frame,
    iso,
    summary,
)
from visavis.conversations.writes import adviser_name, count_active
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.storage.loop_reads import LoopReads
from visavis.storage.models import Adviser, Conversation, Event

REPLAY_PAGE = 500

History = tuple[list[float], list[float]]  # (handle times, pick-up times) in seconds


async def summary_of(db: AsyncSession, conv: Conversation) -> f.ConversationSummary:
    return summary(
        conv,
        await adviser_name(db, conv.adviser_id),
        await adviser_name(db, conv.consultant_id),
    )


_ADVISER, _CONSULTANT = aliased(Adviser), aliased(Adviser)
# Built once: a statement is immutable (`.where()` makes a new one), and building it
# (the aliases' column adaptation) cost more than running it on every permission check.
_WITH_NAMES = (
    select(Conversation, _ADVISER.name, _CONSULTANT.name)
    .outerjoin(_ADVISER, _ADVISER.id == Conversation.adviser_id)
    .outerjoin(_CONSULTANT, _CONSULTANT.id == Conversation.consultant_id)
)


# The same, as plain columns (no ORM objects), for the batched summaries (`ids`).
_SUMMARIES = (
    select(
        *SUMMARY_COLUMNS,
        _ADVISER.name.label("adviser_name"),
        _CONSULTANT.name.label("consultant_name"),
    )
    .outerjoin(_ADVISER, _ADVISER.id == Conversation.adviser_id)
    .outerjoin(_CONSULTANT, _CONSULTANT.id == Conversation.consultant_id)
)
# With the ids as one expanding parameter, so that it is one statement object:
# SQLAlchemy computes a statement's cache key on every execution, unless it is the
# same object. Its text still has one placeholder per id, so on PostgreSQL the ids are
# one array instead: one text for any number of ids, which asyncpg prepares once per
# connection (a reconnect storm's batches come in every size up to hundreds, and each
# new size was a prepare — a round trip and a plan — and a cached statement kept).
_SUMMARIES_OF_IDS = _SUMMARIES.where(Conversation.id.in_(bindparam("ids", expanding=True)))
_SUMMARIES_OF_ID_ARRAY = _SUMMARIES.where(
    Conversation.id == any_(bindparam("ids", type_=ARRAY(String)))
)


def with_names() -> Select[Conversation, str, str]:
    """Conversations with their adviser's and consulting colleague's names, in one
    query (a socket's hello and subscribe read summaries; a reconnect storm reads
    thousands)."""
    return _WITH_NAMES


def summaries(
    rows: Iterable[Row[Conversation, str, str]],
) -> list[f.ConversationSummary]:
    return [summary(c, a, b) for c, a, b in rows]


def _not_found(conversation_id: str) -> VisavisError:
    return VisavisError("not_found", f"no conversation {conversation_id}")


class ConversationReads:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        arrays: bool = False,
        loop_reads: LoopReads | None = None,
    ) -> None:
        """`arrays`: the database takes an array as one parameter (PostgreSQL).
        `loop_reads`: SQLite in a file, the batched summaries are read on the loop."""
        self._db = sessions
        self._loop_reads = loop_reads
        self._summaries_query = _SUMMARIES_OF_ID_ARRAY if arrays else _SUMMARIES_OF_IDS
        # many sockets read these at once (hello, subscribe): one query for many
        self._summaries = Batcher(self._summaries_of, _not_found)
        self._replays = Batcher(self._replay_pages, lambda key: _not_found(key[0]))

    async def get(self, conversation_id: str) -> f.ConversationSummary:
        return await self._summaries.get(conversation_id)

    async def _summaries_of(self, ids: list[str]) -> dict[str, f.ConversationSummary]:
        rows: Iterable[Any] | None = None
        if self._loop_reads is not None:
            rows = await self._loop_reads.of_ids(_SUMMARIES, Conversation.id, ids)
        if rows is None:  # not SQLite in a file, or the file was busy
            async with self._db() as db:
                rows = (await db.execute(self._summaries_query, {"ids": ids})).all()
        return {
            r.id: summary(cast(SummarySource, r), r.adviser_name, r.consultant_name) for r in rows
        }

    async def events_after(
        self, conversation_id: str, after_seq: int, limit: int = REPLAY_PAGE
    ) -> list[f.EventFrame]:
        if limit == REPLAY_PAGE:
            return await self._replays.get((conversation_id, after_seq))
        return await self._events_after(conversation_id, after_seq, limit)

    async def _events_after(
        self, conversation_id: str, after_seq: int, limit: int
    ) -> list[f.EventFrame]:
        async with self._db() as db:
            rows = await db.scalars(
                select(Event)
                .where(Event.conversation_id == conversation_id, Event.seq > after_seq)
                .order_by(Event.seq)
                .limit(limit)
            )
            return [event_frame(e) for e in rows]

    async def _replay_pages(
        self, keys: list[tuple[str, int]]
    ) -> dict[tuple[str, int], list[f.EventFrame]]:
        """The first page after each (conversation, seq), in one query: rows numbered
        per conversation, so that a long log reads one page, not all of it."""
        if len(keys) == 1:  # a quiet server: the plain query
            cid, after = keys[0]
            return {keys[0]: await self._events_after(cid, after, REPLAY_PAGE)}
        lowest: dict[str, int] = {}
        for cid, after in keys:
            lowest[cid] = min(after, lowest.get(cid, after))
        number = func.row_number().over(partition_by=Event.conversation_id, order_by=Event.seq)
        wanted = or_(*(and_(Event.conversation_id == c, Event.seq > s) for c, s in lowest.items()))
        numbered = select(Event, number.label("n")).where(wanted).subquery()
        event = aliased(Event, numbered)
        query = select(event).where(numbered.c.n <= REPLAY_PAGE).order_by(numbered.c.n)
        window: dict[str, list[f.EventFrame]] = {cid: [] for cid in lowest}
        async with self._db() as db:
            for e in await db.scalars(query):
                window[e.conversation_id].append(event_frame(e))
        pages: dict[tuple[str, int], list[f.EventFrame]] = {}
        for cid, after in keys:
            got = window[cid]
            page = got if after == lowest[cid] else [e for e in got if e["seq"] > after]
            if len(page) < REPLAY_PAGE <= len(got):
                # another tab of this conversation asked from an earlier seq, and its
                # page ends before this one's would: read this one's on its own
                page = await self._events_after(cid, after, REPLAY_PAGE)
            pages[(cid, after)] = page
        return pages

    async def events_between(
        self, conversation_id: str, after_seq: int, before_seq: int
    ) -> list[f.EventFrame]:
        async with self._db() as db:
            rows = await db.scalars(
                select(Event)
                .where(
                    Event.conversation_id == conversation_id,
                    Event.seq > after_seq,
                    Event.seq < before_seq,
                )
                .order_by(Event.seq)
            )
            return [event_frame(e) for e in rows]

    async def queue(self, status: str = Status.QUEUED) -> list[f.QueueEntry]:
        """Waiting (or offline) conversations, oldest first."""
        c = Conversation
        async with self._db() as db:
            # the columns only, not ORM objects: recomputed after every change of a
            # queue that may be a thousand long
            rows = await db.execute(
                select(
                    c.id,
                    c.customer_name,
                    c.topic,
                    c.language,
                    c.queued_at,
                    c.preview,
                    c.team_id,
                    c.kind,
                    c.contact,
                    c.requested_adviser_id,
                )
                .where(c.status == status)
                .order_by(c.queued_at, c.id)
            )
            return [
                {
                    "conversation_id": r.id,
                    "customer_name": r.customer_name,
                    "topic": r.topic,
                    "language": r.language,
                    # set whenever a conversation is queued or offline (service.py)
                    "queued_at": cast(str, iso(r.queued_at)),
                    "preview": r.preview,
                    "team_id": r.team_id,
                    "kind": cast(f.ConversationKind, r.kind),
                    "contact": r.contact,
                    "requested_adviser_id": r.requested_adviser_id,
                }
                for r in rows
            ]

    async def team_history(self, limit: int = 50) -> dict[str | None, History]:
        """Per team: recent handle times (accepted -> ended) and pick-up times
        (queued -> accepted), in seconds, for the wait estimate."""
        async with self._db() as db:
            rows = (
                await db.execute(
                    select(
                        Conversation.team_id,
                        Conversation.queued_at,
                        Conversation.accepted_at,
                        Conversation.ended_at,
                    )
                    .where(Conversation.accepted_at.is_not(None), Conversation.kind == "chat")
                    .order_by(Conversation.accepted_at.desc())
                    .limit(limit * 10)
                )
            ).all()
        out: dict[str | None, History] = {}
        for team_id, queued, accepted, ended in rows:
            if accepted is None:
                continue
            handle, pickup = out.setdefault(team_id, ([], []))
            if len(pickup) < limit and queued is not None:
                pickup.append((accepted - queued).total_seconds())
            if len(handle) < limit and ended is not None:
                handle.append((ended - accepted).total_seconds())
        return out

    async def for_adviser(self, adviser_id: str) -> list[f.ConversationSummary]:
        async with self._db() as db:
            rows = await db.execute(
                with_names()
                .where(Conversation.adviser_id == adviser_id, Conversation.status == Status.ACTIVE)
                .order_by(Conversation.accepted_at)
            )
            return summaries(rows)

    async def active_count(self, adviser_id: str) -> int:
        async with self._db() as db:
            return await count_active(db, adviser_id)

    async def active_counts(self) -> dict[str, int]:
        """Active conversations per adviser (advisers without any are absent): the
        load of everyone in one query, for the adviser list and the overview."""
        async with self._db() as db:
            rows = await db.execute(
                select(Conversation.adviser_id, func.count())
                .where(Conversation.status == Status.ACTIVE, Conversation.adviser_id.is_not(None))
                .group_by(Conversation.adviser_id)
            )
            return {str(aid): int(n) for aid, n in rows.all()}

    async def search(
        self,
        adviser_id: str | None,
        status: str | None,
        q: str | None,
        limit: int,
        before: str | None,
    ) -> list[f.ConversationSummary]:
        """Conversations newest first; adviser_id=None means all (supervisors)."""
        async with self._db() as db:
            stmt = select(Conversation)
            if adviser_id is not None:
                stmt = stmt.where(Conversation.adviser_id == adviser_id)
            if status:
                stmt = stmt.where(Conversation.status == status)
            if before:
                cutoff = await db.scalar(
                    select(Conversation.created_at).where(Conversation.id == before)
                )
                if cutoff is not None:
                    stmt = stmt.where(Conversation.created_at < cutoff)
            if q:
                # % and _ are text to find, not wildcards: escaped for LIKE
                pattern = "%" + like_escaped(q.lower()) + "%"
                in_messages = (
                    select(Event.conversation_id)
                    .where(
                        Event.kind == "chat.message",
                        func.lower(Event.body).like(pattern, escape="\\"),
                    )
                    .scalar_subquery()
                )
                stmt = stmt.where(
                    or_(
                        func.lower(Conversation.customer_name).like(pattern, escape="\\"),
                        func.lower(Conversation.topic).like(pattern, escape="\\"),
                        Conversation.id.in_(in_messages),
                    )
                )
            rows = await db.scalars(stmt.order_by(Conversation.created_at.desc()).limit(limit))
            return [await summary_of(db, c) for c in rows]

    async def full_history(self, conversation_id: str) -> list[f.EventFrame]:
        out: list[f.EventFrame] = []
        while True:
            page = await self.events_after(conversation_id, out[-1]["seq"] if out else 0)
            out.extend(page)
            if len(page) < REPLAY_PAGE:
                return out

    async def for_consultant(self, adviser_id: str) -> list[f.ConversationSummary]:
        async with self._db() as db:
            rows = await db.execute(
                with_names().where(
                    Conversation.consultant_id == adviser_id, Conversation.status == Status.ACTIVE
                )
            )
            return summaries(rows)


def like_escaped(text: str) -> str:
    """`text` as a literal inside a LIKE pattern with escape character backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
