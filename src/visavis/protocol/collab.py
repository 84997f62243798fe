"""Collaboration in the consultation room: documents on a shared stage, annotations,
a shared video, pointers, snapshots — the client messages, the two relayed server
frames and the typed bodies of the events they add.

The logged steps (sharing, presenting, annotating, video control, snapshot requests,
the customer's right to download a document)
are events of the conversation, so a reload or a late joiner replays the stage from
the log. Pointers and the view (page, zoom, scroll) change many times a second and
are ephemeral: relayed, coalesced, never stored.

Client messages here are validated in pydantic's strict mode (no `"1"` for `1`, no
`1` for `true`): their numbers go straight into other participants' screens.

Pages are numbered from 0: `page` is an index into the document's `pages`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from visavis.protocol.common import (
    AnnotationColor,
    AnnotationTool,
    ClientBase,
    ConversationId,
    DocumentKind,
    DocumentSource,
    EventKind,
    PointerSurface,
    Role,
    ServerBase,
    VideoAction,
)

MAX_POINTS = 500
MAX_ANNOTATION_TEXT = 200
MAX_PAGES = 500  # the upper bound a page index can have; the document's own count is checked

DocumentId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
LibraryId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
AnnotationId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PageIndex = Annotated[int, Field(ge=0, lt=MAX_PAGES)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Zoom = Annotated[float, Field(ge=1.0, le=4.0, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=0.0, le=86_400.0, allow_inf_nan=False)]
# [x, y] as fractions of the page (0,0 = top left); a list, not a tuple: JSON arrays
Point = Annotated[list[Fraction], Field(min_length=2, max_length=2)]


class _Strict(ClientBase):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- carried models
class PageSize(_Body):
    """A page's size in PDF points (images: pixels); only the ratio matters to clients."""

    w: float
    h: float


class DocumentInfo(_Body):
    """A document of a conversation, as `document.shared` and the upload answer say it."""

    document_id: str
    name: str
    kind: DocumentKind
    pages: list[PageSize]
    downloadable: bool
    source: DocumentSource


class LibraryDocument(_Body):
    """A document of the library, as `GET /api/v1/library` lists it."""

    id: str
    name: str
    kind: DocumentKind
    mime: str
    pages: list[PageSize]
    downloadable: bool
    created_at: str


class DocumentAccess(_Body):
    """Answer of `POST /api/v1/documents/{id}/access`: `?a=<token>` for GETs."""

    token: str
    expires_at: str


# ---------------------------------------------------------------- event bodies
class DocumentSharedBody(DocumentInfo):
    """`document.shared`: a document is now part of the conversation."""


class DocumentRightsBody(_Body):
    """`document.rights`: the adviser allowed or forbade the customer to download the
    document (it stays visible on the stage either way)."""

    document_id: str
    downloadable: bool


class DocumentPresentedBody(_Body):
    """`document.presented`: the author put the document on the stage at this page."""

    document_id: str
    page: int


class StageClearedBody(_Body):
    """`stage.cleared`: nothing is presented any more."""


class AnnotationAddedBody(_Body):
    """`annotation.added`: a stroke, arrow, highlight or text on a page."""

    document_id: str
    page: int
    annotation_id: str
    tool: AnnotationTool
    color: AnnotationColor
    points: list[list[float]]
    text: str | None


class AnnotationClearedBody(_Body):
    """`annotation.cleared`: every annotation of the page before this event is gone."""

    document_id: str
    page: int


class VideoControlBody(_Body):
    """`video.control`: the shared video plays, pauses or jumps, for everyone."""

    document_id: str
    action: VideoAction
    position: float


class SnapshotRequestedBody(_Body):
    """`snapshot.requested`: the adviser asks the customer for a photo."""


class SnapshotDeclinedBody(_Body):
    """`snapshot.declined`: the customer said no to the photo."""


EVENT_BODIES: dict[EventKind, type[BaseModel]] = {
    "document.shared": DocumentSharedBody,
    "document.rights": DocumentRightsBody,
    "document.presented": DocumentPresentedBody,
    "stage.cleared": StageClearedBody,
    "annotation.added": AnnotationAddedBody,
    "annotation.cleared": AnnotationClearedBody,
    "video.control": VideoControlBody,
    "snapshot.requested": SnapshotRequestedBody,
    "snapshot.declined": SnapshotDeclinedBody,
}
"""The typed body of each collaboration event kind (the TypeScript `EventBodyMap`)."""

