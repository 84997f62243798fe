"""Putting a PDF of the conversation up for signature, signing it, sealing the result.

A request's state is its events (`signature.requested`, `.signed`, `.declined`,
`.cancelled`, `.completed`, `.failed`), folded under the conversation's write lock
(`requests_of`), so there is no table to keep in step with the log and a reload reads
the same state. Each command is one `ConversationService.write()`.

What the server checks, never trusting the client: the document is a PDF of *this*
conversation whose stored bytes still have the SHA-256 the request recorded (and the
signer names the same one: what they were shown); the signer is one of the request's
signers and has not signed yet; the consent was ticked, with the current version of
the text (`consent_texts.py`); the signature is a small, sane PNG. Who may send which
message (advisers request and cancel) is the caller's check (web/ws_signing.py).

When the last required signer has signed, `do_seal` stamps the images into the PDF,
appends the audit page (from the events: who, when, seq, IP, user agent) and seals it
(`visavis.signing.seal.do_sign`, in a thread: pyHanko and reportlab are CPU-bound),
then shares the sealed PDF as a new document of the conversation, downloadable by
both sides, with `signature.completed`. A failure is recorded as `signature.failed`.
A request is closed once: a seal that finds it closed already (another node resumed it
too) keeps nothing. A server stopped while sealing leaves a request fully signed but
never closed: `do_resume_unsealed`, run at every start, seals it then (or records why
not), so no request stays waiting forever.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import case, func, select

from visavis.collab.consent_texts import SIGNATURE_CONSENT
from visavis.collab.documents import DocumentService, info_of
from visavis.collab.signature_requests import (
    CLOSING,
    RequestState,
    Step,
    check_signature_png,
    requests_of,
    signed_name,
    spots_for,
)
from visavis.conversations.service import ConversationService
from visavis.conversations.summary import event_frame
from visavis.conversations.writes import Author, Write
from visavis.documents.checks import UploadLimits, check_pdf
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol import signing as s
from visavis.signing.model import AuditRecord, AuditStep, SignatureMark, SignatureSpot
from visavis.storage.engine import Database
from visavis.storage.files import digest_of
from visavis.storage.ids import new_id
from visavis.storage.models import Conversation, Document, Event

if TYPE_CHECKING:
    from visavis.signing.keys import SealKeys

log = logging.getLogger(__name__)

WHAT = {
    "requested": "Zur Unterschrift vorgelegt / Put up for signature",
    "signed": "Unterschrieben / Signed",
}
ROLE_WORDS = {
    "customer": "Kundin oder Kunde · customer",
    "adviser": "Beraterin oder Berater · adviser",
}


@dataclass(frozen=True)
class Party:
    """Where a step came from: the sender's connection (the audit page records it)."""

    ip: str
    user_agent: str


@dataclass(frozen=True)
class SealSettings:
    keys_dir: Path
    organisation: str
    adviser_signs: bool = False  # every request needs the adviser's signature too
    timestamp_url: str | None = None
    p12_path: Path | None = None
    p12_password: bytes | None = None


