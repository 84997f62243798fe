"""Appointments (R5.6): advisers publish slots, customers book one.

Booking is one conditional UPDATE (`… WHERE conversation_id IS NULL`), so two customers
racing for a slot cannot both get it: the loser gets `slot_taken`. A booking creates
the conversation right away (status `scheduled`, with its adviser); the e-mailed link
lets the customer in from `JOIN_EARLY` before the start until the end of the slot.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select, update

from visavis.conversations.callstate import clear_call
from visavis.conversations.service import Author, ConversationService, new_conversation
from visavis.conversations.state import check_transition
from visavis.conversations.summary import event_frame, iso
from visavis.errors import VisavisError
from visavis.storage.engine import Database
from visavis.storage.models import Adviser, Slot

MIN_SLOT = timedelta(minutes=10)
MAX_SLOT = timedelta(hours=4)
JOIN_EARLY = timedelta(minutes=15)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def slot_dict(s: Slot, adviser_name: str | None) -> dict[str, Any]:
    return {
        "id": s.id,
        "adviser_id": s.adviser_id,
        "adviser_name": adviser_name,
        "start": iso(s.starts_at),
        "end": iso(s.ends_at),
        "booked": s.conversation_id is not None,
    }


@dataclass(frozen=True)
class Cancellation:
    """What the cancellation mails need: the freed slot, both addresses, and the
    customer's name and the language the booking was made in."""

    slot: dict[str, Any]
    email: str
    adviser_email: str
    customer_name: str | None
    language: str | None


