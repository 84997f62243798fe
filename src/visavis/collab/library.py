"""The document library: product sheets, brochures and videos an admin keeps for
advisers to share into conversations (`doc.share`).

Library documents pass the same checks as uploads (and may be WebM/MP4 videos). They
are not conversation changes, so they are plain transactions; sharing one copies its
row into the conversation (same stored content), which is why removing it from the
library leaves every conversation that has it untouched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.conversations.summary import iso
from visavis.documents.checks import UploadLimits, check_upload
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.storage.engine import Database
from visavis.storage.files import FileStore
from visavis.storage.ids import new_id
from visavis.storage.models import Document
from visavis.storage.models import LibraryDocument as LibraryRow

log = logging.getLogger(__name__)

MAX_NAME = 200
DEFAULT_NAMES: dict[str, str] = {"pdf": "document.pdf", "image": "image", "video": "video"}


def clean_name(name: str | None, kind: str) -> str:
    """A file name to show: no control or path characters, at most 200 characters."""
    text = re.sub(r"[\x00-\x1f\x7f/\\]+", " ", name or "").strip()[:MAX_NAME].strip()
    return text or DEFAULT_NAMES.get(kind, "document")


def pages_of(pages_json: str) -> list[f.PageSize]:
    return [{"w": float(p["w"]), "h": float(p["h"])} for p in json.loads(pages_json)]


def library_item(row: LibraryRow) -> f.LibraryDocument:
    return {
        "id": row.id,
        "name": row.name,
        "kind": cast(f.DocumentKind, row.kind),
        "mime": row.mime,
        "pages": pages_of(row.pages),
        "downloadable": row.downloadable,
        "created_at": iso(row.created_at),
    }


async def referenced(db: AsyncSession, digest: str) -> bool:
    """Does any document or library row still use this stored content?"""
    used = await db.scalar(select(exists().where(Document.digest == digest)))
    return bool(used) or bool(await db.scalar(select(exists().where(LibraryRow.digest == digest))))


class LibraryService:
    def __init__(self, database: Database, store: FileStore, limits: UploadLimits) -> None:
        self._database = database
        self.store = store
        self.limits = limits

    async def list(self) -> list[f.LibraryDocument]:
        """Newest first."""
        async with self._database.sessions() as db:
            rows = await db.scalars(select(LibraryRow).order_by(LibraryRow.created_at.desc()))
            return [library_item(r) for r in rows]

    async def get(self, library_id: str) -> LibraryRow:
        async with self._database.sessions() as db:
            row = await db.get(LibraryRow, library_id)
        if row is None:
            raise VisavisError("not_found", f"no library document {library_id}")
        return row

    async def do_add(
        self, data: bytes, name: str | None, downloadable: bool, created_by: str | None
    ) -> f.LibraryDocument:
        """Check (videos allowed), store, add the row; nothing stays on a refusal."""
        checked = await asyncio.to_thread(check_upload, data, self.limits, True)
        digest = await self.store.put(checked.data)
        row = LibraryRow(
            id=new_id(16),
            digest=digest,
            kind=checked.kind,
            name=clean_name(name, checked.kind),
            mime=checked.mime,
            pages=json.dumps([{"w": p.w, "h": p.h} for p in checked.pages]),
            downloadable=downloadable,
            created_at=datetime.now(UTC),
            created_by=created_by,
        )
        try:
            async with self._database.writer() as db:
                db.add(row)
                await db.commit()
        except BaseException:
            await self._forget(digest)
            raise
        log.info("library document %s (%s) added", row.id, checked.kind)
        return library_item(row)

    async def do_remove(self, library_id: str) -> None:
        """Remove from the library; its file goes too unless a conversation has it."""
        async with self._database.writer() as db:
            row = await db.get(LibraryRow, library_id)
            if row is None:
                raise VisavisError("not_found", f"no library document {library_id}")
            digest = row.digest
            await db.execute(delete(LibraryRow).where(LibraryRow.id == library_id))
            await db.commit()
        await self._forget(digest)
        log.info("library document %s removed", library_id)

    async def _forget(self, digest: str) -> None:
        async with self._database.sessions() as db:
            if not await referenced(db, digest):
                await self.store.delete(digest)
