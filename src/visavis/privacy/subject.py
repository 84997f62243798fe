"""One customer's data (a data subject, Art. 15, 17, 20 GDPR): export it as one
archive, erase it except what the law says must be kept — and say what and why.

Customers have no account: they are found by what they gave — the e-mail address or
phone number of a message or call-back request or a booking (`contact`, the
appointment's e-mail), or the ids of their conversations (in their link, or found by
an adviser in the console). `Subject` is that query.

The archive (zip) has `subject.json` — every conversation with its whole log,
documents (signed PDFs among them), forms, signatures, recordings and appointments —
and the files, decrypted (`privacy/archive.py`): documents, signature images, the
recordings' WebM files. It is written while it is sent (`privacy/zipstream.py`): never
whole in memory, never on disk in plain.

Erasing goes per conversation: a running one is ended first; then every kind of data
the profile does not hold by law (`Policy.legal_holds`, until that kind's retention
ends) is deleted as the retention job would delete it (recordings' files, signed PDFs with
their signature images); when nothing is held the
conversation goes altogether. When something is held, the conversation's log says so
(`conversation.erased`: what was erased, what was kept, until when, why) and the
report lists it. Both are in the audit log (ids and counts, no content).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.audit.log import do_audit
from visavis.conversations.erasure import (
    SIGNED,
    do_delete_conversations,
    do_delete_documents,
    do_delete_forms,
    do_erase_content,
)
from visavis.conversations.service import ConversationService
from visavis.conversations.summary import iso
from visavis.conversations.writes import Author
from visavis.errors import VisavisError
from visavis.privacy.archive import FileJob, SubjectArchive
from visavis.privacy.profiles import KINDS, Policy
from visavis.privacy.retention import FileCleanup, recording_ids
from visavis.privacy.zipstream import ZipStream
from visavis.storage.engine import Database
from visavis.storage.models import Appointment, Conversation, Document, Event, Form

SYSTEM = Author("system", None, None)
MAX_IDS = 100


@dataclass(frozen=True)
class Subject:
    email: str | None = None
    phone: str | None = None
    conversation_ids: tuple[str, ...] = ()

    def check(self) -> None:
        if not (self.email or self.phone or self.conversation_ids):
            raise VisavisError(
                "bad_request", "name the customer: an e-mail, a phone number or conversation ids"
            )
        if len(self.conversation_ids) > MAX_IDS:
            raise VisavisError("bad_request", f"at most {MAX_IDS} conversation ids at once")
        if self.email is not None and ("@" not in self.email or len(self.email) > 254):
            raise VisavisError("bad_request", f"email: not an e-mail address: {self.email!r}")

    def describe(self) -> dict[str, Any]:
        """What the audit log says about the query: no address, only its kind."""
        return {
            "by": [k for k in ("email", "phone") if getattr(self, k)]
            + (["conversation_ids"] if self.conversation_ids else []),
        }


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


async def find_conversations(db: AsyncSession, subject: Subject) -> list[Conversation]:
    """The subject's conversations, oldest first."""
    subject.check()
    ids: set[str] = set(subject.conversation_ids)
    if subject.email:
        email = subject.email.strip().lower()
        ids |= set(
            await db.scalars(
                select(Conversation.id).where(func.lower(Conversation.contact) == email)
            )
        )
        ids |= set(
            await db.scalars(
                select(Appointment.conversation_id).where(
                    func.lower(Appointment.customer_email) == email
                )
            )
        )
    if subject.phone:
        wanted = digits(subject.phone)
        if len(wanted) < 5:
            raise VisavisError("bad_request", f"phone: too few digits in {subject.phone!r}")
        rows = await db.execute(
            select(Conversation.id, Conversation.contact).where(
                Conversation.contact.is_not(None), ~Conversation.contact.contains("@")
            )
        )
        ids |= {cid for cid, contact in rows if digits(contact or "") == wanted}
    if not ids:
        return []
    convs = list(
        await db.scalars(
            select(Conversation)
            .where(Conversation.id.in_(sorted(ids)))
            .order_by(Conversation.created_at, Conversation.id)
        )
    )
    missing = set(subject.conversation_ids) - {c.id for c in convs}
    if missing:
        raise VisavisError("not_found", f"no conversation {sorted(missing)[0]}")
    return convs


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@dataclass
class Held:
    conversation_id: str
    kind: str
    until: datetime
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {
            "conversation_id": self.conversation_id,
            "kind": self.kind,
            "until": iso(self.until),
            "reason": self.reason,
        }


@dataclass
class ErasureReport:
    conversations: list[str] = field(default_factory=list)  # found
    deleted: list[str] = field(default_factory=list)  # gone altogether
    erased: dict[str, list[str]] = field(default_factory=dict)  # kept in part: kinds erased
    kept: list[Held] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "deleted": self.deleted,
            "erased": self.erased,
            "kept": [h.as_dict() for h in self.kept],
            "counts": self.counts,
        }


@dataclass(frozen=True)
class SubjectExport:
    count: int  # conversations in it
    stream: ZipStream  # the zip: `stream.chunks()`, once


