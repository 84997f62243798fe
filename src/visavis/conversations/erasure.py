"""Erasing content from conversation logs: the one exception to "events never change".

The log is append-only for everything a conversation *does*; data protection is the
one reason to change rows after the fact. Erasing is not something that happens in
a conversation, so it makes no event of its own here (`Write.append` stays the only
place an event row is made): content fields of stored events are overwritten in
place with their empty value and the body gets `"erased": true`, so clients show
"deleted" instead of a gap in the seq order, and the seqs, kinds, authors and times
(the metadata) stay until the metadata's own retention ends. Whoever erases says so
in the log through a normal write (`conversation.erased`, privacy/subject.py) and in
the audit log; the retention job only in the audit log (counts, no content).

Which fields are content is listed here per kind of data (`CONTENT`), next to the
event kinds that carry them. The rows of documents and signed PDFs go here too
(`do_delete_documents`), and `do_erase_at_end` is what a profile that keeps nothing
after the end (medical) does in the write that ends a conversation.

Signature images (the PNGs of `signature.signed`) belong to the signed PDFs: they go
with them, the event's `image_sha256` and `typed_name` blanked, so that no event names
the stored image any more and it can be deleted after the commit.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.storage.models import Conversation, Document, Event, Form, Slot

# kind of data -> event kind -> content field -> its erased value
CONTENT: Mapping[str, Mapping[str, Mapping[str, Any]]] = {
    "messages": {
        "chat.message": {"text": ""},
        "note.internal": {"text": ""},
        "annotation.added": {"text": None},
    },
    "forms": {
        "form.opened": {"values": {}, "errors": {}},
        "form.changed": {"value": None, "errors": {}},
        "form.submitted": {"values": {}},
    },
    # documents: only the events of the documents deleted (`document_ids`)
    "documents": {"document.shared": {"name": ""}},
    "signed_pdfs": {
        "signature.requested": {"document_name": ""},
        "signature.signed": {"image_sha256": "", "typed_name": None},
        "signature.completed": {"name": ""},
    },
}
SIGNED = "signed"  # Document.source of a signed PDF (collab/signing.py)
BATCH = 500


def chunks(ids: Sequence[str], size: int = BATCH) -> list[Sequence[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


async def do_erase_content(
    db: AsyncSession,
    conversation_ids: Collection[str],
    kind: str,
    document_ids: Collection[str] | None = None,
) -> int:
    """Blank `kind`'s content fields in the events of these conversations (for
    "documents", of the events naming one of `document_ids`); returns how many events
    changed (events erased before are not counted again). Messages also clear the
    conversation's preview (the first message's beginning)."""
    fields_of = CONTENT[kind]
    if not conversation_ids:
        return 0
    rows = await db.execute(
        select(Event.id, Event.kind, Event.body).where(
            Event.conversation_id.in_(list(conversation_ids)),
            Event.kind.in_(list(fields_of)),
        )
    )
    changed = 0
    for event_id, event_kind, raw in rows.all():
        body: dict[str, Any] = json.loads(raw)
        if body.get("erased"):
            continue
        if document_ids is not None and body.get("document_id") not in document_ids:
            continue
        for name, empty in fields_of[event_kind].items():
            if name in body:
                body[name] = empty
        body["erased"] = True
        await db.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(body=json.dumps(body, ensure_ascii=False, separators=(",", ":")))
        )
        changed += 1
    if kind == "messages":
        await db.execute(
            update(Conversation)
            .where(Conversation.id.in_(list(conversation_ids)))
            .values(preview=None)
        )
    return changed


async def do_delete_conversations(db: AsyncSession, conversation_ids: Collection[str]) -> int:
    """Delete the conversations with everything that hangs on them (events,
    documents' rows, forms, appointments, join codes: ON DELETE CASCADE); a booked
    slot keeps its time but forgets the conversation. Files are the caller's."""
    ids = list(conversation_ids)
    if not ids:
        return 0
    await db.execute(update(Slot).where(Slot.conversation_id.in_(ids)).values(conversation_id=None))
    result = await db.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    return int(getattr(result, "rowcount", 0) or 0)


async def signature_images(db: AsyncSession, conversation_ids: Sequence[str]) -> set[str]:
    """The stored signature images (digests) the signers of these conversations gave."""
    found: set[str] = set()
    for ids in chunks(conversation_ids):
        for raw in await db.scalars(
            select(Event.body).where(
                Event.conversation_id.in_(ids), Event.kind == "signature.signed"
            )
        ):
            digest = json.loads(raw).get("image_sha256")
            if isinstance(digest, str) and digest:
                found.add(digest)
    return found


async def do_delete_documents(
    db: AsyncSession, conversation_ids: Sequence[str], signed: bool
) -> tuple[int, set[str]]:
    """Delete the (signed or other) documents of these conversations and erase their
    names in the log — for signed PDFs also the signature images and what the signing
    events say of them —; returns how many documents and the digests to check after
    the commit (the caller deletes the files no row uses any more)."""
    count, digests = 0, set()
    for ids in chunks(conversation_ids):
        if signed:
            digests |= await signature_images(db, ids)
            await do_erase_content(db, ids, "signed_pdfs")
        source = Document.source == SIGNED if signed else Document.source != SIGNED
        rows = (
            await db.execute(
                select(Document.id, Document.digest).where(
                    Document.conversation_id.in_(ids), source
                )
            )
        ).all()
        if not rows:
            continue
        doc_ids = {r[0] for r in rows}
        digests |= {r[1] for r in rows}
        await db.execute(delete(Document).where(Document.id.in_(list(doc_ids))))
        await do_erase_content(db, ids, "documents", doc_ids)
        count += len(doc_ids)
    return count, digests


async def do_delete_forms(db: AsyncSession, conversation_ids: Sequence[str]) -> int:
    """Delete the forms' rows of these conversations and erase their values in the log."""
    count = 0
    for ids in chunks(conversation_ids):
        result = await db.execute(delete(Form).where(Form.conversation_id.in_(ids)))
        count += int(getattr(result, "rowcount", 0) or 0)
        await do_erase_content(db, ids, "forms")
    return count


async def do_erase_at_end(
    db: AsyncSession, conversation_id: str, kinds: Collection[str]
) -> set[str]:
    """In the write that ends a conversation: erase `kinds` (of messages, forms,
    documents, signed_pdfs) as the retention job would; the digests of the files to
    delete after the commit."""
    ids = [conversation_id]
    digests: set[str] = set()
    if "messages" in kinds:
        await do_erase_content(db, ids, "messages")
    if "forms" in kinds:
        await do_delete_forms(db, ids)
    for kind, signed in (("documents", False), ("signed_pdfs", True)):
        if kind in kinds:
            digests |= (await do_delete_documents(db, ids, signed))[1]
    return digests