HTTP_MODELS: tuple[type[BaseModel], ...] = (DocumentInfo, LibraryDocument, DocumentAccess)
"""Models of the HTTP answers the frontend reads, generated into TypeScript too."""


# ---------------------------------------------------------------- client → server
class DocShare(_Strict):
    """Adviser: share a library document into the conversation."""

    type: Literal["doc.share"]
    conversation_id: ConversationId
    library_id: LibraryId


class DocRights(_Strict):
    """Adviser: allow or forbid the customer to download a document of the conversation."""

    type: Literal["doc.rights"]
    conversation_id: ConversationId
    document_id: DocumentId
    downloadable: bool


class DocPresent(_Strict):
    """Put a document of the conversation on the stage, or turn its page."""

    type: Literal["doc.present"]
    conversation_id: ConversationId
    document_id: DocumentId
    page: PageIndex


class StageClear(_Strict):
    """Take the document off the stage."""

    type: Literal["stage.clear"]
    conversation_id: ConversationId


class DocView(_Strict):
    """Ephemeral: the sender's view of a document (page, zoom, scroll)."""

    type: Literal["doc.view"]
    conversation_id: ConversationId
    document_id: DocumentId
    page: PageIndex
    zoom: Zoom
    x: Fraction
    y: Fraction


class Pointer(_Strict):
    """Ephemeral: where the sender points, on a document page or the shared video."""

    type: Literal["pointer"]
    conversation_id: ConversationId
    surface: PointerSurface
    document_id: DocumentId | None
    page: PageIndex | None
    x: Fraction
    y: Fraction
    visible: bool


class AnnotationAdd(_Strict):
    """Draw on a page of a document of the conversation."""

    type: Literal["annotation.add"]
    conversation_id: ConversationId
    document_id: DocumentId
    page: PageIndex
    annotation_id: AnnotationId
    tool: AnnotationTool
    color: AnnotationColor
    points: Annotated[list[Point], Field(min_length=1, max_length=MAX_POINTS)]
    text: Annotated[str, Field(min_length=1, max_length=MAX_ANNOTATION_TEXT)] | None = None


class AnnotationClear(_Strict):
    """Remove every annotation of one page."""

    type: Literal["annotation.clear"]
    conversation_id: ConversationId
    document_id: DocumentId
    page: PageIndex


class VideoControl(_Strict):
    """Play, pause or seek the shared video for everyone."""

    type: Literal["video.control"]
    conversation_id: ConversationId
    document_id: DocumentId
    action: VideoAction
    position: Seconds


class SnapshotRequest(_Strict):
    """Adviser: ask the customer for a photo (taken with the customer's camera)."""

    type: Literal["snapshot.request"]
    conversation_id: ConversationId


class SnapshotDecline(_Strict):
    """Customer: decline the adviser's request for a photo."""

    type: Literal["snapshot.decline"]
    conversation_id: ConversationId


COLLAB_CLIENT_MESSAGES: tuple[type[ClientBase], ...] = (
    DocShare,
    DocRights,
    DocPresent,
    StageClear,
    DocView,
    Pointer,
    AnnotationAdd,
    AnnotationClear,
    VideoControl,
    SnapshotRequest,
    SnapshotDecline,
)


# ---------------------------------------------------------------- server → client
class FromAuthor(BaseModel):
    """Who sent a relayed view or pointer."""

    model_config = ConfigDict(extra="forbid")
    role: Role
    id: str | None = None
    name: str | None = None


class DocViewOut(ServerBase):
    """Another participant's view of a document (latest only; bursts are coalesced)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["doc.view"]
    conversation_id: str
    from_: FromAuthor = Field(alias="from")
    document_id: str
    page: int
    zoom: float
    x: float
    y: float


class PointerOut(ServerBase):
    """Another participant's pointer (latest only; bursts are coalesced)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["pointer"]
    conversation_id: str
    from_: FromAuthor = Field(alias="from")
    surface: PointerSurface
    document_id: str | None
    page: int | None
    x: float
    y: float
    visible: bool


COLLAB_SERVER_MESSAGES: tuple[type[ServerBase], ...] = (DocViewOut, PointerOut)
