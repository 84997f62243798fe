"""Forms filled in together inside a conversation: the client messages, the relayed
focus frame, the typed bodies of the form events, and the HTTP models of templates and
submitted forms.

A form is an instance of a template (JSON Schema draft 2020-12 plus a UI description)
opened by the adviser. Every field change is an event (`form.changed`) carrying the
field's new revision and the form's validation errors after it, so a reload or a late
joiner replays the form from the log. Who is in which field changes with every click
and is ephemeral (`form.focus`: relayed, coalesced, never stored).

Two people never silently overwrite each other: `form.change` names the revision of
the field the client based its edit on, and a change based on an older one is refused
(`form_field_conflict`).

Client messages are strict (no coercion). A value is any JSON scalar or null here;
whether it fits its field (type, size, a field of the template at all) is the form
service's check, refused as `form_invalid_change` with nothing stored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from visavis.protocol.collab import FromAuthor
from visavis.protocol.common import (
    ClientBase,
    ConversationId,
    EventKind,
    FormErrorCode,
    FormFieldKind,
    FormStatus,
    ServerBase,
)

MAX_PREFILL = 100  # entries of `form.open`'s prefill: no template has more fields
MAX_FIELD_NAME = 200  # a longer name is no field of any template (the service says so)

FormId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
TemplateId = Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
FieldName = Annotated[str, Field(min_length=1, max_length=MAX_FIELD_NAME)]
Revision = Annotated[int, Field(ge=0, le=2**31)]
# A JSON scalar or null (null empties the field); whether it fits is the service's check.
FieldValue = str | int | float | bool | None


class _Strict(ClientBase):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---------------------------------------------------------------- carried models
class LocalText(_Body):
    """A text in both UI languages."""

    de: str
    en: str


class FormFieldUi(_Body):
    """How a field is shown: its kind (which input), labels, help text, the labels of
    a choice's values, and the prefill key a customer-side value comes from."""

    kind: FormFieldKind
    label: LocalText
    help: LocalText | None = None
    options: dict[str, LocalText] | None = None
    prefill: str | None = None


class FormGroup(_Body):
    """A titled group of fields, in the order shown."""

    id: str
    label: LocalText
    fields: list[str]


class FormUi(_Body):
    """The UI description of a template: groups in order, and every field's look."""

    groups: list[FormGroup]
    fields: dict[str, FormFieldUi]


class FormFieldError(_Body):
    """One validation error of a field: a stable code (the UI words it in the user's
    language) and a detail (the limit, the format's name, the pattern), or null."""

    code: FormErrorCode
    detail: str | None


class FormTemplateInfo(_Body):
    """A template as `GET /api/v1/form-templates` lists it (its newest version)."""

    id: str
    version: int
    title: LocalText
    fields: int
    created_at: str


class FormTemplate(_Body):
    """One version of a template, whole (`GET /api/v1/form-templates/{id}`)."""

    id: str
    version: int
    title: LocalText
    json_schema: dict[str, Any] = Field(alias="schema")
    ui: FormUi
    created_at: str


class FormRecord(_Body):
    """A form of a conversation as exported (`GET /api/v1/forms/{id}`): the values as
    submitted (while open: as they are now), the template version they belong to and
    the SHA-256 of the submitted values (what a later signature will sign)."""

    form_id: str
    conversation_id: str
    template_id: str
    version: int
    title: LocalText
    status: FormStatus
    values: dict[str, FieldValue]
    opened_at: str
    submitted_at: str | None
    confirmed_at: str | None
    digest: str | None


# ---------------------------------------------------------------- event bodies
class FormOpenedBody(_Body):
    """`form.opened`: the adviser opened a template (this version) in the conversation;
    `values` are the prefilled ones (every field at revision 0), `errors` the form's
    validation errors with them."""

    form_id: str
    template_id: str
    version: int
    title: LocalText
    json_schema: dict[str, Any] = Field(alias="schema")
    ui: FormUi
    values: dict[str, FieldValue]
    errors: dict[str, list[FormFieldError]]


class FormChangedBody(_Body):
    """`form.changed`: a field has a new value (null: emptied) at revision `rev`;
    `errors` are the whole form's validation errors after the change (a change may make
    another field required)."""

    form_id: str
    field: str
    value: FieldValue
    rev: int
    errors: dict[str, list[FormFieldError]]


class FormSubmittedBody(_Body):
    """`form.submitted`: the adviser submitted the form; `values` are the visible,
    filled fields, of the template version `version`; `digest` their SHA-256."""

    form_id: str
    template_id: str
    version: int
    values: dict[str, FieldValue]
    digest: str


class FormConfirmedBody(_Body):
    """`form.confirmed`: the customer confirmed the submitted form."""

    form_id: str


class FormCancelledBody(_Body):
    """`form.cancelled`: the adviser closed the form without submitting it."""

    form_id: str


FORM_EVENT_BODIES: dict[EventKind, type[BaseModel]] = {
    "form.opened": FormOpenedBody,
    "form.changed": FormChangedBody,
    "form.submitted": FormSubmittedBody,
    "form.confirmed": FormConfirmedBody,
    "form.cancelled": FormCancelledBody,
}
"""The typed body of each form event kind (in the TypeScript `EventBodyMap` too)."""

FORM_HTTP_MODELS: tuple[type[BaseModel], ...] = (FormTemplateInfo, FormTemplate, FormRecord)


# ---------------------------------------------------------------- client → server
class FormOpen(_Strict):
    """Adviser: open a template's newest version in the conversation, with values
    entered before opening."""

    type: Literal["form.open"]
    conversation_id: ConversationId
    template_id: TemplateId
    prefill: Annotated[dict[FieldName, FieldValue], Field(max_length=MAX_PREFILL)] = {}


class FormChange(_Strict):
    """Set one field, based on the field's revision `rev` the client last saw."""

    type: Literal["form.change"]
    conversation_id: ConversationId
    form_id: FormId
    field: FieldName
    value: FieldValue
    rev: Revision


class FormFocus(_Strict):
    """Ephemeral: the field the sender is in (null: none)."""

    type: Literal["form.focus"]
    conversation_id: ConversationId
    form_id: FormId
    field: FieldName | None


class FormSubmit(_Strict):
    """Adviser: submit the form (refused with per-field errors while invalid)."""

    type: Literal["form.submit"]
    conversation_id: ConversationId
    form_id: FormId


class FormConfirm(_Strict):
    """Customer: confirm the submitted form."""

    type: Literal["form.confirm"]
    conversation_id: ConversationId
    form_id: FormId


class FormCancel(_Strict):
    """Adviser: close the form without submitting it."""

    type: Literal["form.cancel"]
    conversation_id: ConversationId
    form_id: FormId


FORM_CLIENT_MESSAGES: tuple[type[ClientBase], ...] = (
    FormOpen,
    FormChange,
    FormFocus,
    FormSubmit,
    FormConfirm,
    FormCancel,
)


# ---------------------------------------------------------------- server → client
class FormFocusOut(ServerBase):
    """Another participant's field (latest only; bursts are coalesced)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["form.focus"]
    conversation_id: str
    from_: FromAuthor = Field(alias="from")
    form_id: str
    field: str | None


FORM_SERVER_MESSAGES: tuple[type[ServerBase], ...] = (FormFocusOut,)