class SubjectService:
    def __init__(
        self,
        database: Database,
        conversations: ConversationService,
        files: FileCleanup,
        policy: Policy,
        recording_key: bytes | None = None,
    ) -> None:
        """`recording_key`: the recorder's key, to put recordings into an export
        decrypted (None: no recorder, or none configured; recordings are then listed
        with the reason they are not in the archive)."""
        self._database = database
        self.conversations = conversations
        self.files = files
        self.policy = policy
        self.archive = SubjectArchive(files.store, files.recordings_dir, recording_key)

    # ------------------------------------------------------------ export
    async def do_export(self, subject: Subject, actor: str) -> SubjectExport:
        """The archive, written as it is read, and how many conversations are in it.
        The export is in the audit log before its first byte goes out."""
        jobs: list[FileJob] = []
        records: list[dict[str, Any]] = []
        async with self._database.sessions() as db:
            convs = await find_conversations(db, subject)
            for conv in convs:
                records.append(await self.archive.do_collect(db, conv, jobs))
        async with self._database.writer() as db:
            await do_audit(
                db,
                actor=actor,
                action="subject.export",
                subject="subject",
                detail={**subject.describe(), "conversations": [c.id for c in convs]},
            )
            await db.commit()
        doc = {
            "generated_at": iso(datetime.now(UTC)),
            "profile": self.policy.profile,
            "conversations": records,
        }
        stream = ZipStream(partial(self.archive.write_archive, jobs, doc))
        return SubjectExport(len(convs), stream)

    # ------------------------------------------------------------ erase
    async def do_erase(
        self, subject: Subject, actor: str, now: datetime | None = None
    ) -> ErasureReport:
        now = now or datetime.now(UTC)
        report = ErasureReport()
        async with self._database.sessions() as db:
            convs = await find_conversations(db, subject)
        report.conversations = [c.id for c in convs]
        for conv in convs:
            if conv.status != "ended":
                await self.conversations.do_end(conv.id, SYSTEM)
        counts = dict.fromkeys(
            ("messages_erased", "documents_deleted", "signed_pdfs_deleted", "forms_deleted"), 0
        )
        digests: set[str] = set()
        recordings: set[str] = set()
        partly: list[tuple[str, list[str], list[Held]]] = []
        async with self._database.writer() as db:
            gone = []
            for conv in await db.scalars(
                select(Conversation).where(Conversation.id.in_(report.conversations))
            ):
                held = await self._held(db, conv, now)
                held_kinds = {h.kind for h in held}
                ids = [conv.id]
                erased = []
                if "messages" not in held_kinds:
                    counts["messages_erased"] += await do_erase_content(db, ids, "messages")
                    erased.append("messages")
                if "forms" not in held_kinds:
                    counts["forms_deleted"] += await do_delete_forms(db, ids)
                    erased.append("forms")
                for kind, signed in (("documents", False), ("signed_pdfs", True)):
                    if kind not in held_kinds:
                        n, found = await do_delete_documents(db, ids, signed)
                        counts[f"{kind}_deleted"] += n
                        digests |= found
                        erased.append(kind)
                if "recordings" not in held_kinds:
                    recordings |= await recording_ids(db, ids)
                    erased.append("recordings")
                if held:
                    partly.append((conv.id, erased, held))
                else:
                    gone.append(conv.id)
            await db.flush()
            counts["conversations_deleted"] = await do_delete_conversations(db, gone)
            digests = await self.files.unreferenced(db, digests)
            recordings = self.files.existing_recordings(recordings)
            counts["files_deleted"] = len(digests)
            counts["recordings_deleted"] = len(recordings)
            report.deleted = gone
            await do_audit(
                db,
                actor=actor,
                action="subject.erase",
                subject="subject",
                detail={
                    **subject.describe(),
                    "deleted": gone,
                    "kept": [[h.conversation_id, h.kind] for _, _, hs in partly for h in hs],
                    **counts,
                },
                now=now,
            )
            await db.commit()
        for cid, erased, held in partly:
            body = {
                "erased": erased,
                "kept": [
                    {k: v for k, v in h.as_dict().items() if k != "conversation_id"} for h in held
                ],
            }
            async with self.conversations.write(summaries=False) as w:
                await w.append(cid, "conversation.erased", SYSTEM, body)
            report.erased[cid] = erased
            report.kept.extend(held)
        await self.files.do_delete_files(self._database, digests)
        await self.files.do_delete_recordings(recordings)
        report.counts = counts
        return report

    async def _held(self, db: AsyncSession, conv: Conversation, now: datetime) -> list[Held]:
        """The kinds of data of this conversation the law keeps beyond an erasure
        request: held by the profile, present, and younger than their retention."""
        ended = _aware(conv.ended_at) if conv.ended_at else now
        out = []
        for kind in KINDS:
            reason = self.policy.legal_holds.get(kind)
            if reason is None:
                continue
            until = ended + timedelta(days=self.policy.days(kind))
            if until <= now or not await self._has(db, conv.id, kind):
                continue
            out.append(Held(conv.id, kind, until, reason))
        return out

    async def _has(self, db: AsyncSession, cid: str, kind: str) -> bool:
        if kind == "metadata":
            return True
        if kind in ("documents", "signed_pdfs"):
            source = (
                Document.source == SIGNED if kind == "signed_pdfs" else Document.source != SIGNED
            )
            query: Any = select(Document.id).where(Document.conversation_id == cid, source)
        elif kind == "forms":
            query = select(Form.id).where(Form.conversation_id == cid)
        elif kind == "messages":
            query = select(Event.id).where(
                Event.conversation_id == cid, Event.kind == "chat.message"
            )
        else:
            query = select(Event.id).where(
                Event.conversation_id == cid, Event.kind.like("recording.%")
            )
        return (await db.execute(query.limit(1))).first() is not None
