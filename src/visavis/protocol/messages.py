"""Message schemas of the WebSocket protocol (version 1).

Envelope: every frame is one JSON object with `v` (protocol version), `type`,
and for client commands an `id` the server echoes in its `ack` or `error`.
Client frames are validated strictly (unknown fields are refused) so that a
typo in a client shows up as an error instead of being silently ignored.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from visavis.errors import VisavisError

PROTOCOL_VERSION = 1
# SDP offers with audio+video from Chromium are 6-12 KB; 32 KiB leaves room.
MAX_FRAME_BYTES = 32 * 1024
MAX_TEXT_CHARS = 4000

ConversationId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
CallId = Annotated[str, Field(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
ClientId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
FrameId = Annotated[str, Field(min_length=1, max_length=64)]
Seq = Annotated[int, Field(ge=0, le=2**62)]


class _Client(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = 1
    id: FrameId | None = None


# ---------------------------------------------------------------- client -> server
class Hello(_Client):
    """First frame on every socket. Customers authenticate with their conversation
    token; advisers are authenticated by their session cookie at the upgrade."""

    type: Literal["hello"]
    token: str | None = Field(default=None, max_length=512)


class Subscribe(_Client):
    """Receive the conversation's events after `after_seq`, then live ones."""

    type: Literal["subscribe"]
    conversation_id: ConversationId
    after_seq: Seq = 0


class ChatSend(_Client):
    """Post a chat message. `client_id` makes a resend after reconnect idempotent."""

    type: Literal["chat.send"]
    conversation_id: ConversationId
    client_id: ClientId
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]


class Typing(_Client):
    """Ephemeral: the sender is (or stopped) typing. Not stored."""

    type: Literal["typing"]
    conversation_id: ConversationId
    active: bool


class Receipt(_Client):
    """The sender has received (`delivered_seq`) / shown (`read_seq`) events up to seq."""

    type: Literal["receipt"]
    conversation_id: ConversationId
    delivered_seq: Seq | None = None
    read_seq: Seq | None = None


class ConversationEnd(_Client):
    """End the conversation (customer or its adviser)."""

    type: Literal["conversation.end"]
    conversation_id: ConversationId


class ConversationAccept(_Client):
    """Adviser only: take a waiting conversation from the queue."""

    type: Literal["conversation.accept"]
    conversation_id: ConversationId


class QueueNext(_Client):
    """Adviser only: take the conversation that has waited longest."""

    type: Literal["queue.next"]


class StatusSet(_Client):
    """Adviser only: set presence."""

    type: Literal["status.set"]
    status: Literal["available", "away"]


class CallRequest(_Client):
    """Ask the other side for an audio or video call in this conversation."""

    type: Literal["call.request"]
    conversation_id: ConversationId
    media: Literal["audio", "video"]


class CallAnswer(_Client):
    """Accept or decline the other side's call request."""

    type: Literal["call.answer"]
    conversation_id: ConversationId
    call_id: CallId
    accept: bool


class CallHangup(_Client):
    """End (or cancel) the current call; the conversation goes on as text."""

    type: Literal["call.hangup"]
    conversation_id: ConversationId
    call_id: CallId


class CallMedia(_Client):
    """The sender's own media in the call changed (camera/microphone/screen on or off)."""

    type: Literal["call.media"]
    conversation_id: ConversationId
    call_id: CallId
    audio: bool
    video: bool
    screen: bool = False


class CallTake(_Client):
    """Move this side of the running call to this socket (another tab or device of the
    same participant holds it now); the old socket gets `call.moved`."""

    type: Literal["call.take"]
    conversation_id: ConversationId
    call_id: CallId


class SessionDescription(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: Annotated[str, Field(max_length=30_000)] = ""


class IceCandidate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    candidate: Annotated[str, Field(max_length=1000)]
    sdpMid: Annotated[str, Field(max_length=64)] | None = None  # WebRTC names
    sdpMLineIndex: Annotated[int, Field(ge=0, le=64)] | None = None
    usernameFragment: Annotated[str, Field(max_length=256)] | None = None


class RtcSignal(_Client):
    """WebRTC negotiation (perfect negotiation): relayed to the other participant only."""

    type: Literal["rtc.signal"]
    conversation_id: ConversationId
    call_id: CallId
    description: SessionDescription | None = None
    candidate: IceCandidate | None = None


class IceRequest(_Client):
    """Ask for ICE servers (with short-lived TURN credentials) for this conversation."""

    type: Literal["ice.request"]
    conversation_id: ConversationId


class TransferStart(_Client):
    """Adviser: hand the conversation on — blind (at once) or consultative (the
    colleague joins first) — to a colleague, or blind back to a team's queue."""

    type: Literal["transfer.start"]
    conversation_id: ConversationId
    mode: Literal["blind", "consultative"]
    to_adviser_id: Annotated[str, Field(max_length=32)] | None = None
    to_team_id: Annotated[str, Field(max_length=32)] | None = None


class TransferFinish(_Client):
    """End a consultative transfer: complete (the colleague takes over) or cancel."""

    type: Literal["transfer.finish"]
    conversation_id: ConversationId
    complete: bool


class NoteSend(_Client):
    """Adviser: an internal note to the other adviser(s); never shown to the customer."""

    type: Literal["note.send"]
    conversation_id: ConversationId
    client_id: ClientId
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]


