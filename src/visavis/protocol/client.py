"""Client → server messages (protocol version 1) and how a frame is checked.

Envelope: every frame is one JSON object with `v` (protocol version), `type`, and for
client commands an `id` the server echoes in its `ack` or `error`. Client frames are
validated strictly (unknown fields are refused) so that a typo in a client shows up as
an error instead of being silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import Field, ValidationError

from visavis.errors import VisavisError
from visavis.protocol.cobrowse import (
    COBROWSE_CLIENT_MESSAGES,
    MAX_BATCH_FRAME_BYTES,
    CobrowseAnswer,
    CobrowseBatch,
    CobrowseControlAnswer,
    CobrowseControlRequest,
    CobrowseControlRevoke,
    CobrowseEnd,
    CobrowseInput,
    CobrowsePointer,
    CobrowseRequest,
    CobrowseResync,
)
from visavis.protocol.collab import (
    COLLAB_CLIENT_MESSAGES,
    AnnotationAdd,
    AnnotationClear,
    DocPresent,
    DocRights,
    DocShare,
    DocView,
    Pointer,
    SnapshotDecline,
    SnapshotRequest,
    StageClear,
    VideoControl,
)
from visavis.protocol.common import (
    MAX_FRAME_BYTES,
    MAX_TEXT_CHARS,
    CallId,
    ClientBase,
    ClientId,
    ConversationId,
    IceCandidate,
    MediaKind,
    Seq,
    SessionDescription,
)
from visavis.protocol.forms import (
    FORM_CLIENT_MESSAGES,
    FormCancel,
    FormChange,
    FormConfirm,
    FormFocus,
    FormOpen,
    FormSubmit,
)
from visavis.protocol.mirror_frame import is_mirror_frame, mirror_frame_id
from visavis.protocol.recording import (
    RECORDING_CLIENT_MESSAGES,
    RecordingConsent,
    RecordingDecline,
    RecordingOffer,
    RecordingRequest,
    RecordingStop,
    RecordingWithdraw,
)
from visavis.protocol.signing import (
    MAX_SIGN_FRAME_BYTES,
    SIGNING_CLIENT_MESSAGES,
    SignatureCancel,
    SignatureDecline,
    SignatureRequest,
    SignatureSign,
)
from visavis.protocol.wire import loads


class Hello(ClientBase):
    """First frame on every socket. Customers authenticate with their conversation
    token; advisers are authenticated by their session cookie at the upgrade."""

    type: Literal["hello"]
    token: str | None = Field(default=None, max_length=512)


class Subscribe(ClientBase):
    """Receive the conversation's events after `after_seq`, then live ones."""

    type: Literal["subscribe"]
    conversation_id: ConversationId
    after_seq: Seq = 0


class ChatSend(ClientBase):
    """Post a chat message. `client_id` makes a resend after reconnect idempotent."""

    type: Literal["chat.send"]
    conversation_id: ConversationId
    client_id: ClientId
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]


class Typing(ClientBase):
    """Ephemeral: the sender is (or stopped) typing. Not stored."""

    type: Literal["typing"]
    conversation_id: ConversationId
    active: bool


class Receipt(ClientBase):
    """The sender has received (`delivered_seq`) / shown (`read_seq`) events up to seq."""

    type: Literal["receipt"]
    conversation_id: ConversationId
    delivered_seq: Seq | None = None
    read_seq: Seq | None = None


class ConversationEnd(ClientBase):
    """End the conversation (customer or its adviser)."""

    type: Literal["conversation.end"]
    conversation_id: ConversationId


class ConversationAccept(ClientBase):
    """Adviser only: take a waiting conversation from the queue."""

    type: Literal["conversation.accept"]
    conversation_id: ConversationId


class QueueNext(ClientBase):
    """Adviser only: take the conversation that has waited longest."""

    type: Literal["queue.next"]


