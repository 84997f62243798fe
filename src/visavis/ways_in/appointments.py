"""Appointments (R5.6): advisers publish slots, customers book one, move it, cancel it.

Booking is one conditional UPDATE (`… WHERE conversation_id IS NULL`), so two customers
racing for a slot cannot both get it: the loser gets `slot_taken`. A booking creates
the conversation right away (status `scheduled`, with its adviser) and an `Appointment`
row: its id is in the customer's manage link and the calendar invitation's UID. The
e-mailed join link names the conversation and lets the customer in from `JOIN_EARLY`
before the start until the end of the slot that conversation holds then.

Rebooking moves the conversation to another free slot of the same adviser in one
transaction: the old slot is freed and the new one taken by the same conditional
UPDATE, so if someone was faster the whole move is rolled back (`slot_taken`) and the
old booking stays as it was. The appointment keeps its id, so the update mail's ICS
has the same UID with a higher SEQUENCE (RFC 5545), and the join link from the first
mail keeps working, now at the new time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.conversations.callstate import clear_call
from visavis.conversations.service import ConversationService, new_conversation
from visavis.conversations.state import Status, check_transition
from visavis.conversations.summary import iso
from visavis.conversations.writes import Author, Result, Write
from visavis.errors import VisavisError
from visavis.storage.engine import Database
from visavis.storage.ids import new_id
from visavis.storage.models import Adviser, Appointment, Conversation, Slot

MIN_SLOT = timedelta(minutes=10)
MAX_SLOT = timedelta(hours=4)
JOIN_EARLY = timedelta(minutes=15)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SlotInfo(TypedDict):
    """A slot as the HTTP API shows it (`GET /api/v1/slots`, a booking's time)."""

    id: str
    adviser_id: str
    adviser_name: str | None
    start: str
    end: str
    booked: bool


class AppointmentInfo(TypedDict):
    """What the manage page shows (`GET /api/v1/appointments/{id}`)."""

    id: str
    state: str  # booked | begun | over | cancelled (appointment_state)
    start: str | None
    end: str | None
    adviser_id: str | None
    adviser_name: str | None
    customer_name: str | None


def slot_dict(s: Slot, adviser_name: str | None) -> SlotInfo:
    return {
        "id": s.id,
        "adviser_id": s.adviser_id,
        "adviser_name": adviser_name,
        "start": iso(s.starts_at),
        "end": iso(s.ends_at),
        "booked": s.conversation_id is not None,
    }


@dataclass(frozen=True)
class Booking:
    """An appointment as its mails and its manage page need it: the slot it holds (or
    held until it was cancelled), both addresses, the customer's name and the language
    the booking was made in, and the SEQUENCE its next invitation mail carries."""

    id: str
    conversation_id: str
    slot: SlotInfo
    email: str
    adviser_email: str
    customer_name: str | None
    language: str | None
    sequence: int


def appointment_state(
    cancelled: bool, conversation_status: str, start: datetime | None, end: datetime | None,
    now: datetime,
) -> str:  # fmt: skip
    """`booked` until its start (and while the customer has not come in early),
    `begun` from then until its end, `over` after; `cancelled` once cancelled."""
    if cancelled:
        return "cancelled"
    if conversation_status == Status.ENDED or start is None or end is None or now >= _aware(end):
        return "over"
    if conversation_status != Status.SCHEDULED or now >= _aware(start):
        return "begun"
    return "booked"


def check_movable(state: str) -> None:
    """Only an appointment that has not begun can move to another time."""
    if state == "booked":
        return
    message = {
        "cancelled": "this appointment was cancelled; book a new one",
        "begun": "this appointment has already begun",
        "over": "this appointment is over; book a new one",
    }[state]
    raise VisavisError("invalid_state", message, state=state)


def check_new_slot(new: Slot | None, old: Slot, now: datetime) -> Slot:
    if new is None:
        raise VisavisError("not_found", "no such slot")
    if new.id == old.id:
        raise VisavisError("bad_request", "slot_id: this is the time you have booked already")
    if new.adviser_id != old.adviser_id:
        # the conversation, the invitation's organizer and the link belong to one
        # adviser; to see someone else, cancel and book anew
        raise VisavisError("bad_request", "slot_id: pick another time of the same adviser")
    if _aware(new.starts_at) <= now:
        raise VisavisError("bad_request", "slot_id: this time has already begun")
    return new


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

    async def do_add_slot(self, adviser_id: str, start: datetime, end: datetime) -> SlotInfo:
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
                id=new_id(9),
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
    ) -> list[SlotInfo]:
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
    ) -> tuple[Booking, str]:
        """Returns the booking and the token of its manage link (only its hash is kept)."""
        now = datetime.now(UTC)
        manage = secrets.token_urlsafe(24)
        async with self._c.write() as w:
            db = w.db
            slot = await db.get(Slot, slot_id)
            if slot is None:
                raise VisavisError("not_found", "no such slot")
            adviser = await db.get(Adviser, slot.adviser_id)
            assert adviser is not None
            conv = new_conversation(
                now,
                status=Status.SCHEDULED,
                adviser_id=adviser.id,
                customer_name=customer_name.strip()[:80] or None,
                topic=topic,
                language=language,
                contact=email,
            )
            await w.add(conv)
            if not await self._take(db, slot_id, conv.id, now):
                await w.rollback()
                raise VisavisError("slot_taken", "someone else just booked this time; pick another")
            # A fresh id per booking, not the slot's: a slot freed and booked again by
            # someone else must not reuse the UID of the first customer's invitation.
            appointment = Appointment(
                id=new_id(9),
                conversation_id=conv.id,
                manage_hash=_hash(manage),
                customer_email=email,
                sequence=0,
                booked_at=now,
                updated_at=now,
            )
            db.add(appointment)
            await w.append(
                conv.id,
                "conversation.created",
                Author("customer", None, conv.customer_name),
                {"customer_name": conv.customer_name, "topic": topic, "language": language,
                 "via": "appointment", "starts_at": iso(slot.starts_at)},
            )  # fmt: skip
            await w.commit()
            await db.refresh(slot)
            return self._booking(appointment, conv, slot, adviser), manage

    async def _take(
        self, db: AsyncSession, slot_id: str, conversation_id: str, now: datetime
    ) -> bool:
        """Take a free, future slot for a conversation; False if it is not free (any
        more). The database decides, not a Python re-evaluation of a loaded row."""
        taken = await db.execute(
            update(Slot)
            .where(and_(Slot.id == slot_id, Slot.conversation_id.is_(None), Slot.starts_at > now))
            .values(conversation_id=conversation_id, booked_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    @staticmethod
    def _booking(a: Appointment, conv: Conversation, slot: Slot, adviser: Adviser) -> Booking:
        return Booking(
            id=a.id,
            conversation_id=conv.id,
            slot=slot_dict(slot, adviser.name),
            email=a.customer_email,
            adviser_email=adviser.email,
            customer_name=conv.customer_name,
            language=conv.language,
            sequence=a.sequence,
        )

    async def _find(
        self, db: AsyncSession, appointment_id: str, manage: str, w: Write | None = None
    ) -> tuple[Appointment, Conversation, Slot | None]:
        """The appointment the manage token opens, its conversation and the slot it
        holds (None once cancelled); with a write `w`: row locks in this order, as
        everywhere."""
        lock = w is not None
        stmt = select(Appointment).where(Appointment.id == appointment_id[:32])
        appointment = await db.scalar(stmt.with_for_update() if lock else stmt)
        if appointment is None or not hmac.compare_digest(appointment.manage_hash, _hash(manage)):
            raise VisavisError("not_found", "no such appointment")
        if w is not None:
            conv = await w.lock(appointment.conversation_id)
        else:
            found = await db.get(Conversation, appointment.conversation_id)
            if found is None:
                raise VisavisError("not_found", "no such appointment")
            conv = found
        slot_q = select(Slot).where(Slot.conversation_id == conv.id)
        slot = await db.scalar(slot_q.with_for_update() if lock else slot_q)
        return appointment, conv, slot

    @staticmethod
    def _state(a: Appointment, conv: Conversation, slot: Slot | None, now: datetime) -> str:
        return appointment_state(
            a.cancelled_at is not None, conv.status,
            slot.starts_at if slot else None, slot.ends_at if slot else None, now,
        )  # fmt: skip

    async def appointment(self, appointment_id: str, manage: str) -> AppointmentInfo:
        """What the manage page shows: the state, and the time while it holds a slot."""
        now = datetime.now(UTC)
        async with self._db.sessions() as db:
            a, conv, slot = await self._find(db, appointment_id, manage)
            adviser = await db.get(Adviser, slot.adviser_id if slot else conv.adviser_id or "")
        return {
            "id": a.id,
            "state": self._state(a, conv, slot, now),
            "start": iso(slot.starts_at) if slot else None,
            "end": iso(slot.ends_at) if slot else None,
            "adviser_id": adviser.id if adviser else None,
            "adviser_name": adviser.name if adviser else None,
            "customer_name": conv.customer_name,
        }

    async def do_rebook(
        self, appointment_id: str, manage: str, slot_id: str
    ) -> tuple[Booking, SlotInfo]:
        """Move the appointment to another free slot of its adviser, atomically.
        Returns the booking at its new time (SEQUENCE raised) and the old slot."""
        now = datetime.now(UTC)
        async with self._c.write() as w:
            db = w.db
            a, conv, old = await self._find(db, appointment_id, manage, w)
            check_movable(self._state(a, conv, old, now))
            assert old is not None  # a booked appointment holds a slot
            new = check_new_slot(await db.get(Slot, slot_id), old, now)
            adviser = await db.get(Adviser, old.adviser_id)
            assert adviser is not None
            old_dict = slot_dict(old, adviser.name)
            # Free first: `slots.conversation_id` is unique. Both statements are in
            # this transaction, so a lost race below undoes the freeing too.
            await db.execute(
                update(Slot)
                .where(Slot.id == old.id)
                .values(conversation_id=None, booked_at=None)
                .execution_options(synchronize_session=False)
            )
            if not await self._take(db, new.id, conv.id, now):
                await w.rollback()
                raise VisavisError(
                    "slot_taken",
                    "someone else just booked this time; your appointment is unchanged",
                )
            a.sequence += 1
            a.updated_at = now
            # In the conversation's history, so the adviser who opens it later (and
            # the customer) see that the time was changed and from when.
            await w.append(
                conv.id, "appointment.moved", Author("customer", None, conv.customer_name),
                {"from": iso(old.starts_at), "starts_at": iso(new.starts_at),
                 "ends_at": iso(new.ends_at)},
            )  # fmt: skip
            await w.commit()
            await db.refresh(new)
            return self._booking(a, conv, new, adviser), old_dict

    async def do_cancel(self, appointment_id: str, manage: str) -> Booking:
        """Cancel by the customer's manage token; the slot is free again. The booking
        carries the SEQUENCE of the cancellation's ICS (above the last invitation's)."""
        now = datetime.now(UTC)
        async with self._c.write() as w:
            db = w.db
            a, conv, slot = await self._find(db, appointment_id, manage, w)
            if a.cancelled_at is not None:
                raise VisavisError(
                    "invalid_state", "this appointment was cancelled already", state="cancelled"
                )
            if conv.status != Status.SCHEDULED or slot is None:
                raise VisavisError(
                    "invalid_state", "this appointment has already begun or ended",
                    state=self._state(a, conv, slot, now),
                )  # fmt: skip
            adviser = await db.get(Adviser, slot.adviser_id)
            assert adviser is not None
            conv.status = check_transition(conv.status, "end")
            conv.ended_at = now
            clear_call(conv)
            await w.append(
                conv.id, "conversation.ended", Author("customer"), {"by": "customer",
                "reason": "appointment_cancelled"},
            )  # fmt: skip
            slot.conversation_id = None
            slot.booked_at = None
            a.cancelled_at = now
            a.updated_at = now
            a.sequence += 1
        return self._booking(a, conv, slot, adviser)

    async def do_join(self, conversation_id: str) -> Result | None:
        """The customer opens the link: inside the window, the appointment becomes an
        active conversation with its adviser. None if it is not an appointment."""
        now = datetime.now(UTC)
        async with self._c.write() as w:
            db = w.db
            conv = await w.lock(conversation_id)
            if conv.status != Status.SCHEDULED:
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
            await w.append(
                conv.id,
                "conversation.accepted",
                Author("adviser", adviser.id, adviser.name),
                {"adviser_id": adviser.id, "adviser_name": adviser.name},
            )
        return w.summary(conversation_id), w.events(conversation_id)
