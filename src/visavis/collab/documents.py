"""Documents in a conversation and what happens to them on the shared stage.

Each command is one `ConversationService.write()`: it locks the conversation, checks
that it has not ended and that the document is one of *this* conversation (and the
page exists), and appends its event. Uploads are checked (`documents.checks`) before
a byte is stored, and a refused or failed upload leaves nothing behind: the file is
stored before the write (file I/O never holds the write lock) and removed again if
the write does not commit and no other row uses the same content.

Who may do what (the sender is a participant, advisers-only commands) is checked by
the caller (web/permissions.py); this module checks what the database knows.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import select

from visavis.collab.library import LibraryService, clean_name, pages_of, referenced
from visavis.conversations.service import ConversationService
from visavis.conversations.state import check_can_write
from visavis.conversations.writes import Author, Write
from visavis.documents.checks import UploadLimits, check_upload
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol import messages as m
from visavis.storage.engine import Database
from visavis.storage.files import FileStore
from visavis.storage.ids import new_id
from visavis.storage.models import Conversation, Document

log = logging.getLogger(__name__)


def info_of(doc: Document) -> f.DocumentInfo:
    return {
        "document_id": doc.id,
        "name": doc.name,
        "kind": cast(f.DocumentKind, doc.kind),
        "pages": pages_of(doc.pages),
        "downloadable": doc.downloadable,
        "source": cast(f.DocumentSource, doc.source),
    }


def check_page(doc: Document, page: int) -> None:
    """Pages are numbered from 0; a video or image has the one page 0."""
    count = max(1, len(json.loads(doc.pages)))
    if not 0 <= page < count:
        raise VisavisError(
            "bad_request", f"page {page} is out of range: document {doc.id} has {count} page(s)"
        )


class DocumentService:
    def __init__(
        self,
        database: Database,
        conversations: ConversationService,
        store: FileStore,
        library: LibraryService,
        limits: UploadLimits,
    ) -> None:
        self._database = database
        self.conversations = conversations
        self.store = store
        self.library = library
        self.limits = limits

    # ------------------------------------------------------------ reads
    async def get(self, document_id: str) -> Document:
        async with self._database.sessions() as db:
            doc = await db.get(Document, document_id)
        if doc is None:
            raise VisavisError("not_found", f"no document {document_id}")
        return doc

    async def page_counts(self, conversation_id: str) -> dict[str, int]:
        """Every document of the conversation with its page count (ephemeral relays
        check against this; documents are never removed from a conversation)."""
        async with self._database.sessions() as db:
            rows = await db.execute(
                select(Document.id, Document.pages).where(
                    Document.conversation_id == conversation_id
                )
            )
            return {doc_id: max(1, len(json.loads(pages))) for doc_id, pages in rows}

    # ------------------------------------------------------------ writes
    async def do_upload(
        self,
        conversation_id: str,
        author: Author,
        data: bytes,
        name: str | None,
        source: f.DocumentSource = "upload",
    ) -> f.DocumentInfo:
        """Check, store, then one write: the row and `document.shared`. A refusal
        stores nothing; a write that fails removes the file again (unless another
        row holds the same content)."""
        # the PDF/image checks take milliseconds to seconds: off the event loop
        checked = await asyncio.to_thread(check_upload, data, self.limits)
        await self._check_open(conversation_id)
        digest = await self.store.put(checked.data)
        try:
            async with self.conversations.write(summaries=False) as w:
                doc = Document(
                    id=new_id(16),
                    conversation_id=conversation_id,
                    digest=digest,
                    kind=checked.kind,
                    name=clean_name(name, checked.kind),
                    mime=checked.mime,
                    pages=json.dumps([{"w": p.w, "h": p.h} for p in checked.pages]),
                    downloadable=True,
                    source=source,
                    uploaded_by_role=author.role,
                    uploaded_by_id=author.id,
                    created_at=datetime.now(UTC),
                )
                info = await self._share(w, doc, author)
        except BaseException:
            await self._forget(digest)
            raise
        log.info(
            "document %s (%s, %d bytes) shared into %s by %s",
            doc.id, checked.kind, len(checked.data), conversation_id, author.role,
        )  # fmt: skip
        return info

    async def do_share_library(
        self, conversation_id: str, author: Author, library_id: str
    ) -> f.DocumentInfo:
        """Share a library document: a new document of the conversation with the
        library's content (the library may drop it later; this one stays)."""
        item = await self.library.get(library_id)
        async with self.conversations.write(summaries=False) as w:
            doc = Document(
                id=new_id(16),
                conversation_id=conversation_id,
                digest=item.digest,
                kind=item.kind,
                name=item.name,
                mime=item.mime,
                pages=item.pages,
                downloadable=item.downloadable,
                source="library",
                uploaded_by_role=author.role,
                uploaded_by_id=author.id,
                created_at=datetime.now(UTC),
            )
            return await self._share(w, doc, author)

    async def do_rights(self, msg: m.DocRights, author: Author) -> f.EventFrame:
        """The row and `document.rights` in one write: the file route reads the row on
        every request, so a revocation holds at once, also against an access token
        issued before it. Setting the value it already has is logged again (harmless:
        the event says the value, not a change)."""
        async with self.conversations.write(summaries=False) as w:
            doc = await self._document(w, msg.conversation_id, msg.document_id)
            if doc.source == "signed" and not msg.downloadable:
                # both sides keep their copy of what they signed
                raise VisavisError(
                    "invalid_state", f"document {doc.id} is a signed PDF; it stays downloadable"
                )
            doc.downloadable = msg.downloadable
            body: f.DocumentRightsBody = {"document_id": doc.id, "downloadable": msg.downloadable}
            event = await w.append(msg.conversation_id, "document.rights", author, dict(body))
        log.info(
            "document %s of %s: customer download %s by adviser %s",
            doc.id, msg.conversation_id, "allowed" if msg.downloadable else "forbidden", author.id,
        )  # fmt: skip
        return event

    async def do_present(self, msg: m.DocPresent, author: Author) -> f.EventFrame:
        async with self.conversations.write(summaries=False) as w:
            doc = await self._document(w, msg.conversation_id, msg.document_id)
            check_page(doc, msg.page)
            body: f.DocumentPresentedBody = {"document_id": doc.id, "page": msg.page}
            return await w.append(msg.conversation_id, "document.presented", author, dict(body))

    async def do_clear_stage(self, conversation_id: str, author: Author) -> f.EventFrame:
        async with self.conversations.write(summaries=False) as w:
            check_can_write((await w.lock(conversation_id)).status)
            return await w.append(conversation_id, "stage.cleared", author, {})

    async def do_annotate(self, msg: m.AnnotationAdd, author: Author) -> f.EventFrame:
        if (msg.tool == "text") != (msg.text is not None):
            raise VisavisError(
                "bad_request", "annotation.add: text is required for tool 'text' and only there"
            )
        async with self.conversations.write(summaries=False) as w:
            doc = await self._document(w, msg.conversation_id, msg.document_id)
            check_page(doc, msg.page)
            body: f.AnnotationAddedBody = {
                "document_id": doc.id,
                "page": msg.page,
                "annotation_id": msg.annotation_id,
                "tool": msg.tool,
                "color": msg.color,
                "points": [list(p) for p in msg.points],
                "text": msg.text,
            }
            return await w.append(msg.conversation_id, "annotation.added", author, dict(body))

    async def do_clear_annotations(self, msg: m.AnnotationClear, author: Author) -> f.EventFrame:
        async with self.conversations.write(summaries=False) as w:
            doc = await self._document(w, msg.conversation_id, msg.document_id)
            check_page(doc, msg.page)
            body: f.AnnotationClearedBody = {"document_id": doc.id, "page": msg.page}
            return await w.append(msg.conversation_id, "annotation.cleared", author, dict(body))

    async def do_video_control(self, msg: m.VideoControl, author: Author) -> f.EventFrame:
        async with self.conversations.write(summaries=False) as w:
            doc = await self._document(w, msg.conversation_id, msg.document_id)
            if doc.kind != "video":
                raise VisavisError("bad_request", f"document {doc.id} is a {doc.kind}, not a video")
            body: f.VideoControlBody = {
                "document_id": doc.id,
                "action": msg.action,
                "position": msg.position,
            }
            return await w.append(msg.conversation_id, "video.control", author, dict(body))

    async def do_snapshot(self, conversation_id: str, author: Author) -> f.EventFrame:
        """The adviser asks for a photo (`snapshot.requested`), or the customer says no
        (`snapshot.declined`); either needs the conversation running."""
        kind = "snapshot.requested" if author.role == "adviser" else "snapshot.declined"
        async with self.conversations.write(summaries=False) as w:
            conv = await w.lock(conversation_id)
            if conv.status != "active":
                raise VisavisError(
                    "invalid_state",
                    f"a snapshot needs an active conversation; {conversation_id} is "
                    f"{conv.status!r}",
                )
            return await w.append(conversation_id, kind, author, {})

    # ------------------------------------------------------------ helpers
    async def _share(self, w: Write, doc: Document, author: Author) -> f.DocumentInfo:
        check_can_write((await w.lock(doc.conversation_id)).status)
        w.db.add(doc)
        info = info_of(doc)
        body: f.DocumentSharedBody = {**info}
        await w.append(doc.conversation_id, "document.shared", author, dict(body))
        return info

    async def _document(self, w: Write, conversation_id: str, document_id: str) -> Document:
        """The document, locked conversation checked open; `not_found` for a document
        of another conversation (it does not exist as far as this one knows)."""
        check_can_write((await w.lock(conversation_id)).status)
        doc = await w.db.get(Document, document_id)
        if doc is None or doc.conversation_id != conversation_id:
            raise VisavisError(
                "not_found", f"no document {document_id} in conversation {conversation_id}"
            )
        return doc

    async def _check_open(self, conversation_id: str) -> None:
        """Before storing anything: the conversation exists and has not ended (the
        write checks again under its lock)."""
        async with self._database.sessions() as db:
            status = await db.scalar(
                select(Conversation.status).where(Conversation.id == conversation_id)
            )
        if status is None:
            raise VisavisError("not_found", f"no conversation {conversation_id}")
        check_can_write(status)

    async def _forget(self, digest: str) -> None:
        """Remove a stored file no row refers to (an upload whose write failed)."""
        async with self._database.sessions() as db:
            if not await referenced(db, digest):
                await self.store.delete(digest)
