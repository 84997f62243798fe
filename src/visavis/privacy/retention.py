"""The retention job: delete per kind of data what has been kept longer than the
policy says — exactly that, nothing else — and log how much, never what.

Age is counted from the end of a conversation (`ended_at`); a conversation that has
not ended is not touched. `now` is passed in (`visavis retention run --now`, tests
move it forward); the server runs the job every VISAVIS_RETENTION_INTERVAL_S.

Per kind, for the conversations that ended at least that kind's days before `now`:
- messages: the text of chat messages, internal notes and text annotations is
  erased in the log (`conversations/erasure.py`), and the preview;
- documents / signed_pdfs: the rows of shared documents (signed PDFs: `source`
  "signed") go, their names in the log are erased, and their files and cached page
  images are deleted unless another row (a library entry, another conversation's
  share of the same content) still uses the content; signed PDFs take the signature
  images with them (`conversations/erasure.py`);
- forms: the forms' rows and the values in the log;
- recordings: the recordings' directories (`<data_dir>/recordings/<id>/`, named by
  the `recording.*` events);
- metadata: the conversation itself (its row, the rest of the log, appointments,
  join codes) — only once nothing else of it is still kept: a conversation whose
  signed PDF must stay 6 years keeps the row that says whose it is.

One transaction for the rows and the audit entry ("retention.run", counts only);
files are deleted after the commit (a crash in between leaves a file no row names,
never a row whose file is gone).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.audit.log import do_audit
from visavis.conversations.erasure import (
    chunks,
    do_delete_conversations,
    do_delete_documents,
    do_delete_forms,
    do_erase_content,
)
from visavis.documents.render import forget_pages
from visavis.privacy.profiles import KINDS, Policy
from visavis.storage.engine import Database
from visavis.storage.files import FileStore
from visavis.storage.models import Conversation, Document, Event, Form, LibraryDocument

log = logging.getLogger(__name__)

_RECORDING_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def ended_before(db: AsyncSession, cutoff: datetime) -> list[str]:
    rows = await db.scalars(
        select(Conversation.id).where(
            Conversation.status == "ended",
            Conversation.ended_at.is_not(None),
            Conversation.ended_at <= cutoff,
        )
    )
    return list(rows)


async def referenced(db: AsyncSession, digest: str) -> bool:
    """Does any document or library row, or a signature (its image), still use this
    stored content?"""
    for query in (
        exists().where(Document.digest == digest),
        exists().where(LibraryDocument.digest == digest),
        # as `Write.append` spells it (compact JSON): the image, not the document signed
        exists().where(
            Event.kind == "signature.signed",
            Event.body.contains(f'"image_sha256":"{digest}"'),
        ),
    ):
        if await db.scalar(select(query)):
            return True
    return False


async def recording_ids(db: AsyncSession, conversation_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for ids in chunks(conversation_ids):
        bodies = await db.scalars(
            select(Event.body).where(Event.conversation_id.in_(ids), Event.kind.like("recording.%"))
        )
        for raw in bodies:
            rid = json.loads(raw).get("recording_id")
            if isinstance(rid, str) and _RECORDING_ID.fullmatch(rid):
                found.add(rid)
    return found


class FileCleanup:
    """Files to delete after the commit: stored files no row uses any more, their
    cached pages, recordings' directories. What will go is worked out inside the
    transaction (for the counts in its audit entry); the deletion after the commit
    checks again that no row took the content up meanwhile."""

    def __init__(self, store: FileStore, page_cache_dir: Path, recordings_dir: Path) -> None:
        self.store = store
        self.page_cache_dir = page_cache_dir
        self.recordings_dir = recordings_dir

    async def unreferenced(self, db: AsyncSession, digests: set[str]) -> set[str]:
        return {d for d in digests if self.store.exists(d) and not await referenced(db, d)}

    def existing_recordings(self, recording_ids: set[str]) -> set[str]:
        return {r for r in recording_ids if (self.recordings_dir / r).is_dir()}

    async def do_delete_files(self, database: Database, digests: set[str]) -> None:
        async with database.sessions() as db:
            for digest in sorted(digests):
                if await referenced(db, digest):
                    continue
                await self.store.delete(digest)
                await forget_pages(self.page_cache_dir, digest)

    async def do_delete_recordings(self, recording_ids: set[str]) -> None:
        for rid in sorted(recording_ids):
            await asyncio.to_thread(shutil.rmtree, self.recordings_dir / rid, True)


class Retention:
    def __init__(self, database: Database, files: FileCleanup, policy: Policy) -> None:
        self._database = database
        self.files = files
        self.policy = policy

    async def do_run(self, now: datetime, actor: str = "system:retention") -> dict[str, int]:
        """Delete what expired at `now`; the counts (also in the audit log)."""
        counts = dict.fromkeys(
            (
                "messages_erased",
                "documents_deleted",
                "forms_deleted",
                "signed_pdfs_deleted",
                "recordings_deleted",
                "conversations_deleted",
                "files_deleted",
            ),
            0,
        )
        cutoff = {k: now - timedelta(days=self.policy.days(k)) for k in KINDS}
        digests: set[str] = set()
        recordings: set[str] = set()
        async with self._database.writer() as db:
            expired = {k: await ended_before(db, cutoff[k]) for k in KINDS}
            for ids in chunks(expired["messages"]):
                counts["messages_erased"] += await do_erase_content(db, ids, "messages")
            counts["forms_deleted"] = await do_delete_forms(db, expired["forms"])
            n, found = await do_delete_documents(db, expired["documents"], signed=False)
            counts["documents_deleted"], digests = n, digests | found
            n, found = await do_delete_documents(db, expired["signed_pdfs"], signed=True)
            counts["signed_pdfs_deleted"], digests = n, digests | found
            recordings = self.files.existing_recordings(
                await recording_ids(db, expired["recordings"])
            )
            gone = await self._deletable(db, expired)
            counts["conversations_deleted"] = await do_delete_conversations(db, gone)
            digests = await self.files.unreferenced(db, digests)
            counts["files_deleted"] = len(digests)
            counts["recordings_deleted"] = len(recordings)
            changed = {k: v for k, v in counts.items() if v}
            if changed:
                await do_audit(
                    db,
                    actor=actor,
                    action="retention.run",
                    subject=f"profile:{self.policy.profile}",
                    detail={**changed, "now": now.isoformat()},
                    now=now,
                )
            await db.commit()
        await self.files.do_delete_files(self._database, digests)
        await self.files.do_delete_recordings(recordings)
        log.info(
            "retention (%s) at %s: %s",
            self.policy.profile,
            now.isoformat(),
            ", ".join(f"{k}={v}" for k, v in counts.items()),
        )
        return counts

    async def _deletable(self, db: AsyncSession, expired: dict[str, list[str]]) -> list[str]:
        """Conversations whose metadata expired and which hold nothing still kept: no
        document or form row, no message text younger than its retention, no
        recording younger than its retention."""
        messages_done = set(expired["messages"])
        recordings_done = set(expired["recordings"])
        out = []
        for cid in expired["metadata"]:
            if await db.scalar(select(exists().where(Document.conversation_id == cid))):
                continue
            if await db.scalar(select(exists().where(Form.conversation_id == cid))):
                continue
            if cid not in messages_done and await db.scalar(
                select(exists().where(Event.conversation_id == cid, Event.kind == "chat.message"))
            ):
                continue
            if cid not in recordings_done and await db.scalar(
                select(exists().where(Event.conversation_id == cid, Event.kind.like("recording.%")))
            ):
                continue
            out.append(cid)
        return out


async def run_periodically(retention: Retention, interval_s: float) -> None:
    """The server's loop: a run now, then one every `interval_s`; a failed run is
    logged and the next one tries again."""
    while True:
        try:
            await retention.do_run(datetime.now(UTC))
        except Exception:
            log.exception("retention run failed; trying again in %s s", interval_s)
        await asyncio.sleep(interval_s)