def check_slot_times(start: datetime, end: datetime, now: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise VisavisError("bad_request", "start/end: give a time zone offset (ISO 8601)")
    if start <= now:
        raise VisavisError("bad_request", "start: must be in the future")
    if not MIN_SLOT <= end - start <= MAX_SLOT:
        raise VisavisError("bad_request", "a slot lasts between 10 minutes and 4 hours")


class AppointmentService:
    def __init__(self, database: Database, conversations: ConversationService) -> None:
        self._db = database
        self._c = conversations

    async def do_add_slot(self, adviser_id: str, start: datetime, end: datetime) -> dict[str, Any]:
        check_slot_times(start, end, datetime.now(UTC))
        async with self._db.writer() as db:
            overlap = await db.scalar(
                select(Slot.id).where(
                    Slot.adviser_id == adviser_id,
                    Slot.starts_at < end.astimezone(UTC),
                    Slot.ends_at > start.astimezone(UTC),
                )
            )
            if overlap is not None:
                raise VisavisError("invalid_state", "this overlaps one of your slots")
            slot = Slot(
                id=secrets.token_urlsafe(9),
                adviser_id=adviser_id,
                starts_at=start.astimezone(UTC),
                ends_at=end.astimezone(UTC),
                created_at=datetime.now(UTC),
            )
            db.add(slot)
            await db.commit()
            return slot_dict(slot, None)

    async def do_remove_slot(self, adviser_id: str, slot_id: str) -> None:
        async with self._db.writer() as db:
            slot = await db.get(Slot, slot_id)
            if slot is None or slot.adviser_id != adviser_id:
                raise VisavisError("not_found", "no such slot of yours")
            if slot.conversation_id is not None:
                raise VisavisError("invalid_state", "this slot is booked; the customer cancels it")
            await db.execute(delete(Slot).where(Slot.id == slot_id))
            await db.commit()

    async def slots(
        self, adviser_ids: set[str] | None, only_free: bool, adviser_id: str | None = None
    ) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        async with self._db.sessions() as db:
            stmt = (
                select(Slot, Adviser.name)
                .join(Adviser, Adviser.id == Slot.adviser_id)
                .where(Slot.starts_at > now)
                .order_by(Slot.starts_at)
                .limit(500)
            )
            if only_free:
                stmt = stmt.where(Slot.conversation_id.is_(None))
            if adviser_ids is not None:
                stmt = stmt.where(Slot.adviser_id.in_(adviser_ids))
            if adviser_id is not None:
                stmt = stmt.where(Slot.adviser_id == adviser_id)
            return [slot_dict(s, name) for s, name in (await db.execute(stmt)).all()]

    async def do_book(
        self, slot_id: str, customer_name: str, language: str, topic: str | None, email: str
    ) -> tuple[dict[str, Any], dict[str, Any], str, str]:
        """Returns (slot, conversation summary, manage token, adviser e-mail)."""
        now = datetime.now(UTC)
        manage = secrets.token_urlsafe(24)
        async with self._c.writer() as db:
            slot = await db.get(Slot, slot_id)
            if slot is None:
                raise VisavisError("not_found", "no such slot")
            adviser = await db.get(Adviser, slot.adviser_id)
            assert adviser is not None
            conv = new_conversation(
                now,
                status="scheduled",
                adviser_id=adviser.id,
                customer_name=customer_name.strip()[:80] or None,
                topic=topic,
                language=language,
                contact=email,
            )
            db.add(conv)
            await db.flush()
            taken = await db.execute(
                update(Slot)
                .where(
                    and_(Slot.id == slot_id, Slot.conversation_id.is_(None), Slot.starts_at > now)
                )
                .values(
                    conversation_id=conv.id,
                    customer_email=email,
                    manage_hash=_hash(manage),
                    booked_at=now,
                )
                # the database decides, not a Python re-evaluation of the loaded row
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                await db.rollback()
                raise VisavisError("slot_taken", "someone else just booked this time; pick another")
            await self._c.append_event(
                db,
                conv.id,
                "conversation.created",
                Author("customer", None, conv.customer_name),
                {"customer_name": conv.customer_name, "topic": topic, "language": language,
                 "via": "appointment", "starts_at": iso(slot.starts_at)},
            )  # fmt: skip
            await db.commit()
            await db.refresh(slot)
            return (
                slot_dict(slot, adviser.name),
                await self._c.summary_of(db, conv),
                manage,
                adviser.email,
            )

    async def do_cancel(self, slot_id: str, manage: str) -> Cancellation:
        """Cancel by the customer's manage token; the slot is free again."""
        async with self._c.writer() as db:
            slot = await db.scalar(select(Slot).where(Slot.id == slot_id).with_for_update())
            if slot is None or slot.manage_hash is None or slot.manage_hash != _hash(manage):
                raise VisavisError("not_found", "no such appointment")
            conv = await self._c.lock_conversation(db, slot.conversation_id or "")
            adviser = await db.get(Adviser, slot.adviser_id)
            assert adviser is not None
            email = slot.customer_email or ""
            if conv.status == "scheduled":
                conv.status = check_transition(conv.status, "end")
                conv.ended_at = datetime.now(UTC)
                clear_call(conv)
                await self._c.append_event(
                    db, conv.id, "conversation.ended", Author("customer"), {"by": "customer",
                    "reason": "appointment_cancelled"},
                )  # fmt: skip
            else:
                raise VisavisError("invalid_state", "this appointment has already begun or ended")
            slot.conversation_id = None
            slot.customer_email = None
            slot.manage_hash = None
            slot.booked_at = None
            await db.commit()
            return Cancellation(
                slot_dict(slot, adviser.name), email, adviser.email, conv.customer_name,
                conv.language,
            )  # fmt: skip

    async def do_join(
        self, conversation_id: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The customer opens the link: inside the window, the appointment becomes an
        active conversation with its adviser. None if it is not an appointment."""
        now = datetime.now(UTC)
        async with self._c.writer() as db:
            conv = await self._c.lock_conversation(db, conversation_id)
            if conv.status != "scheduled":
                return None
            slot = await db.scalar(select(Slot).where(Slot.conversation_id == conversation_id))
            if slot is None:
                return None
            start, end = _aware(slot.starts_at), _aware(slot.ends_at)
            if now < start - JOIN_EARLY:
                raise VisavisError(
                    "too_early",
                    f"your appointment starts at {iso(start)}; the link opens at "
                    f"{iso(start - JOIN_EARLY)}",
                    starts_at=iso(start),
                    opens_at=iso(start - JOIN_EARLY),
                )
            if now > end:
                raise VisavisError("expired", "this appointment is over")
            adviser = await db.get(Adviser, slot.adviser_id)
            assert adviser is not None
            conv.status = check_transition(conv.status, "join")
            conv.accepted_at = now
            event = await self._c.append_event(
                db,
                conv.id,
                "conversation.accepted",
                Author("adviser", adviser.id, adviser.name),
                {"adviser_id": adviser.id, "adviser_name": adviser.name},
            )
            await db.commit()
            return await self._c.summary_of(db, conv), [event_frame(event)]