class OfferDecline(_Client):
    """Adviser: decline a conversation the server offered; it moves on to a colleague."""

    type: Literal["offer.decline"]
    conversation_id: ConversationId


class Ping(_Client):
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
    | Ping,
    Field(discriminator="type"),
]

CLIENT_MESSAGES: dict[str, type[_Client]] = {
    m.model_fields["type"].annotation.__args__[0]: m  # type: ignore[union-attr]
    for m in (
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
    )
}

_client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def parse_client_frame(raw: str | bytes) -> ClientMessage:
    """Check one frame; raise VisavisError with a stable code if it is not acceptable."""
    if len(raw) > MAX_FRAME_BYTES:
        raise VisavisError("frame_too_large", f"frame is {len(raw)} bytes, limit {MAX_FRAME_BYTES}")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VisavisError("bad_json", f"frame is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise VisavisError("bad_request", "frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_MESSAGES:
        raise VisavisError("unknown_type", f"unknown message type {kind!r}")
    try:
        return _client_adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "frame"
        raise VisavisError("bad_request", f"{kind}: {where}: {first['msg']}") from None


def frame_id_of(raw: str | bytes) -> str | None:
    """Best-effort `id` of a frame that failed validation, to echo in the error."""
    try:
        data: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    fid = data.get("id") if isinstance(data, dict) else None
    return fid if isinstance(fid, str) and len(fid) <= 64 else None


# ---------------------------------------------------------------- server -> client
class _Server(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: Literal[1] = 1


class Author(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["customer", "adviser", "system"]
    id: str | None = None
    name: str | None = None


class ConversationSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    status: Literal["queued", "offline", "scheduled", "active", "ended"]
    customer_name: str | None
    topic: str | None
    language: str | None
    team_id: str | None = None
    kind: Literal["chat", "message", "callback"] = "chat"
    contact: str | None = None
    adviser: Author | None
    consultant: Author | None = None
    created_at: str
    queued_at: str | None
    accepted_at: str | None
    ended_at: str | None
    last_seq: int
    customer_delivered_seq: int
    customer_read_seq: int
    adviser_delivered_seq: int
    adviser_read_seq: int
    call: CallSummary | None = None


class CallSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    status: Literal["ringing", "active"]
    media: Literal["audio", "video"]
    requested_by: Literal["customer", "adviser"]
    requested_at: str | None
    started_at: str | None


class QueueEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_id: str
    customer_name: str | None
    topic: str | None
    language: str | None
    queued_at: str
    preview: str | None
    team_id: str | None = None
    kind: Literal["chat", "message", "callback"] = "chat"
    contact: str | None = None
    requested_adviser_id: str | None = None


class AdviserInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    email: str
    role: Literal["adviser", "supervisor", "admin"]
    status: Literal["available", "away", "offline"]
    max_chats: int


class AdviserState(BaseModel):
    """One adviser in the supervisors' overview, as `GET /api/v1/advisers` lists them."""

    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    role: Literal["adviser", "supervisor", "admin"]
    status: Literal["available", "away", "offline"]
    active: int
    max_chats: int
    teams: list[str]


class Welcome(_Server):
    """Answer to `hello`: who the socket is and what it may see."""

    type: Literal["welcome"]
    id: str | None = None
    role: Literal["customer", "adviser"]
    conversation: ConversationSummary | None = None
    adviser: AdviserInfo | None = None
    conversations: list[ConversationSummary] | None = None
    heartbeat_s: int


class Event(_Server):
    """A durable event of a conversation's log, in `seq` order, exactly once per socket."""

    type: Literal["event"]
    conversation_id: str
    seq: int
    kind: Literal[
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
    ]
    author: Author
    body: dict[str, Any]
    client_id: str | None = None
    at: str
    prev_seq: int | None = None


class Subscribed(_Server):
    """All events up to `last_seq` have been sent; live events follow."""

    type: Literal["subscribed"]
    id: str | None = None
    conversation: ConversationSummary


class Ack(_Server):
    """The command `id` was accepted; for `chat.send`, `seq` is the stored event's seq."""

    type: Literal["ack"]
    id: str | None = None
    conversation_id: str | None = None
    seq: int | None = None


class Error(_Server):
    """The command `id` (if known) was refused; nothing else changed."""

    type: Literal["error"]
    id: str | None = None
    code: str
    message: str


class TypingOut(_Server):
    """Someone else in the conversation is (or stopped) typing."""

    type: Literal["typing"]
    conversation_id: str
    author: Author
    active: bool


class ReceiptOut(_Server):
    """The other side's delivered/read marks for a conversation."""

    type: Literal["receipt"]
    conversation_id: str
    role: Literal["customer", "adviser"]
    delivered_seq: int
    read_seq: int


class QueuePosition(_Server):
    """To a waiting customer: 1-based position and how many wait in all."""

    type: Literal["queue.position"]
    conversation_id: str
    position: int
    waiting: int
    advisers_available: int
    estimate_s: float | None = None


class QueueSnapshot(_Server):
    """To advisers: the whole queue, oldest first, sent whenever it changes."""

    type: Literal["queue.snapshot"]
    entries: list[QueueEntry]
    offline: list[QueueEntry] = []
    advisers_available: int


class ConversationAssigned(_Server):
    """To an adviser's sockets: a conversation is now theirs (already subscribed)."""

    type: Literal["conversation.assigned"]
    conversation: ConversationSummary


class ConversationUpdate(_Server):
    """A conversation's summary changed (accepted, ended)."""

    type: Literal["conversation.update"]
    conversation: ConversationSummary


class AdviserStatus(_Server):
    """To an adviser's sockets: own presence and load."""

    type: Literal["adviser.status"]
    status: Literal["available", "away", "offline"]
    active: int
    max_chats: int


class OverviewSnapshot(_Server):
    """To supervisors' and admins' sockets: every adviser with status and load, and the
    conversations running now; after `welcome` and whenever one of them changes."""

    type: Literal["overview.snapshot"]
    advisers: list[AdviserState]
    conversations: list[ConversationSummary]


class RtcSignalOut(_Server):
    """WebRTC negotiation from the other participant of the call."""

    type: Literal["rtc.signal"]
    conversation_id: str
    call_id: str
    from_role: Literal["customer", "adviser"]
    description: SessionDescription | None = None
    candidate: IceCandidate | None = None


class CallMoved(_Server):
    """This side of the call is held by another socket of the same participant (another
    tab or device): close the peer connection here. Sent to the socket that held it
    when another one takes it over (`call.take`), and to a socket whose `rtc.signal`
    was refused for that reason (`call_elsewhere`)."""

    type: Literal["call.moved"]
    conversation_id: str
    call_id: str


class IceServers(_Server):
    """Answer to `ice.request`: an RTCConfiguration's ICE part."""

    type: Literal["ice.servers"]
    id: str | None = None
    conversation_id: str
    ice_servers: list[dict[str, Any]]
    ice_transport_policy: Literal["all", "relay"]
    ttl_s: int


class ConversationOffered(_Server):
    """To one adviser: please take this waiting customer (accept with
    `conversation.accept`, or `offer.decline`); it moves on after `expires_in_s`."""

    type: Literal["conversation.offered"]
    conversation_id: str
    customer_name: str | None
    topic: str | None
    preview: str | None
    expires_in_s: float


class OfferWithdrawn(_Server):
    """The offer ended: taken by someone, the customer left, declined or timed out."""

    type: Literal["offer.withdrawn"]
    conversation_id: str


class Pong(_Server):
    type: Literal["pong"]
    id: str | None = None


SERVER_MESSAGES: dict[str, type[_Server]] = {
    m.model_fields["type"].annotation.__args__[0]: m  # type: ignore[union-attr]
    for m in (
        Welcome,
        Event,
        Subscribed,
        Ack,
        Error,
        TypingOut,
        ReceiptOut,
        QueuePosition,
        QueueSnapshot,
        ConversationAssigned,
        ConversationUpdate,
        AdviserStatus,
        OverviewSnapshot,
        RtcSignalOut,
        CallMoved,
        IceServers,
        ConversationOffered,
        OfferWithdrawn,
        Pong,
    )
}
