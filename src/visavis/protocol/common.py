"""What client and server messages share: limits, field types, the named value sets
(`Literal`s) and the WebRTC parts that travel both ways.

The value sets have names so that code outside the protocol can say what a stored
string is when it puts it into a frame (a conversation's `status` column is a `str`;
in a summary it is a `ConversationStatus`). The generated TypedDicts in `frames.py`
use these names (`NAMED_LITERALS`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 1
# SDP offers with audio+video from Chromium are 6-12 KB; 32 KiB leaves room.
MAX_FRAME_BYTES = 32 * 1024
# Arrays and objects inside one another in a frame or an HTTP body. Python's json
# module recurses: ~1000 levels raise RecursionError, and deep data sent on (relays,
# rrweb batches, stored bodies) would fail again later. rrweb snapshots of real pages
# nest ~2 levels per DOM level; 200 leaves room for 100-deep DOM trees.
MAX_JSON_DEPTH = 200
MAX_TEXT_CHARS = 4000

ConversationId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
CallId = Annotated[str, Field(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
ClientId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
FrameId = Annotated[str, Field(min_length=1, max_length=64)]
Seq = Annotated[int, Field(ge=0, le=2**62)]

# ---------------------------------------------------------------- value sets
Role = Literal["customer", "adviser"]  # the two sides of a conversation (and of a call)
AuthorRole = Literal["customer", "adviser", "system"]
AdviserRole = Literal["adviser", "supervisor", "admin"]
PresenceStatus = Literal["available", "away", "offline"]
ConversationStatus = Literal["queued", "offline", "scheduled", "active", "ended"]
ConversationKind = Literal["chat", "message", "callback"]
CallStatus = Literal["ringing", "active"]
MediaKind = Literal["audio", "video", "screen"]
EventKind = Literal[
    "conversation.created",
    "conversation.accepted",
    "conversation.ended",
    "chat.message",
    "call.requested",
    "call.started",
    "call.declined",
    "call.media",
    "call.ended",
    "conversation.transferred",
    "consultant.joined",
    "consultant.left",
    "note.internal",
    "appointment.moved",
    "document.shared",
    "document.rights",
    "document.presented",
    "stage.cleared",
    "annotation.added",
    "annotation.cleared",
    "video.control",
    "snapshot.requested",
    "snapshot.declined",
    "cobrowse.requested",
    "cobrowse.started",
    "cobrowse.declined",
    "cobrowse.control_requested",
    "cobrowse.control_granted",
    "cobrowse.control_declined",
    "cobrowse.control_revoked",
    "cobrowse.ended",
    "form.opened",
    "form.changed",
    "form.submitted",
    "form.confirmed",
    "form.cancelled",
    # privacy/subject.py: an erasure request erased content and kept what the law keeps
    "conversation.erased",
    "recording.requested",
    "recording.consented",
    "recording.declined",
    "recording.started",
    "recording.stopped",
    "recording.ready",
    "recording.failed",
    "signature.requested",
    "signature.signed",
    "signature.completed",
    "signature.declined",
    "signature.cancelled",
    "signature.failed",
]
# Collaboration in the room (protocol/collab.py)
DocumentKind = Literal["pdf", "image", "video"]
DocumentSource = Literal["upload", "library", "snapshot", "form", "signed"]
AnnotationTool = Literal["pen", "arrow", "highlighter", "text"]
AnnotationColor = Literal["red", "yellow", "blue", "green", "black"]
VideoAction = Literal["play", "pause", "seek"]
PointerSurface = Literal["document", "video"]
# Co-browsing (protocol/cobrowse.py)
CobrowseEndReason = Literal["customer", "adviser", "conversation_ended", "transferred"]
CobrowseInputAction = Literal["click", "scroll", "type", "key"]
# The keys an adviser in control may press besides typing text (no shortcuts:
# nothing that could reach the browser's own commands).
CobrowseKey = Literal[
    "Backspace",
    "Delete",
    "Enter",
    "Tab",
    "Escape",
    "ArrowLeft",
    "ArrowRight",
    "ArrowUp",
    "ArrowDown",
    "Home",
    "End",
]
# Recording a call (protocol/recording.py)
RecordingStopReason = Literal[
    "stopped", "withdrawn", "call_ended", "conversation_ended", "transferred"
]
# Forms filled in together (protocol/forms.py)
FormFieldKind = Literal[
    "text",
    "textarea",
    "number",
    "money",
    "date",
    "select",
    "radio",
    "checkbox",
    "email",
    "phone",
    "iban",
    "bic",
    "postcode_de",
]
FormStatus = Literal["open", "submitted", "confirmed", "cancelled"]
FormErrorCode = Literal[
    "required",
    "type",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "min_length",
    "max_length",
    "enum",
    "invalid",
]

# name -> Literal, for the TypedDict generator (a Literal carries no name at runtime)
NAMED_LITERALS: dict[str, object] = {
    "Role": Role,
    "AuthorRole": AuthorRole,
    "AdviserRole": AdviserRole,
    "PresenceStatus": PresenceStatus,
    "ConversationStatus": ConversationStatus,
    "ConversationKind": ConversationKind,
    "CallStatus": CallStatus,
    "MediaKind": MediaKind,
    "EventKind": EventKind,
    "DocumentKind": DocumentKind,
    "DocumentSource": DocumentSource,
    "AnnotationTool": AnnotationTool,
    "AnnotationColor": AnnotationColor,
    "VideoAction": VideoAction,
    "PointerSurface": PointerSurface,
    "CobrowseEndReason": CobrowseEndReason,
    "CobrowseInputAction": CobrowseInputAction,
    "CobrowseKey": CobrowseKey,
    "RecordingStopReason": RecordingStopReason,
    "FormFieldKind": FormFieldKind,
    "FormStatus": FormStatus,
    "FormErrorCode": FormErrorCode,
}


# ---------------------------------------------------------------- envelopes
class ConsentText(BaseModel):
    """A versioned consent text in both languages (signing, recording): what a person
    ticks, its version written into the log with their consent."""

    model_config = ConfigDict(extra="forbid")
    version: str
    de: str
    en: str


class ClientBase(BaseModel):
    """Every client frame: the version and the optional id echoed in the answer.

    Strict: a JSON string is not an int nor a bool (`"after_seq": "0"`, `"active":
    "yes"` are refused, not coerced). On the wire `v` must be given
    (`validate_client_frame`); the default is for messages the server builds."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    v: Literal[1] = 1
    id: FrameId | None = None


class ServerBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: Literal[1] = 1


# ---------------------------------------------------------------- WebRTC, both ways
class SessionDescription(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: Annotated[str, Field(max_length=30_000)] = ""


class IceCandidate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    candidate: Annotated[str, Field(max_length=1000)]
    sdpMid: Annotated[str, Field(max_length=64)] | None = None  # WebRTC names
    sdpMLineIndex: Annotated[int, Field(ge=0, le=64)] | None = None
    usernameFragment: Annotated[str, Field(max_length=256)] | None = None
