"""The gateway's signing commands: the adviser puts a PDF up for signature (or the
PDF of a submitted form, made here: `forms` and `collab` do not know each other) and
cancels; a signer signs or declines. Each is a write of `SigningService`; the last
signature also seals (after the signer's ack, so their screen can say "Wird
versiegelt…" while it runs)."""

from __future__ import annotations

import asyncio
import logging

from visavis.collab.documents import DocumentService
from visavis.collab.signing import Party, SigningService
from visavis.conversations.reads import ConversationReads
from visavis.errors import VisavisError
from visavis.forms.service import FormService, record_of
from visavis.protocol import messages as m
from visavis.protocol.replies import ack
from visavis.web.connection import Connection
from visavis.web.permissions import author_of, check_adviser, check_participant

log = logging.getLogger(__name__)

MAX_USER_AGENT = 300


def party_of(conn: Connection) -> Party:
    """The connection's address and browser, as the audit page records them (behind
    a proxy, the server runs with the proxy's forwarded headers trusted, so this is
    the client's address)."""
    client = conn.ws.client
    agent = conn.ws.headers.get("user-agent", "")[:MAX_USER_AGENT]
    return Party(client.host if client else "unknown", agent)


class SigningCommands:
    def __init__(
        self,
        signing: SigningService,
        documents: DocumentService,
        forms: FormService,
        conversations: ConversationReads,
    ) -> None:
        self.signing = signing
        self.documents = documents
        self.forms = forms
        self.conversations = conversations

    async def do_request(self, conn: Connection, msg: m.SignatureRequest) -> None:
        check_adviser(conn)
        await check_participant(conn, self.conversations, msg.conversation_id)
        if (msg.document_id is None) == (msg.form_id is None):
            raise VisavisError(
                "bad_request", "signature.request: expected document_id or form_id, exactly one"
            )
        author = author_of(conn)
        document_id = msg.document_id
        if msg.form_id is not None:
            document_id = await self._form_document(msg.conversation_id, msg.form_id, conn)
        assert document_id is not None
        event = await self.signing.do_request(msg, author, party_of(conn), document_id)
        conn.push_frame(ack(msg.id, msg.conversation_id, event["seq"]))

    async def do_sign(self, conn: Connection, msg: m.SignatureSign) -> None:
        await check_participant(conn, self.conversations, msg.conversation_id)
        event, complete = await self.signing.do_sign(msg, author_of(conn), party_of(conn))
        conn.push_frame(ack(msg.id, msg.conversation_id, event["seq"]))
        if complete:
            await self.signing.do_seal(msg.conversation_id, msg.request_id)

    async def do_close(self, conn: Connection, msg: m.SignatureDecline | m.SignatureCancel) -> None:
        if isinstance(msg, m.SignatureCancel):
            check_adviser(conn)
        await check_participant(conn, self.conversations, msg.conversation_id)
        if isinstance(msg, m.SignatureDecline):
            event = await self.signing.do_close(msg.conversation_id, msg.request_id,
                                                author_of(conn), "signature.declined",
                                                msg.reason)  # fmt: skip
        else:
            event = await self.signing.do_close(
                msg.conversation_id, msg.request_id, author_of(conn), "signature.cancelled"
            )
        conn.push_frame(ack(msg.id, msg.conversation_id, event["seq"]))

    async def _form_document(self, cid: str, form_id: str, conn: Connection) -> str:
        """The submitted form's readable PDF, shared as a document of the conversation."""
        form = await self.forms.get(form_id)
        if form.conversation_id != cid:
            raise VisavisError("not_found", f"no form {form_id} in conversation {cid}")
        if form.status not in ("submitted", "confirmed"):
            raise VisavisError(
                "invalid_state", f"form {form_id} is {form.status!r}; expected it submitted"
            )
        template = await self.forms.template(form)
        from visavis.forms.pdf import form_pdf  # on first use: reportlab costs server starts

        pdf = await asyncio.to_thread(form_pdf, record_of(form, template), template, "de")
        info = await self.documents.do_upload(
            cid, author_of(conn), pdf, f"{template.title['de'][:150]}.pdf", source="form"
        )
        return info["document_id"]
