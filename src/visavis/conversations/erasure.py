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
event kinds that carry them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.storage.models import Conversation, Event, Slot

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
}


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