class StatusSet(ClientBase):
    """Adviser only: set presence."""

    type: Literal["status.set"]
    status: Literal["available", "away"]


class CallRequest(ClientBase):
    """Ask the other side for an audio or video call in this conversation."""

    type: Literal["call.request"]
    conversation_id: ConversationId
    media: MediaKind


class CallAnswer(ClientBase):
    """Accept or decline the other side's call request."""

    type: Literal["call.answer"]
    conversation_id: ConversationId
    call_id: CallId
    accept: bool


class CallHangup(ClientBase):
    """End (or cancel) the current call; the conversation goes on as text."""

    type: Literal["call.hangup"]
    conversation_id: ConversationId
    call_id: CallId


class CallMedia(ClientBase):
    """The sender's own media in the call changed (camera/microphone/screen on or off)."""

    type: Literal["call.media"]
    conversation_id: ConversationId
    call_id: CallId
    audio: bool
    video: bool
    screen: bool = False


class CallTake(ClientBase):
    """Move this side of the running call to this socket (another tab or device of the
    same participant holds it now); the old socket gets `call.moved`."""

    type: Literal["call.take"]
    conversation_id: ConversationId
    call_id: CallId


class RtcSignal(ClientBase):
    """WebRTC negotiation (perfect negotiation): relayed to the other participant only."""

    type: Literal["rtc.signal"]
    conversation_id: ConversationId
    call_id: CallId
    description: SessionDescription | None = None
    candidate: IceCandidate | None = None


class IceRequest(ClientBase):
    """Ask for ICE servers (with short-lived TURN credentials) for this conversation."""

    type: Literal["ice.request"]
    conversation_id: ConversationId


class TransferStart(ClientBase):
    """Adviser: hand the conversation on — blind (at once) or consultative (the
    colleague joins first) — to a colleague, or blind back to a team's queue."""

    type: Literal["transfer.start"]
    conversation_id: ConversationId
    mode: Literal["blind", "consultative"]
    to_adviser_id: Annotated[str, Field(max_length=32)] | None = None
    to_team_id: Annotated[str, Field(max_length=32)] | None = None


class TransferFinish(ClientBase):
    """End a consultative transfer: complete (the colleague takes over) or cancel."""

    type: Literal["transfer.finish"]
    conversation_id: ConversationId
    complete: bool


class NoteSend(ClientBase):
    """Adviser: an internal note to the other adviser(s); never shown to the customer."""

    type: Literal["note.send"]
    conversation_id: ConversationId
    client_id: ClientId
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]


class OfferDecline(ClientBase):
    """Adviser: decline a conversation the server offered; it moves on to a colleague."""

    type: Literal["offer.decline"]
    conversation_id: ConversationId


class Ping(ClientBase):
    """Application heartbeat; answered with `pong`."""

    type: Literal["ping"]


ClientMessage = Annotated[
    Hello
    | Subscribe
    | ChatSend
    | Typing
    | Receipt
    | ConversationEnd
    | ConversationAccept
    | QueueNext
    | StatusSet
    | CallRequest
    | CallAnswer
    | CallHangup
    | CallMedia
    | CallTake
    | RtcSignal
    | IceRequest
    | TransferStart
    | TransferFinish
    | NoteSend
    | OfferDecline
    | Ping
    | DocShare
    | DocRights
    | DocPresent
    | StageClear
    | DocView
    | Pointer
    | AnnotationAdd
    | AnnotationClear
    | VideoControl
    | SnapshotRequest
    | SnapshotDecline
    | CobrowseRequest
    | CobrowseAnswer
    | CobrowseControlRequest
    | CobrowseControlAnswer
    | CobrowseControlRevoke
    | CobrowseEnd
    | CobrowsePointer
    | CobrowseInput
    | CobrowseResync
    | FormOpen
    | FormChange
    | FormFocus
    | FormSubmit
    | FormConfirm
    | FormCancel
    | RecordingRequest
    | RecordingConsent
    | RecordingDecline
    | RecordingWithdraw
    | RecordingStop
    | RecordingOffer
    | SignatureRequest
    | SignatureSign
    | SignatureDecline
    | SignatureCancel,
    Field(discriminator="type"),
]
# What the gateway dispatches: a JSON message, or the mirror chunk of the one binary
# frame (protocol/mirror_frame.py).
InboundMessage = ClientMessage | CobrowseBatch

