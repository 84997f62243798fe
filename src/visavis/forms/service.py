"""Forms in a conversation: open, change a field, submit, confirm, cancel.

Each command is one `ConversationService.write()`: it locks the conversation (so two
changes of one form are serialised — on PostgreSQL by the row lock, on SQLite by the
write lock), checks the form and the change, updates the form's row and appends its
event. A refusal raises before anything is added, so nothing is half-stored.

Per-field optimistic concurrency: every field has a revision (0 until first
changed). `form.change` names the revision its edit was based on; if the field has
moved on since, the change is refused with `form_field_conflict` and the field's
current value and revision, and the client shows the other person's value.

Who may do what (the adviser opens, submits and cancels, the customer confirms,
either fills in) is checked by the caller (web/permissions.py); this module checks
what the database knows: the conversation is running, the form is of this
conversation and in the state the command needs.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import select

from visavis.conversations.service import ConversationService
from visavis.conversations.summary import iso
from visavis.conversations.writes import Author, Write
from visavis.errors import VisavisError
from visavis.forms.catalogue import TemplateCatalogue, template_of
from visavis.forms.templates import Template
from visavis.forms.values import as_values, check_value, errors_of, submission
from visavis.protocol import frames as f
from visavis.protocol.forms import FieldValue
from visavis.storage.engine import Database
from visavis.storage.ids import new_id
from visavis.storage.models import Form

log = logging.getLogger(__name__)


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class FormService:
    def __init__(
        self, database: Database, conversations: ConversationService, catalogue: TemplateCatalogue
    ) -> None:
        self._database = database
        self.conversations = conversations
        self.catalogue = catalogue

    # ------------------------------------------------------------ reads
    async def get(self, form_id: str) -> Form:
        async with self._database.sessions() as db:
            form = await db.get(Form, form_id)
        if form is None:
            raise VisavisError("not_found", f"no form {form_id}")
        return form

    async def template(self, form: Form) -> Template:
        return template_of(await self.catalogue.version(form.template_id, form.template_version))

    async def fields_of(self, conversation_id: str, form_id: str) -> frozenset[str]:
        """The fields of a form of this conversation (the focus relay checks against
        them); `not_found` for a form of another conversation."""
        form = await self.get(form_id)
        if form.conversation_id != conversation_id:
            raise VisavisError("not_found", f"no form {form_id} in {conversation_id}")
        return frozenset((await self.template(form)).fields)

    # ------------------------------------------------------------ writes
    async def do_open(
        self,
        conversation_id: str,
        author: Author,
        template_id: str,
        prefill: dict[str, FieldValue],
    ) -> f.EventFrame:
        """Open the template's newest version with `prefill` (each value checked like
        a change; empty ones left out). One form is open at a time per conversation."""
        row = await self.catalogue.latest(template_id)
        template = template_of(row)
        values = {k: v for k, v in prefill.items() if check_value(template, k, v) is not None}
        errors = errors_of(template, values)
        async with self.conversations.write(summaries=False) as w:
            await self._check_active(w, conversation_id)
            running = await w.db.scalar(
                select(Form.id).where(
                    Form.conversation_id == conversation_id, Form.status == "open"
                )
            )
            if running is not None:
                raise VisavisError(
                    "invalid_state",
                    f"form {running} is still open in {conversation_id}; submit or cancel it "
                    "before opening another",
                )
            now = datetime.now(UTC)
            form = Form(
                id=new_id(16),
                conversation_id=conversation_id,
                template_id=row.id,
                template_version=row.version,
                status="open",
                values=_dumps(values),
                revs=_dumps({}),
                opened_by=author.id,
                opened_at=now,
            )
            w.db.add(form)
            body: f.FormOpenedBody = {
                "form_id": form.id,
                "template_id": row.id,
                "version": row.version,
                "title": template.title,
                "schema": template.schema,
                "ui": template.ui,
                "values": values,
                "errors": errors,
            }
            event = await w.append(conversation_id, "form.opened", author, dict(body), now=now)
        log.info("form %s (%s v%d) opened in %s", form.id, row.id, row.version, conversation_id)
        return event

    async def do_change(
        self,
        conversation_id: str,
        author: Author,
        form_id: str,
        field: str,
        value: FieldValue,
        rev: int,
    ) -> f.EventFrame:
        async with self.conversations.write(summaries=False) as w:
            form = await self._form(w, conversation_id, form_id, "open")
            template = await self.template(form)
            value = check_value(template, field, value)
            revs: dict[str, int] = json.loads(form.revs)
            values = as_values(form.values)
            current = revs.get(field, 0)
            if rev != current:
                raise VisavisError(
                    "form_field_conflict",
                    f"{field!r} is at revision {current}, the change was based on {rev}: "
                    "someone else changed it meanwhile",
                    field=field,
                    rev=current,
                    value=values.get(field),
                )
            if value is None:
                values.pop(field, None)
            else:
                values[field] = value
            revs[field] = current + 1
            form.values, form.revs = _dumps(values), _dumps(revs)
            body: f.FormChangedBody = {
                "form_id": form.id,
                "field": field,
                "value": value,
                "rev": current + 1,
                "errors": errors_of(template, values),
            }
            return await w.append(conversation_id, "form.changed", author, dict(body))

    async def do_submit(self, conversation_id: str, author: Author, form_id: str) -> f.EventFrame:
        """Submit the visible, filled values; refused with every field's errors
        (`form_invalid`, `errors` in the details) while the form is not valid."""
        async with self.conversations.write(summaries=False) as w:
            form = await self._form(w, conversation_id, form_id, "open")
            template = await self.template(form)
            values = as_values(form.values)
            errors = errors_of(template, values)
            if errors:
                raise VisavisError(
                    "form_invalid",
                    f"form {form_id} has errors in {len(errors)} field(s): {', '.join(errors)}",
                    errors=errors,
                )
            agreed, digest = submission(template, form.template_version, values)
            form.status = "submitted"
            form.submitted_values = _dumps(agreed)
            form.digest = digest
            form.submitted_by = author.id
            form.submitted_at = datetime.now(UTC)
            body: f.FormSubmittedBody = {
                "form_id": form.id,
                "template_id": form.template_id,
                "version": form.template_version,
                "values": agreed,
                "digest": digest,
            }
            event = await w.append(conversation_id, "form.submitted", author, dict(body))
        log.info("form %s submitted in %s", form_id, conversation_id)
        return event

    async def do_confirm(self, conversation_id: str, author: Author, form_id: str) -> f.EventFrame:
        async with self.conversations.write(summaries=False) as w:
            form = await self._form(w, conversation_id, form_id, "submitted")
            form.status = "confirmed"
            form.confirmed_at = datetime.now(UTC)
            body: f.FormConfirmedBody = {"form_id": form.id}
            return await w.append(conversation_id, "form.confirmed", author, dict(body))

    async def do_cancel(self, conversation_id: str, author: Author, form_id: str) -> f.EventFrame:
        async with self.conversations.write(summaries=False) as w:
            form = await self._form(w, conversation_id, form_id, "open")
            form.status = "cancelled"
            form.cancelled_at = datetime.now(UTC)
            body: f.FormCancelledBody = {"form_id": form.id}
            return await w.append(conversation_id, "form.cancelled", author, dict(body))

    # ------------------------------------------------------------ helpers
    async def _check_active(self, w: Write, conversation_id: str) -> None:
        conv = await w.lock(conversation_id)
        if conv.status != "active":
            raise VisavisError(
                "invalid_state",
                f"forms are filled in while a conversation is active; {conversation_id} is "
                f"{conv.status!r}",
            )

    async def _form(self, w: Write, conversation_id: str, form_id: str, status: str) -> Form:
        """The form, its conversation locked and active, in `status`; `not_found` for
        a form of another conversation (it does not exist as far as this one knows)."""
        await self._check_active(w, conversation_id)
        form = await w.db.get(Form, form_id)
        if form is None or form.conversation_id != conversation_id:
            raise VisavisError("not_found", f"no form {form_id} in {conversation_id}")
        if form.status != status:
            raise VisavisError(
                "invalid_state", f"form {form_id} is {form.status!r}; expected {status!r}"
            )
        return form


def record_of(form: Form, template: Template) -> f.FormRecord:
    """The form as exported: submitted values once submitted, else the current ones."""
    text = form.submitted_values if form.submitted_values is not None else form.values
    return {
        "form_id": form.id,
        "conversation_id": form.conversation_id,
        "template_id": form.template_id,
        "version": form.template_version,
        "title": template.title,
        "status": cast(f.FormStatus, form.status),
        "values": as_values(text),
        "opened_at": iso(form.opened_at),
        "submitted_at": iso(form.submitted_at),
        "confirmed_at": iso(form.confirmed_at),
        "digest": form.digest,
    }
