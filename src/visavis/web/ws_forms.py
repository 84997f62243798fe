"""The gateway's form commands (each one write of `FormService`) and the ephemeral
`form.focus` relay: who is in which field, coalesced per sender like `pointer`
(web/ephemeral.py), never stored and never logged."""

from __future__ import annotations

from visavis.conversations.announcer import Announcer
from visavis.conversations.reads import ConversationReads
from visavis.errors import VisavisError
from visavis.forms.service import FormService
from visavis.protocol import frames as f
from visavis.protocol import messages as m
from visavis.protocol.replies import ack
from visavis.web.connection import Connection
from visavis.web.ephemeral import RelayState
from visavis.web.permissions import (
    author_of,
    check_adviser,
    check_customer,
    check_customer_owns,
    check_participant,
)

FORM_EPHEMERAL_TYPES = frozenset({"form.focus"})


class FormCommands:
    def __init__(
        self, forms: FormService, conversations: ConversationReads, announcer: Announcer
    ) -> None:
        self.forms = forms
        self.conversations = conversations
        self.announcer = announcer

    async def do_open(self, conn: Connection, msg: m.FormOpen) -> None:
        check_adviser(conn)
        await check_participant(conn, self.conversations, msg.conversation_id)
        event = await self.forms.do_open(
            msg.conversation_id, author_of(conn), msg.template_id, dict(msg.prefill)
        )
        conn.push_frame(ack(msg.id, msg.conversation_id, event["seq"]))

    async def do_change(self, conn: Connection, msg: m.FormChange) -> None:
        """Either side fills in. A customer's token names the conversation, so (as for
        chat messages) no read is needed; the write checks that it is active."""
        if conn.role == "customer":
            check_customer_owns(conn, msg.conversation_id)
        else:
            await check_participant(conn, self.conversations, msg.conversation_id)
        event = await self.forms.do_change(
            msg.conversation_id, author_of(conn), msg.form_id, msg.field, msg.value, msg.rev
        )
        conn.push_frame(ack(msg.id, msg.conversation_id, event["seq"]))

    async def do_step(
        self, conn: Connection, msg: m.FormSubmit | m.FormConfirm | m.FormCancel
    ) -> None:
        """The adviser submits and cancels; the customer confirms."""
        if isinstance(msg, m.FormConfirm):
            check_customer(conn)
        else:
            check_adviser(conn)
        await check_participant(conn, self.conversations, msg.conversation_id)
        author, cid = author_of(conn), msg.conversation_id
        if isinstance(msg, m.FormSubmit):
            event = await self.forms.do_submit(cid, author, msg.form_id)
        elif isinstance(msg, m.FormConfirm):
            event = await self.forms.do_confirm(cid, author, msg.form_id)
        else:
            event = await self.forms.do_cancel(cid, author, msg.form_id)
        conn.push_frame(ack(msg.id, cid, event["seq"]))

    async def do_focus(self, conn: Connection, msg: m.FormFocus) -> None:
        """Check (remembered for a few seconds), then hand the newest to the socket's
        coalescing slot; no answer, like `pointer`."""
        relay = conn.relay
        if relay is None:
            relay = conn.relay = RelayState()
        cid = msg.conversation_id
        fields = relay.form_fields(cid, msg.form_id)
        if fields is None:
            conv = await check_participant(conn, self.conversations, cid)
            if conv["status"] == "ended":
                raise VisavisError("invalid_state", "conversation has ended")
            fields = await self.forms.fields_of(cid, msg.form_id)
            relay.remember_form(cid, msg.form_id, fields)
        if msg.field is not None and msg.field not in fields:
            raise VisavisError("form_invalid_change", f"the form has no field {msg.field[:64]!r}")
        a = author_of(conn)
        sender: f.FromAuthor = {"role": "adviser" if a.role == "adviser" else "customer",
                                "id": a.id, "name": a.name}  # fmt: skip
        frame: f.FormFocusOutFrame = {"v": 1, "type": "form.focus", "conversation_id": cid,
                                      "from": sender, "form_id": msg.form_id,
                                      "field": msg.field}  # fmt: skip

        async def send() -> None:
            await self.announcer.send_ephemeral(cid, frame)

        relay.offer((msg.type, cid), send)
