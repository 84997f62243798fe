"""The retention job deletes exactly what expired, kind by kind, as time moves
forward — and nothing else: not the younger conversation, not the running one, not a
file the library still uses (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sample_files
from services import conversation_service
from sqlalchemy import select, update

from visavis.audit.log import check_chain, entries
from visavis.collab.library import LibraryService
from visavis.conversations.service import ConversationService
from visavis.conversations.writes import Author
from visavis.documents.checks import UploadLimits
from visavis.privacy.profiles import policy_for
from visavis.privacy.retention import FileCleanup, Retention
from visavis.storage.engine import Database
from visavis.storage.files import FileStore
from visavis.storage.keys import FileKeys
from visavis.storage.models import Conversation, Document, Event, Form

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
DAYS = {
    "recordings": "5",
    "documents": "10",
    "forms": "20",
    "messages": "30",
    "signed_pdfs": "40",
    "metadata": "50",
}
CUSTOMER = Author("customer", None, "Erika")


@dataclass
class World:
    db: Database
    conversations: ConversationService
    store: FileStore
    recordings: Path
    retention: Retention


def world(db: Database, tmp_path: Path) -> World:
    store = FileStore(tmp_path / "files", FileKeys(key_file=tmp_path / "keys" / "files.key"))
    recordings = tmp_path / "recordings"
    cleanup = FileCleanup(store, tmp_path / "cache" / "pages", recordings)
    return World(
        db,
        conversation_service(db),
        store,
        recordings,
        Retention(db, cleanup, policy_for("retail", DAYS)),
    )


async def conversation(w: World, ended_at: datetime | None, tag: str) -> dict[str, str]:
    """A conversation with a message, a form, a document, a signed PDF and a recording,
    ended at `ended_at` (None: still running). Returns the ids and digests."""
    summary, _ = await w.conversations.do_create("Erika", None, "de", (f"c-{tag}", f"Hallo {tag}"))
    cid = summary["id"]
    doc_digest = await w.store.put(sample_files.pdf(text=f"Dokument {tag}"))
    signed_digest = await w.store.put(sample_files.pdf(text=f"Unterschrieben {tag}"))
    rec = f"rec{tag}"
    (w.recordings / rec).mkdir(parents=True)
    (w.recordings / rec / "customer.webm.sealed").write_bytes(b"sealed")
    ids = {"cid": cid, "doc_digest": doc_digest, "signed_digest": signed_digest, "rec": rec}
    async with w.conversations.write() as wr:
        for key, digest, source in (
            ("doc", doc_digest, "upload"),
            ("signed", signed_digest, "signed"),
        ):
            ids[key] = secrets.token_urlsafe(16)
            wr.db.add(Document(
                id=ids[key], conversation_id=cid, digest=digest, kind="pdf", name=f"{key}-{tag}.pdf",
                mime="application/pdf", pages='[{"w":595,"h":842}]', downloadable=True,
                source=source, uploaded_by_role="customer", created_at=T0,
            ))  # fmt: skip
            await wr.append(
                cid,
                "document.shared",
                CUSTOMER,
                {"document_id": ids[key], "name": f"{key}-{tag}.pdf"},
            )
        ids["form"] = secrets.token_urlsafe(16)
        wr.db.add(Form(
            id=ids["form"], conversation_id=cid, template_id="t", template_version=1,
            status="open", values='{"iban":"DE02"}', revs="{}", opened_at=T0,
        ))  # fmt: skip
        await wr.append(
            cid, "form.opened", CUSTOMER, {"form_id": ids["form"], "values": {"iban": "DE02"}}
        )
        await wr.append(cid, "recording.ready", Author("system"), {"recording_id": rec})
    if ended_at is not None:
        await w.conversations.do_end(cid, CUSTOMER)
        async with w.db.writer() as s:
            await s.execute(
                update(Conversation).where(Conversation.id == cid).values(ended_at=ended_at)
            )
            await s.commit()
    return ids


async def state(w: World, ids: dict[str, str]) -> dict[str, bool]:
    """What of a conversation is still there."""
    cid = ids["cid"]
    async with w.db.sessions() as s:
        conv = await s.get(Conversation, cid)
        bodies = {
            k: json.loads(b)
            for k, b in (
                await s.execute(select(Event.kind, Event.body).where(Event.conversation_id == cid))
            ).all()
        }
        docs = set(await s.scalars(select(Document.id).where(Document.conversation_id == cid)))
        forms = set(await s.scalars(select(Form.id).where(Form.conversation_id == cid)))
    return {
        "conversation": conv is not None,
        "message": bool(bodies.get("chat.message", {}).get("text")),
        "preview": conv is not None and conv.preview is not None,
        "form": ids["form"] in forms and bool(bodies.get("form.opened", {}).get("values")),
        "document": ids["doc"] in docs and w.store.exists(ids["doc_digest"]),
        "signed": ids["signed"] in docs and w.store.exists(ids["signed_digest"]),
        "recording": (w.recordings / ids["rec"]).is_dir(),
    }


ALL = {"conversation": True, "message": True, "preview": True, "form": True, "document": True,
       "signed": True, "recording": True}  # fmt: skip


async def test_retention_deletes_exactly_what_expired(db: Database, tmp_path: Path) -> None:
    w = world(db, tmp_path)
    old = await conversation(w, T0, "old")
    young = await conversation(w, T0 + timedelta(days=100), "young")
    running = await conversation(w, None, "running")
    # the library holds the old conversation's document content too: the file stays
    library = LibraryService(db, w.store, UploadLimits())
    shared = sample_files.pdf(text="Produktblatt")
    await library.do_add(shared, "Produktblatt", True, None)
    async with db.writer() as s:
        await s.execute(
            update(Document)
            .where(Document.id == old["doc"])
            .values(digest=(await w.store.put(shared)))
        )
        await s.commit()
    old["doc_digest"] = await w.store.put(shared)

    expected = dict(ALL)
    steps = [
        (4, {}, {}),
        (6, {"recording": False}, {"recordings_deleted": 1}),
        (11, {"document": False}, {"documents_deleted": 1, "files_deleted": 0}),
        (21, {"form": False}, {"forms_deleted": 1}),
        (31, {"message": False, "preview": False}, {"messages_erased": 1}),
        (41, {"signed": False}, {"signed_pdfs_deleted": 1, "files_deleted": 1}),
        (51, {"conversation": False}, {"conversations_deleted": 1}),
    ]
    for days, gone, counts in steps:
        now = T0 + timedelta(days=days)
        got = await w.retention.do_run(now)
        expected.update(gone)
        assert await state(w, old) == expected, f"day {days}"
        assert await state(w, young) == ALL, f"day {days}: the younger conversation"
        assert await state(w, running) == ALL, f"day {days}: the running conversation"
        assert {k: v for k, v in got.items() if v} == {k: v for k, v in counts.items() if v}, days
        # a second run at the same time finds nothing more
        assert not any((await w.retention.do_run(now)).values()), f"day {days}: twice"
    # the library's file is still there and readable; the old conversation's
    # document row went at day 11 without taking it along
    assert await w.store.get(old["doc_digest"]) == shared

    # the younger one goes the same way, 100 days later
    await w.retention.do_run(T0 + timedelta(days=151))
    assert (await state(w, young))["conversation"] is False
    assert await state(w, running) == ALL

    # the audit log has one entry per run that deleted something: counts, no content
    async with db.sessions() as s:
        assert (await check_chain(s)).ok
        runs = await entries(s, action="retention.run")
    assert len(runs) == 6 + 1  # days 6 to 51, and 151 (the younger one all at once)
    text = json.dumps([r.detail for r in runs])
    for secret in ("Hallo", "DE02", "Erika", ".pdf"):
        assert secret not in text


async def test_metadata_waits_for_what_is_still_kept(db: Database, tmp_path: Path) -> None:
    """The conversation's row is what says whose a kept signed PDF is: it stays while
    the PDF is kept, even when metadata's own days have passed."""
    store = FileStore(tmp_path / "files", FileKeys(key_file=tmp_path / "files.key"))
    cleanup = FileCleanup(store, tmp_path / "cache", tmp_path / "recordings")
    w = World(db, conversation_service(db), store, tmp_path / "recordings", Retention(
        db, cleanup, policy_for("retail", {**DAYS, "metadata": "10", "signed_pdfs": "40"})
    ))  # fmt: skip
    ids = await conversation(w, T0, "x")
    await w.retention.do_run(T0 + timedelta(days=35))
    left = await state(w, ids)
    assert left["conversation"] and left["signed"] and not left["document"]
    await w.retention.do_run(T0 + timedelta(days=41))
    assert (await state(w, ids))["conversation"] is False