class SigningService:
    def __init__(
        self,
        database: Database,
        conversations: ConversationService,
        documents: DocumentService,
        settings: SealSettings,
    ) -> None:
        self.database = database
        self.conversations = conversations
        self.documents = documents
        self.store = documents.store
        self.settings = settings
        self._keys: SealKeys | None = None  # the imports of pyHanko wait for first use
        self._keys_lock = threading.Lock()

    # ------------------------------------------------------------ keys
    def keys(self) -> SealKeys:
        """The organisation's seal keys, made on first use (blocking: call in a thread)."""
        from visavis.signing.keys import load_or_create_seal_keys  # pyHanko: on first use

        with self._keys_lock:
            if self._keys is None:
                st = self.settings
                self._keys = load_or_create_seal_keys(
                    st.keys_dir, st.organisation, st.p12_path, st.p12_password
                )
            return self._keys

    async def certificate_pem(self) -> bytes:
        """What a verifier trusts (the seal's certificate chain)."""
        from visavis.signing.keys import seal_certificate_pem

        return seal_certificate_pem(await asyncio.to_thread(self.keys))

    # ------------------------------------------------------------ commands
    async def do_request(
        self, msg: s.SignatureRequest, author: Author, party: Party, document_id: str
    ) -> f.EventFrame:
        """`signature.requested` (and `document.presented`, so both see it on the stage)
        for a PDF of the conversation."""
        cid = msg.conversation_id
        doc = await self.documents.get(document_id)
        if doc.conversation_id != cid:
            raise VisavisError("not_found", f"no document {document_id} in conversation {cid}")
        if doc.kind != "pdf":
            raise VisavisError(
                "signature_document_invalid", f"document {doc.id} is a {doc.kind}; expected a PDF"
            )
        data = await self._bytes_of(doc)
        if hashlib.sha256(data).hexdigest() != doc.digest:
            raise VisavisError(
                "signature_document_changed",
                f"the stored file of document {doc.id} no longer has its recorded SHA-256",
            )
        limits = self.documents.limits
        pdf_fields = await asyncio.to_thread(self._check_original, data, limits,
                                             msg.use_pdf_fields)  # fmt: skip
        signers: list[str] = ["customer"]
        if msg.signers == "customer+adviser" or self.settings.adviser_signs:
            signers.append("adviser")
        pages = max(1, len(json.loads(doc.pages)))
        spots = spots_for(msg, signers, pdf_fields, pages)
        async with self.conversations.write(summaries=False) as w:
            await self._check_active(w, cid)
            if any(r.open for r in (await requests_of(w.db, cid)).values()):
                raise VisavisError(
                    "invalid_state",
                    "a signature request is already open in this conversation; "
                    "expected it cancelled or finished first",
                )
            body: f.SignatureRequestedBody = {
                "request_id": new_id(12),
                "document_id": doc.id,
                "document_name": doc.name,
                "document_sha256": doc.digest,
                "signers": [cast(f.Role, r) for r in signers],
                "spots": [cast(f.SignatureSpotBody, sp.model_dump()) for sp in spots],
                "consent_version": SIGNATURE_CONSENT.version,
                "ip": party.ip,
                "user_agent": party.user_agent,
            }
            event = await w.append(cid, "signature.requested", author, dict(body))
            presented: f.DocumentPresentedBody = {"document_id": doc.id, "page": spots[0].page}
            await w.append(cid, "document.presented", author, dict(presented))
        log.info("signature request %s for document %s in %s by adviser %s (%s)",
                 body["request_id"], doc.id, cid, author.id, "+".join(signers))  # fmt: skip
        return event

    async def do_sign(
        self, msg: s.SignatureSign, author: Author, party: Party
    ) -> tuple[f.EventFrame, bool]:
        """`signature.signed`; True when it was the last signature missing (the caller
        then runs `do_seal`)."""
        if not msg.consent:
            raise VisavisError(
                "signature_consent_missing", "the consent was not ticked; expected consent: true"
            )
        if msg.consent_version != SIGNATURE_CONSENT.version:
            raise VisavisError(
                "signature_consent_outdated",
                f"consent version {msg.consent_version!r} is not the current "
                f"{SIGNATURE_CONSENT.version!r}; reload and read the text again",
                current=SIGNATURE_CONSENT.version,
            )
        if (msg.method == "typed") != (msg.typed_name is not None):
            raise VisavisError(
                "bad_request", "signature.sign: typed_name is required for 'typed' and only there"
            )
        image = await asyncio.to_thread(check_signature_png, msg.image_png)
        cid, role = msg.conversation_id, author.role
        state = await self._request(cid, msg.request_id)
        # the bytes as stored now must still be what was put up (and what the signer saw)
        doc = await self.documents.get(state.body["document_id"])
        current = hashlib.sha256(await self._bytes_of(doc)).hexdigest()
        if msg.document_sha256 != state.body["document_sha256"] or current != msg.document_sha256:
            raise VisavisError(
                "signature_document_changed",
                "the document differs from the one put up for signature; expected sha256 "
                f"{state.body['document_sha256']}",
            )
        # stored before the write that refers to it; a write that refuses leaves it to
        # no one, so it goes again — unless it was stored before (the same picture in
        # another signature: content-addressed files are shared)
        image_digest = digest_of(image)
        ours = not self.store.exists(image_digest)
        await self.store.put(image)
        try:
            event, complete = await self._record_signature(msg, author, party, state, image_digest)
        except VisavisError:
            if ours:
                await self.conversations.do_release_files({image_digest})
            raise
        log.info("signature request %s in %s: the %s signed (%s)", msg.request_id, cid, role,
                 msg.method)  # fmt: skip
        return event, complete

    async def _record_signature(
        self,
        msg: s.SignatureSign,
        author: Author,
        party: Party,
        state: RequestState,
        image_digest: str,
    ) -> tuple[f.EventFrame, bool]:
        cid, role = msg.conversation_id, author.role
        async with self.conversations.write(summaries=False) as w:
            await self._check_active(w, cid)
            state = (await requests_of(w.db, cid)).get(msg.request_id) or state
            self._check_open(state, msg.request_id)
            if role not in state.body["signers"]:
                raise VisavisError("forbidden", f"the {role} is not asked to sign this document")
            if role in state.signed:
                raise VisavisError(
                    "invalid_state", f"the {role} has already signed request {msg.request_id}"
                )
            body: f.SignatureSignedBody = {
                "request_id": msg.request_id,
                "signer": cast(f.Role, role),
                "method": msg.method,
                "typed_name": msg.typed_name,
                "consent_version": msg.consent_version,
                "document_sha256": msg.document_sha256,
                "image_sha256": image_digest,
                "ip": party.ip,
                "user_agent": party.user_agent,
            }
            event = await w.append(cid, "signature.signed", author, dict(body))
            return event, all(r in (*state.signed, role) for r in state.body["signers"])

    async def do_close(
        self, cid: str, request_id: str, author: Author, kind: str, reason: str | None = None
    ) -> f.EventFrame:
        """`signature.declined` (a signer) or `signature.cancelled` (the adviser) of an
        open request."""
        async with self.conversations.write(summaries=False) as w:
            await self._check_active(w, cid)
            state = (await requests_of(w.db, cid)).get(request_id)
            self._check_open(state, request_id)
            assert state is not None
            if kind == "signature.declined":
                if author.role not in state.body["signers"]:
                    raise VisavisError("forbidden", f"the {author.role} is not asked to sign")
                body: dict[str, Any] = {"request_id": request_id, "signer": author.role,
                                        "reason": reason}  # fmt: skip
            else:
                body = {"request_id": request_id}
            event = await w.append(cid, kind, author, body)
        log.info("signature request %s in %s: %s by the %s", request_id, cid, kind, author.role)
        return event

    async def do_seal(self, cid: str, request_id: str) -> f.EventFrame:
        """Stamp, audit, seal, share: `signature.completed`, or `signature.failed`."""
        state = await self._request(cid, request_id)
        try:
            signed, info = await self._sealed(cid, state)
        except Exception as exc:
            code = exc.code if isinstance(exc, VisavisError) else "signature_failed"
            message = exc.message if isinstance(exc, VisavisError) else "sealing failed"
            log.warning("signature request %s in %s: sealing failed: %s: %s",
                        request_id, cid, code, exc)  # fmt: skip
            return await self._failed(cid, request_id, code, message)
        digest = await self.store.put(signed)
        async with self.conversations.write(summaries=False) as w:
            # the signatures were given while it was active; the result is shared even
            # if the conversation ended while sealing ran — unless the profile erased
            # the conversation's documents with its end (medical): then nothing of it
            # may come back
            conv = await w.lock(cid)
            closed = await self._closed_by(w, cid, request_id)
            if closed is not None:
                event, doc = closed, None
            elif self._erased_with_end(conv):
                event = await w.append(cid, "signature.failed", Author("system"),
                                       self._ended_body(request_id))  # fmt: skip
                doc = None
            else:
                doc = self._signed_document(cid, state, digest, info)
                w.db.add(doc)
                system = Author("system")
                shared: f.DocumentSharedBody = {**info_of(doc)}
                await w.append(cid, "document.shared", system, dict(shared))
                done: f.SignatureCompletedBody = {"request_id": request_id,
                                                  "document_id": doc.id, "name": doc.name,
                                                  "sha256": digest}  # fmt: skip
                event = await w.append(cid, "signature.completed", system, dict(done))
        if doc is None:
            await self.conversations.do_release_files({digest})
            why = "closed already" if closed else "the conversation ended while sealing"
            log.info("signature request %s in %s: %s; the seal is not kept", request_id, cid, why)
            return event
        log.info("signature request %s in %s: sealed as document %s (%d bytes)",
                 request_id, cid, doc.id, len(signed))  # fmt: skip
        return event

    async def _failed(self, cid: str, request_id: str, code: str, message: str) -> f.EventFrame:
        async with self.conversations.write(summaries=False) as w:
            conv = await w.lock(cid)
            closed = await self._closed_by(w, cid, request_id)
            if closed is not None:
                return closed
            if self._erased_with_end(conv):
                # the images and the original went with the end: that is the reason
                body = self._ended_body(request_id)
            else:
                failed: f.SignatureFailedBody = {"request_id": request_id, "code": code,
                                                 "message": message}  # fmt: skip
                body = dict(failed)
            return await w.append(cid, "signature.failed", Author("system"), body)

    @staticmethod
    async def _closed_by(w: Write, cid: str, request_id: str) -> f.EventFrame | None:
        """The event that closed the request already, under the conversation's lock."""
        state = (await requests_of(w.db, cid)).get(request_id)
        if state is None or state.closed_by is None:
            return None
        row = await w.db.scalar(
            select(Event)
            .where(Event.conversation_id == cid, Event.kind == state.closed_by)
            .order_by(Event.seq.desc())
        )
        return event_frame(row) if row is not None else None

    # ------------------------------------------------------------ restart
    async def unsealed(self) -> list[tuple[str, str]]:
        """(conversation, request) of every request all signers signed that was never
        closed: sealing was under way when the server stopped."""
        requested = func.sum(case((Event.kind == "signature.requested", 1), else_=0))
        closing = func.sum(case((Event.kind.in_(CLOSING), 1), else_=0))
        out = []
        async with self.database.sessions() as db:
            # each request is closed at most once: more requests than closings means
            # one is still open or unsealed; the fold tells which
            cids = await db.scalars(
                select(Event.conversation_id)
                .where(Event.kind.like("signature.%"))
                .group_by(Event.conversation_id)
                .having(requested > closing)
            )
            for cid in list(cids):
                for rid, state in (await requests_of(db, cid)).items():
                    if state.complete and state.closed_by is None:
                        out.append((cid, rid))
        return out

    async def do_resume_unsealed(self) -> int:
        """At start: seal every request left fully signed but unsealed (`signature.
        completed`), or record why it cannot be (`signature.failed` with the code);
        how many were resumed."""
        try:
            found = await self.unsealed()
        except Exception:  # the server runs on; the next start looks again
            log.exception("looking for signature requests left unsealed failed")
            return 0
        log.info("signature requests left unsealed at start: %d", len(found))
        for cid, rid in found:
            log.warning("signature request %s in %s: signed but never sealed (the server "
                        "stopped while sealing); sealing it now", rid, cid)  # fmt: skip
            try:
                await self.do_seal(cid, rid)
            except Exception:  # one broken request must not keep the others waiting
                log.exception("signature request %s in %s: resuming failed", rid, cid)
        return len(found)

    def _erased_with_end(self, conv: Conversation) -> bool:
        return conv.status == "ended" and self.conversations.erases_at_end("signed_pdfs")

    @staticmethod
    def _ended_body(request_id: str) -> dict[str, Any]:
        failed: f.SignatureFailedBody = {
            "request_id": request_id,
            "code": "invalid_state",
            "message": "the conversation ended while sealing ran; expected it active "
            "(this profile erases documents and signed PDFs with the end)",
        }
        return dict(failed)

    def _signed_document(
        self, cid: str, state: RequestState, digest: str, info: list[dict[str, float]]
    ) -> Document:
        return Document(
            id=new_id(16),
            conversation_id=cid,
            digest=digest,
            kind="pdf",
            name=signed_name(state.body["document_name"]),
            mime="application/pdf",
            pages=json.dumps(info),
            downloadable=True,
            source="signed",
            uploaded_by_role="system",
            uploaded_by_id=None,
            created_at=datetime.now(UTC),
        )

    # ------------------------------------------------------------ helpers
    async def _sealed(self, cid: str, state: RequestState) -> tuple[bytes, list[dict[str, float]]]:
        doc = await self.documents.get(state.body["document_id"])
        original = await self._bytes_of(doc)
        if hashlib.sha256(original).hexdigest() != state.body["document_sha256"]:
            raise VisavisError("signature_document_changed", "the stored document changed")
        marks = []
        for role, step in state.signed.items():
            image = await self.store.get(step.body["image_sha256"])
            name = step.body.get("typed_name") or step.author.name or ROLE_WORDS[role]
            for sp in state.body["spots"]:
                if sp["signer"] == role:
                    spot = SignatureSpot(sp["page"], sp["x"], sp["y"], sp["width"], sp["height"],
                                         sp["field_name"])  # fmt: skip
                    marks.append(SignatureMark(spot, image, name, role, step.at))
        steps = [self._audit_step("requested", state.requested)]
        steps += [self._audit_step("signed", st) for st in state.signed.values()]
        audit = AuditRecord(
            organisation=self.settings.organisation,
            conversation_id=cid,
            document_name=doc.name,
            original_sha256=state.body["document_sha256"],
            consent_text=SIGNATURE_CONSENT.both(),
            consent_version=state.body["consent_version"],
            steps=tuple(steps),
        )

        def work() -> tuple[bytes, list[dict[str, float]]]:
            from visavis.signing.seal import do_sign

            out = do_sign(original, marks, audit, self.keys(), self.settings.timestamp_url)
            limits = UploadLimits(max_bytes=len(out), max_pages=self.documents.limits.max_pages + 5)
            pages = check_pdf(out, limits)
            return out, [{"w": p.w, "h": p.h} for p in pages]

        return await asyncio.to_thread(work)

    def _audit_step(self, what: str, step: Step) -> AuditStep:
        a = step.author
        who = step.body.get("typed_name") or a.name or ROLE_WORDS.get(a.role, a.role)
        return AuditStep(WHAT[what], who, a.role, step.at.astimezone(UTC), step.seq,
                         step.body.get("ip", ""), step.body.get("user_agent", ""))  # fmt: skip

    @staticmethod
    def _check_original(data: bytes, limits: UploadLimits, fields: bool) -> list[SignatureSpot]:
        """Refuse what cannot be signed (encrypted, malformed, too large, active, signed
        already) with the upload check's code; the PDF's own empty signature fields when
        asked."""
        from visavis.signing.fields import list_signature_fields
        from visavis.signing.seal import check_signable_pdf

        check_pdf(data, limits)
        check_signable_pdf(data)
        return list_signature_fields(data) if fields else []

    async def _bytes_of(self, doc: Document) -> bytes:
        return await self.store.get(doc.digest)

    async def _request(self, cid: str, request_id: str) -> RequestState:
        async with self.database.sessions() as db:
            state = (await requests_of(db, cid)).get(request_id)
        if state is None:
            raise VisavisError("not_found", f"no signature request {request_id} in {cid}")
        return state

    @staticmethod
    def _check_open(state: RequestState | None, request_id: str) -> None:
        if state is None:
            raise VisavisError("not_found", f"no signature request {request_id}")
        if not state.open:
            was = state.closed_by or "fully signed (being sealed)"
            raise VisavisError(
                "signature_not_open", f"signature request {request_id} is {was}; expected open"
            )

    @staticmethod
    async def _check_active(w: Write, cid: str) -> Conversation:
        conv = await w.lock(cid)
        if conv.status != "active":
            raise VisavisError(
                "invalid_state", f"signing needs an active conversation; {cid} is {conv.status!r}"
            )
        return conv
