"""Signing a PDF in the conversation: the client messages and the typed bodies of the
signature events.

The adviser puts a PDF of the conversation (an upload, a library document, or the PDF
of a submitted form) up for signature (`signature.request`) with the spots where each
signer signs — placed by the adviser as fractions of a page, or the PDF's own empty
signature fields. Each required signer (the customer; the adviser too when asked or
configured) signs (`signature.sign`) with the SHA-256 of the document they were shown,
the version of the consent text they ticked, and the signature as a PNG (drawn, or the
typed name rendered by the browser). When every required signer has signed, the server
stamps the images, appends an audit page, seals the PDF and shares the result as a new
document (`signature.completed`).

Every step is an event of the conversation, so a reload or a late joiner knows where
the request stands. Client messages are strict (no coercion).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from visavis.protocol.collab import DocumentId, Fraction, PageIndex
from visavis.protocol.common import ClientBase, ConsentText, ConversationId, EventKind, Role
from visavis.protocol.forms import FormId

MAX_SPOTS = 8
# a signature PNG (the browser draws it at most 800x300 and sends black strokes on a
# transparent background: a few kilobytes); the frame limit of signature.sign allows it
MAX_SIGNATURE_PNG_BYTES = 44 * 1024
MAX_SIGNATURE_PNG_B64 = (MAX_SIGNATURE_PNG_BYTES + 2) // 3 * 4
MAX_SIGN_FRAME_BYTES = MAX_SIGNATURE_PNG_B64 + 4 * 1024
MAX_TYPED_NAME = 100
MAX_DECLINE_REASON = 300

RequestId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Sha256Hex = Annotated[str, Field(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")]
ConsentVersion = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")]
SignatureMethod = Literal["drawn", "typed"]
SignerSet = Literal["customer", "customer+adviser"]
# a spot's size: big enough to sign into, never the whole page
SpotSize = Annotated[float, Field(ge=0.02, le=0.9, allow_inf_nan=False)]


class _Strict(ClientBase):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- carried models
class SpotIn(BaseModel):
    """Where one signer signs: the top-left corner and size as fractions of the page
    (0,0 = top left)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    signer: Role
    page: PageIndex
    x: Fraction
    y: Fraction
    width: SpotSize
    height: SpotSize


class SignatureSpotBody(_Body):
    """A spot as the events carry it (`field_name`: the PDF's own signature field)."""

    signer: Role
    page: int
    x: float
    y: float
    width: float
    height: float
    field_name: str | None


# ---------------------------------------------------------------- event bodies
class SignatureRequestedBody(_Body):
    """`signature.requested`: the document is up for signature. `document_sha256` is
    what every signer must confirm they saw; `consent_version` the consent text they
    tick; `ip` and `user_agent` the requesting adviser's connection's (audit page)."""

    request_id: str
    document_id: str
    document_name: str
    document_sha256: str
    signers: list[Role]
    spots: list[SignatureSpotBody]
    consent_version: str
    ip: str
    user_agent: str


class SignatureSignedBody(_Body):
    """`signature.signed`: one signer signed. The image is kept in the file store under
    `image_sha256` until the document is sealed; `ip` and `user_agent` are the signer's
    connection's, as the audit page records them."""

    request_id: str
    signer: Role
    method: SignatureMethod
    typed_name: str | None
    consent_version: str
    document_sha256: str
    image_sha256: str
    ip: str
    user_agent: str


class SignatureCompletedBody(_Body):
    """`signature.completed`: the sealed PDF is the new document `document_id`."""

    request_id: str
    document_id: str
    name: str
    sha256: str


class SignatureDeclinedBody(_Body):
    """`signature.declined`: a signer said no."""

    request_id: str
    signer: Role
    reason: str | None


class SignatureCancelledBody(_Body):
    """`signature.cancelled`: the adviser withdrew the request."""

    request_id: str


class SignatureFailedBody(_Body):
    """`signature.failed`: sealing did not succeed; the request is closed (put the
    document up again)."""

    request_id: str
    code: str
    message: str


SIGNING_EVENT_BODIES: dict[EventKind, type[BaseModel]] = {
    "signature.requested": SignatureRequestedBody,
    "signature.signed": SignatureSignedBody,
    "signature.completed": SignatureCompletedBody,
    "signature.declined": SignatureDeclinedBody,
    "signature.cancelled": SignatureCancelledBody,
    "signature.failed": SignatureFailedBody,
}
"""The typed body of each signature event kind (in the TypeScript `EventBodyMap` too)."""


SIGNING_HTTP_MODELS: tuple[type[BaseModel], ...] = (ConsentText,)


# ---------------------------------------------------------------- client → server
class SignatureRequest(_Strict):
    """Adviser: put a PDF up for signature — a document of the conversation
    (`document_id`) or the PDF of a submitted form (`form_id`), exactly one. Spots are
    the adviser's (`spots`) or the PDF's own empty signature fields (`use_pdf_fields`:
    the first for the customer, the next for the adviser)."""

    type: Literal["signature.request"]
    conversation_id: ConversationId
    document_id: DocumentId | None = None
    form_id: FormId | None = None
    signers: SignerSet = "customer"
    spots: Annotated[list[SpotIn], Field(max_length=MAX_SPOTS)] = []
    use_pdf_fields: bool = False


class SignatureSign(_Strict):
    """A signer signs: the document they saw, the consent they ticked (with the text's
    version), the signature as a PNG in base64."""

    type: Literal["signature.sign"]
    conversation_id: ConversationId
    request_id: RequestId
    document_sha256: Sha256Hex
    consent: bool
    consent_version: ConsentVersion
    method: SignatureMethod
    image_png: Annotated[str, Field(min_length=8, max_length=MAX_SIGNATURE_PNG_B64)]
    typed_name: Annotated[str, Field(min_length=1, max_length=MAX_TYPED_NAME)] | None = None


class SignatureDecline(_Strict):
    """A signer declines to sign."""

    type: Literal["signature.decline"]
    conversation_id: ConversationId
    request_id: RequestId
    reason: Annotated[str, Field(max_length=MAX_DECLINE_REASON)] | None = None


class SignatureCancel(_Strict):
    """Adviser: withdraw the request."""

    type: Literal["signature.cancel"]
    conversation_id: ConversationId
    request_id: RequestId


SIGNING_CLIENT_MESSAGES: tuple[type[ClientBase], ...] = (
    SignatureRequest,
    SignatureSign,
    SignatureDecline,
    SignatureCancel,
)