_ALL: tuple[type[ClientBase], ...] = (
    Hello,
    Subscribe,
    ChatSend,
    Typing,
    Receipt,
    ConversationEnd,
    ConversationAccept,
    QueueNext,
    StatusSet,
    CallRequest,
    CallAnswer,
    CallHangup,
    CallMedia,
    CallTake,
    RtcSignal,
    IceRequest,
    TransferStart,
    TransferFinish,
    NoteSend,
    OfferDecline,
    Ping,
    *COLLAB_CLIENT_MESSAGES,
    *COBROWSE_CLIENT_MESSAGES,
    *FORM_CLIENT_MESSAGES,
    *RECORDING_CLIENT_MESSAGES,
    *SIGNING_CLIENT_MESSAGES,
)
CLIENT_MESSAGES: dict[str, type[ClientBase]] = {
    m.model_fields["type"].annotation.__args__[0]: m  # type: ignore[union-attr]
    for m in _ALL
}

# frames that may be larger than MAX_FRAME_BYTES: a signature image (within
# MAX_BATCH_FRAME_BYTES, checked first, the limit of the mirror's binary frames too)
LARGE_FRAME_TYPES: dict[str, int] = {
    "signature.sign": MAX_SIGN_FRAME_BYTES,
}


def parse_client_frame(raw: str | bytes) -> ClientMessage:
    """Check one frame; raise VisavisError with a stable code if it is not acceptable."""
    return validate_client_frame(decode_client_frame(raw))


def decode_client_frame(raw: str | bytes) -> dict[str, Any]:
    """The frame as a JSON object, unchecked (the gateway reads its `type` to pick the
    rate budget before validating). A signature may be larger than other frames: its
    limit is checked once the type is known."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_BATCH_FRAME_BYTES:
        raise VisavisError(
            "frame_too_large", f"frame is {size} bytes, limit {MAX_BATCH_FRAME_BYTES}"
        )
    data = loads(raw)  # bad_json: not JSON, or nested too deep
    if not isinstance(data, dict):
        raise VisavisError("bad_request", "frame must be a JSON object")
    limit = LARGE_FRAME_TYPES.get(str(data.get("type")), MAX_FRAME_BYTES)
    if size > limit:
        raise VisavisError("frame_too_large", f"frame is {size} bytes, limit {limit}")
    return data


def validate_client_frame(data: dict[str, Any]) -> ClientMessage:
    """Check a decoded frame against its message's schema."""
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_MESSAGES:
        raise VisavisError("unknown_type", f"unknown message type {kind!r}")
    if "v" not in data:
        raise VisavisError("bad_request", f"{kind}: v: the protocol version is missing")
    try:
        # strict: JSON has the types the schema names (no "0" for 0, "yes" for true);
        # the type's own model, found above: the union's schema would look it up again
        return cast(ClientMessage, CLIENT_MESSAGES[kind].model_validate(data, strict=True))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "frame"
        raise VisavisError("bad_request", f"{kind}: {where}: {first['msg']}") from None


def frame_id_of(raw: str | bytes) -> str | None:
    """Best-effort `id` of a frame that failed validation, to echo in the error."""
    if isinstance(raw, bytes) and is_mirror_frame(raw):
        return mirror_frame_id(raw)
    try:
        data: Any = loads(raw)
    except VisavisError:
        return None
    fid = data.get("id") if isinstance(data, dict) else None
    return fid if isinstance(fid, str) and len(fid) <= 64 else None
