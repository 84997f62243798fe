"""The medical profile keeps nothing of a conversation's content after its end: the
write that ends it erases the messages, documents, forms, signed PDFs and signature
images (their files right after the commit), and a seal that finishes after the end
brings nothing back — it ends as `signature.failed` with `invalid_state`. On both
databases, with the real services, file store and pyHanko; then the same end over a
live server started with VISAVIS_PROFILE=medical."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sample_files
from conftest import make_server
from forms_samples import every_kind_template
from helpers import adviser_socket, session
from services import conversation_service
from sqlalchemy import select
from test_signing_flow import signature_png
from wsclient import WsClient, new_conversation

from visavis.auth.service import AuthService
from visavis.collab.consent_texts import SIGNATURE_CONSENT
from visavis.collab.documents import DocumentService
from visavis.collab.library import LibraryService
from visavis.collab.signing import Party, SealSettings, SigningService
from visavis.conversations.service import ConversationService
from visavis.conversations.writes import Author
from visavis.documents.checks import UploadLimits
from visavis.forms.catalogue import TemplateCatalogue
from visavis.forms.service import FormService
from visavis.privacy.profiles import policy_for
from visavis.privacy.retention import FileCleanup
from visavis.protocol import signing as s
from visavis.routing.decide import ChatLimits
from visavis.storage.engine import Database
from visavis.storage.files import FileStore
from visavis.storage.models import Document, Event, Form

PARTY = Party("127.0.0.1", "pytest")
CUSTOMER = Author("customer", None, "Erika")


@dataclass
class World:
    conversations: ConversationService
    documents: DocumentService
    forms: FormService
    signing: SigningService
    store: FileStore
    files_dir: Path
    me: Author
    cid: str


async def medical_world(db: Database, tmp_path: Path) -> World:
    base = conversation_service(db)
    store = FileStore(tmp_path / "files")
    cleanup = FileCleanup(store, tmp_path / "pages", tmp_path / "recordings")

    async def release(digests: set[str]) -> None:
        await cleanup.do_delete_files(db, digests)

    conv = ConversationService(db, base.announcer, erase_at_end=policy_for("medical").erase_at_end,
                               release_files=release)  # fmt: skip
    anna = await AuthService(db, 3, 3600, 5).do_add_adviser("anna@praxis.example",
                                                            "long-enough-pw", "Dr. Anna")  # fmt: skip
    summary, _ = await conv.do_create("Erika", None, "de", ("c1", "Mein Befund"))
    await conv.do_accept(summary["id"], anna.id, anna.name, ChatLimits(3))
    docs = DocumentService(db, conv, store, LibraryService(db, store, UploadLimits()),
                           UploadLimits())  # fmt: skip
    catalogue = TemplateCatalogue(db)
    await catalogue.do_add(every_kind_template(), None)
    signing = SigningService(db, conv, docs, SealSettings(tmp_path / "seal", "Praxis Dr. Muster"))
    me = Author("adviser", anna.id, anna.name)
    return World(conv, docs, FormService(db, conv, catalogue), signing, store,
                 tmp_path / "files", me, summary["id"])  # fmt: skip


async def signed_by_customer(w: World) -> str:
    """A PDF put up for the customer's signature and signed: the request's id."""
    doc = await w.documents.do_upload(w.cid, w.me, sample_files.pdf(1), "Befund.pdf")
    ask = s.SignatureRequest(type="signature.request", conversation_id=w.cid,
                             document_id=doc["document_id"])  # fmt: skip
    requested = await w.signing.do_request(ask, w.me, PARTY, doc["document_id"])
    body: dict[str, Any] = dict(requested["body"])
    sign = s.SignatureSign(type="signature.sign", conversation_id=w.cid,
                           request_id=body["request_id"], document_sha256=body["document_sha256"],
                           consent=True, consent_version=SIGNATURE_CONSENT.version,
                           method="typed", typed_name="Erika Muster",
                           image_png=base64.b64encode(signature_png()).decode())  # fmt: skip
    _, complete = await w.signing.do_sign(sign, CUSTOMER, PARTY)
    assert complete
    return str(body["request_id"])


def stored_files(w: World) -> list[Path]:
    return [p for p in w.files_dir.rglob("*") if p.is_file() and not p.name.startswith(".")]


async def log_of(db: Database, cid: str) -> list[tuple[str, dict[str, Any]]]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(Event.kind, Event.body).where(Event.conversation_id == cid).order_by(Event.seq)
        )
        return [(k, json.loads(b)) for k, b in rows]


async def rows_of(db: Database, cid: str) -> tuple[int, int]:
    async with db.sessions() as session:
        docs = list(
            await session.scalars(select(Document.id).where(Document.conversation_id == cid))
        )
        forms = list(await session.scalars(select(Form.id).where(Form.conversation_id == cid)))
    return len(docs), len(forms)


async def test_the_end_erases_documents_forms_and_signed_pdfs(db: Database, tmp_path: Path) -> None:
    w = await medical_world(db, tmp_path)
    await w.forms.do_open(w.cid, w.me, "every-kind", {"name": "Erika", "note": ""})
    rid = await signed_by_customer(w)
    done = await w.signing.do_seal(w.cid, rid)
    assert done["kind"] == "signature.completed", done
    assert await rows_of(db, w.cid) == (2, 1)  # the original and the signed PDF; the form
    assert len(stored_files(w)) == 3  # the original, the signature image, the signed PDF

    await w.conversations.do_end(w.cid, w.me)

    assert await rows_of(db, w.cid) == (0, 0)
    assert stored_files(w) == []  # deleted right after the end's commit
    log = await log_of(db, w.cid)
    by_kind = {k: b for k, b in log}
    assert by_kind["chat.message"] == {"text": "", "erased": True}
    assert by_kind["form.opened"]["values"] == {} and by_kind["form.opened"]["erased"]
    signed = by_kind["signature.signed"]
    assert signed["image_sha256"] == "" and signed["typed_name"] is None and signed["erased"]
    assert by_kind["signature.completed"]["name"] == ""
    assert all(b["name"] == "" for k, b in log if k == "document.shared")
    assert "Erika Muster" not in json.dumps(log) and "Befund" not in json.dumps(log)
    assert log[-1][0] == "conversation.ended"  # nothing appended after the end


def thread_in(function: str, file_end: str) -> bool:
    """Is some thread running `function` of the file ending in `file_end` right now?"""
    for frame in sys._current_frames().values():
        f: Any = frame
        while f is not None:
            if f.f_code.co_name == function and f.f_code.co_filename.endswith(file_end):
                return True
            f = f.f_back
    return False


async def test_a_seal_finishing_after_the_end_fails_and_keeps_nothing(
    db: Database, tmp_path: Path
) -> None:
    w = await medical_world(db, tmp_path)
    rid = await signed_by_customer(w)
    # sealing waits for the seal key (made on first use, under this lock) while the
    # conversation ends: it has read the original and the signature image by then
    with w.signing._keys_lock:
        sealing = asyncio.create_task(w.signing.do_seal(w.cid, rid))
        # a thread's stack is no awaitable: looked at until it is there
        while not thread_in("keys", "collab/signing.py"):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await w.conversations.do_end(w.cid, w.me)
        assert stored_files(w) == []
    failed = await sealing
    assert failed["kind"] == "signature.failed"
    assert failed["body"]["code"] == "invalid_state", failed
    assert "ended while sealing" in failed["body"]["message"]
    assert await rows_of(db, w.cid) == (0, 0)
    assert stored_files(w) == []  # the sealed PDF was stored, then deleted again
    kinds = [k for k, _ in await log_of(db, w.cid)]
    assert "signature.completed" not in kinds and kinds[-1] == "signature.failed"


async def test_a_medical_server_deletes_the_files_with_the_end(tmp_path: Path) -> None:
    srv = make_server(tmp_path, VISAVIS_PROFILE="medical")
    srv.start()
    try:
        adviser = await adviser_socket(srv)
        cid, token = await new_conversation(srv.base_url, customer_name="Erika")
        customer = await WsClient.connect(srv.ws_url, token=token)
        ack = await adviser.request("conversation.accept", conversation_id=cid)
        assert ack["type"] == "ack", ack
        async with await session(srv, "anna@bank.example") as anna:
            r = await anna.post(f"/api/v1/conversations/{cid}/documents",
                                content=sample_files.pdf(1), params={"name": "Befund.pdf"})  # fmt: skip
            assert r.status_code == 201, r.text
            doc_id = r.json()["document"]["document_id"]
            files = srv.data_dir / "files"
            assert [p for p in files.rglob("*") if p.is_file() and not p.name.startswith(".")]
            ack = await adviser.request("conversation.end", conversation_id=cid)
            assert ack["type"] == "ack", ack
            assert not [p for p in files.rglob("*") if p.is_file() and not p.name.startswith(".")]
            gone = await anna.post(f"/api/v1/documents/{doc_id}/access")
            assert gone.status_code == 404
        await asyncio.gather(adviser.close(), customer.close())
    finally:
        srv.stop()
