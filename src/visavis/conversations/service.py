"""Conversations and their event log.

Every change is one transaction that (1) checks the state, (2) allocates the next
`seq` by incrementing `conversations.last_seq` (a row lock on PostgreSQL; SQLite has
one writer, serialised here by `_write_lock`), (3) stores the event, and (4) commits.
Only after the commit does the caller publish the event — so nobody is ever told
about something that could still be rolled back.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.conversations.callstate import clear_call, ended_body
from visavis.conversations.state import Status, check_can_write, check_transition
from visavis.conversations.summary import event_frame, iso, summary
from visavis.errors import VisavisError
from visavis.routing.decide import ChatLimits, check_chat_limit
from visavis.storage.engine import Database
from visavis.storage.models import Adviser, Conversation, Event

MAX_NAME = 80
MAX_TOPIC = 64
REPLAY_PAGE = 500


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
    return Conversation(id=secrets.token_urlsafe(16), created_at=now, **{**defaults, **fields})


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


History = tuple[list[float], list[float]]  # (handle times, pick-up times) in seconds


@dataclass(frozen=True)
class Author:
    role: str  # customer | adviser | system
    id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Appended:
    frame: dict[str, Any]
    created: bool  # False: a resend of an already stored client_id


class ConversationService:
    def __init__(self, database: Database) -> None:
        self._db = database.sessions
        self.writer = database.writer

    # ------------------------------------------------------------- helpers
    async def append_event(
        self,
        db: AsyncSession,
        conversation_id: str,
        kind: str,
        author: Author,
        body: dict[str, Any],
        client_id: str | None = None,
        now: datetime | None = None,
    ) -> Event:
        seq = await db.scalar(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(last_seq=Conversation.last_seq + 1)
            .returning(Conversation.last_seq)
        )
        if seq is None:
            raise VisavisError("not_found", f"no conversation {conversation_id}")
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
        db.add(event)
        await db.flush()
        return event

    async def lock_conversation(self, db: AsyncSession, conversation_id: str) -> Conversation:
        conv = await db.scalar(
            select(Conversation).where(Conversation.id == conversation_id).with_for_update()
        )
        if conv is None:
            raise VisavisError("not_found", f"no conversation {conversation_id}")
        return conv

    async def _adviser_name(self, db: AsyncSession, adviser_id: str | None) -> str | None:
        if adviser_id is None:
            return None
        return await db.scalar(select(Adviser.name).where(Adviser.id == adviser_id))

    async def summary_of(self, db: AsyncSession, conv: Conversation) -> dict[str, Any]:
        return summary(
            conv,
            await self._adviser_name(db, conv.adviser_id),
            await self._adviser_name(db, conv.consultant_id),
        )

    # ------------------------------------------------------------- reads
    async def get(self, conversation_id: str) -> dict[str, Any]:
        async with self._db() as db:
            conv = await db.get(Conversation, conversation_id)
            if conv is None:
                raise VisavisError("not_found", f"no conversation {conversation_id}")
            return await self.summary_of(db, conv)

    async def events_after(
        self, conversation_id: str, after_seq: int, limit: int = REPLAY_PAGE
    ) -> list[dict[str, Any]]:
        async with self._db() as db:
            rows = await db.scalars(
                select(Event)
                .where(Event.conversation_id == conversation_id, Event.seq > after_seq)
                .order_by(Event.seq)
                .limit(limit)
            )
            return [event_frame(e) for e in rows]

    async def events_between(
        self, conversation_id: str, after_seq: int, before_seq: int
    ) -> list[dict[str, Any]]:
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

    async def queue(self, status: str = Status.QUEUED) -> list[dict[str, Any]]:
        """Waiting (or offline) conversations, oldest first."""
        async with self._db() as db:
            rows = await db.scalars(
                select(Conversation)
                .where(Conversation.status == status)
                .order_by(Conversation.queued_at, Conversation.id)
            )
            return [
                {
                    "conversation_id": c.id,
                    "customer_name": c.customer_name,
                    "topic": c.topic,
                    "language": c.language,
                    "queued_at": iso(c.queued_at),
                    "preview": c.preview,
                    "team_id": c.team_id,
                    "kind": c.kind,
                    "contact": c.contact,
                    "requested_adviser_id": c.requested_adviser_id,
                }
                for c in rows
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

    async def for_adviser(self, adviser_id: str) -> list[dict[str, Any]]:
        async with self._db() as db:
            rows = await db.scalars(
                select(Conversation)
                .where(Conversation.adviser_id == adviser_id, Conversation.status == Status.ACTIVE)
                .order_by(Conversation.accepted_at)
            )
            return [await self.summary_of(db, c) for c in rows]

    async def count_active(self, db: AsyncSession, adviser_id: str) -> int:
        n = await db.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.adviser_id == adviser_id, Conversation.status == Status.ACTIVE)
        )
        return int(n or 0)

    async def active_count(self, adviser_id: str) -> int:
        async with self._db() as db:
            return await self.count_active(db, adviser_id)

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
    ) -> list[dict[str, Any]]:
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
                pattern = "%" + q.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
                in_messages = (
                    select(Event.conversation_id)
                    .where(Event.kind == "chat.message", func.lower(Event.body).like(pattern))
                    .scalar_subquery()
                )
                stmt = stmt.where(
                    or_(
                        func.lower(Conversation.customer_name).like(pattern),
                        func.lower(Conversation.topic).like(pattern),
                        Conversation.id.in_(in_messages),
                    )
                )
            rows = await db.scalars(stmt.order_by(Conversation.created_at.desc()).limit(limit))
            return [await self.summary_of(db, c) for c in rows]

    async def full_history(self, conversation_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = await self.events_after(conversation_id, out[-1]["seq"] if out else 0)
            out.extend(page)
            if len(page) < REPLAY_PAGE:
                return out

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
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
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
            preview=first_message[1][:140] if first_message else None,
        )
        customer = Author("customer", None, name)
        async with self.writer() as db:
            db.add(conv)
            await db.flush()
            events = [
                await self.append_event(
                    db,
                    conv.id,
                    "conversation.created",
                    customer,
                    {
                        "customer_name": name,
                        "topic": topic,
                        "language": language,
                        "team_id": team_id,
                        "kind": kind,
                        "contact": contact,
                    },
                    now=now,
                )
            ]
            if first_message:
                client_id, text = first_message
                events.append(
                    await self.append_event(
                        db, conv.id, "chat.message", customer, {"text": text}, client_id, now
                    )
                )
            await db.commit()
            return summary(conv, None), [event_frame(e) for e in events]

    async def do_create_assigned(
        self,
        adviser_id: str,
        adviser_name: str,
        max_chats: int,
        customer_name: str | None,
        language: str | None,
        via: str,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
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
        async with self.writer() as db:
            await db.scalar(select(Adviser.id).where(Adviser.id == adviser_id).with_for_update())
            check_chat_limit(await self.count_active(db, adviser_id), max_chats)
            db.add(conv)
            await db.flush()
            events = [
                await self.append_event(
                    db,
                    conv.id,
                    "conversation.created",
                    adviser,
                    {"customer_name": name, "topic": None, "language": language, "via": via},
                    now=now,
                ),
                await self.append_event(
                    db,
                    conv.id,
                    "conversation.accepted",
                    adviser,
                    {"adviser_id": adviser_id, "adviser_name": adviser_name},
                    now=now,
                ),
            ]
            await db.commit()
            return summary(conv, adviser_name), [event_frame(e) for e in events]

    async def event_by_client_id(
        self, db: AsyncSession, conversation_id: str, client_id: str
    ) -> dict[str, Any] | None:
        row = await db.scalar(
            select(Event).where(
                Event.conversation_id == conversation_id, Event.client_id == client_id
            )
        )
        return event_frame(row) if row is not None else None

    async def for_consultant(self, adviser_id: str) -> list[dict[str, Any]]:
        async with self._db() as db:
            rows = await db.scalars(
                select(Conversation).where(
                    Conversation.consultant_id == adviser_id, Conversation.status == Status.ACTIVE
                )
            )
            return [await self.summary_of(db, c) for c in rows]

    async def do_chat(
        self, conversation_id: str, author: Author, client_id: str, text: str
    ) -> Appended:
        async with self.writer() as db:
            existing = await db.scalar(
                select(Event).where(
                    Event.conversation_id == conversation_id, Event.client_id == client_id
                )
            )
            if existing is not None:
                return Appended(event_frame(existing), created=False)
            conv = await self.lock_conversation(db, conversation_id)
            check_can_write(conv.status)
            if conv.preview is None and author.role == "customer":
                conv.preview = text[:140]
            try:
                event = await self.append_event(
                    db, conversation_id, "chat.message", author, {"text": text}, client_id
                )
                await db.commit()
            except IntegrityError:
                # A concurrent resend of the same client_id won the race on another node.
                await db.rollback()
                existing = await db.scalar(
                    select(Event).where(
                        Event.conversation_id == conversation_id, Event.client_id == client_id
                    )
                )
                if existing is None:
                    raise
                return Appended(event_frame(existing), created=False)
            return Appended(event_frame(event), created=True)

    async def do_accept(
        self,
        conversation_id: str | None,
        adviser_id: str,
        adviser_name: str,
        limits: ChatLimits,
        team_ids: frozenset[str] | None = None,
        requested_cutoff: datetime | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Assign a queued conversation (or the oldest, if id is None) to the adviser.

        `limits`: the adviser's chat limit per team of the conversation. `team_ids`: the
        teams the adviser serves (None: all). Conversations of no team are served by
        everyone. `requested_cutoff`: customers who picked another adviser in the
        portal and were queued after it wait for that adviser only."""
        async with self.writer() as db:
            # Lock the adviser row: two sockets of one adviser accepting at once
            # must not both pass the limit check.
            await db.scalar(select(Adviser.id).where(Adviser.id == adviser_id).with_for_update())
            active = await self.count_active(db, adviser_id)
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
            conv = await self.lock_conversation(db, conversation_id)
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
            event = await self.append_event(
                db,
                conversation_id,
                "conversation.accepted",
                Author("adviser", adviser_id, adviser_name),
                {"adviser_id": adviser_id, "adviser_name": adviser_name},
                now=now,
            )
            await db.commit()
            return summary(conv, adviser_name), event_frame(event)

    async def do_end(
        self, conversation_id: str, author: Author
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with self.writer() as db:
            conv = await self.lock_conversation(db, conversation_id)
            now = datetime.now(UTC)
            conv.status = check_transition(conv.status, "end")
            conv.ended_at = now
            events = []
            if conv.call_id is not None:  # a running call ends with its conversation
                body = ended_body(conv, author.role, "conversation_ended")
                events.append(
                    await self.append_event(db, conversation_id, "call.ended", author, body)
                )
                clear_call(conv)
            events.append(
                await self.append_event(
                    db, conversation_id, "conversation.ended", author, {"by": author.role}, now=now
                )
            )
            await db.commit()
            return await self.summary_of(db, conv), [event_frame(e) for e in events]

    async def do_receipt(
        self, conversation_id: str, role: str, delivered: int | None, read: int | None
    ) -> tuple[int, int]:
        """Move the role's marks forward (never back, never past last_seq)."""
        if role == "customer":
            dcol, rcol = Conversation.customer_delivered_seq, Conversation.customer_read_seq
        else:
            dcol, rcol = Conversation.adviser_delivered_seq, Conversation.adviser_read_seq
        async with self.writer() as db:
            conv = await db.get(Conversation, conversation_id)
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
                await db.execute(
                    update(Conversation)
                    .where(and_(Conversation.id == conversation_id))
                    .values(values)
                )
                await db.commit()
            return new_d, new_r

    async def ids_with_status(self, statuses: Sequence[str]) -> list[str]:
        async with self._db() as db:
            return list(
                await db.scalars(select(Conversation.id).where(Conversation.status.in_(statuses)))
            )
