"""Server → client messages (protocol version 1) and the models they carry
(conversation summaries, queue entries, advisers).

Server frames are built as plain dicts on the hot path and never validated at
runtime; these models are their schema: `docs/protocol.md` is checked against them,
and the TypeScript types (`typescript.py`) and the TypedDicts every frame is typed
with (`frames.py`, by `typeddicts.py`) are generated from them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from visavis.protocol.cobrowse import COBROWSE_SERVER_MESSAGES
from visavis.protocol.collab import COLLAB_SERVER_MESSAGES
from visavis.protocol.common import (
    AdviserRole,
    AuthorRole,
    CallStatus,
    ConversationKind,
    ConversationStatus,
    EventKind,
    IceCandidate,
    MediaKind,
    PresenceStatus,
    Role,
    ServerBase,
    SessionDescription,
)
from visavis.protocol.forms import FORM_SERVER_MESSAGES
from visavis.protocol.recording import RECORDING_SERVER_MESSAGES


class Author(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: AuthorRole
    id: str | None = None
    name: str | None = None


class ConversationSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    status: ConversationStatus
    customer_name: str | None
    topic: str | None
    language: str | None
    team_id: str | None = None
    kind: ConversationKind = "chat"
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
    status: CallStatus
    media: MediaKind
    requested_by: Role
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
    kind: ConversationKind = "chat"
    contact: str | None = None
    requested_adviser_id: str | None = None


class AdviserInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    email: str
    role: AdviserRole
    status: PresenceStatus
    max_chats: int


class AdviserState(BaseModel):
    """One adviser in the supervisors' overview, as `GET /api/v1/advisers` lists them."""

    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    role: AdviserRole
    status: PresenceStatus
    active: int
    max_chats: int
    teams: list[str]


class Welcome(ServerBase):
    """Answer to `hello`: who the socket is and what it may see."""

    type: Literal["welcome"]
    id: str | None = None
    role: Role
    conversation: ConversationSummary | None = None
    adviser: AdviserInfo | None = None
    conversations: list[ConversationSummary] | None = None
    heartbeat_s: int


class Event(ServerBase):
    """A durable event of a conversation's log, in `seq` order, exactly once per socket."""

    type: Literal["event"]
    conversation_id: str
    seq: int
    kind: EventKind
    author: Author
    body: dict[str, Any]  # free-form: each kind has its own fields (docs/protocol.md)
    client_id: str | None = None
    at: str
    prev_seq: int | None = None


class Subscribed(ServerBase):
    """All events up to `last_seq` have been sent; live events follow."""

    type: Literal["subscribed"]
    id: str | None = None
    conversation: ConversationSummary


class Ack(ServerBase):
    """The command `id` was accepted; for `chat.send`, `seq` is the stored event's seq."""

    type: Literal["ack"]
    id: str | None = None
    conversation_id: str | None = None
    seq: int | None = None


class Error(ServerBase):
    """The command `id` (if known) was refused; nothing else changed."""

    type: Literal["error"]
    id: str | None = None
    code: str
    message: str
    details: dict[str, Any] | None = None


class TypingOut(ServerBase):
    """Someone else in the conversation is (or stopped) typing."""

    type: Literal["typing"]
    conversation_id: str
    author: Author
    active: bool


class ReceiptOut(ServerBase):
    """The other side's delivered/read marks for a conversation."""

    type: Literal["receipt"]
    conversation_id: str
    role: Role
    delivered_seq: int
    read_seq: int


class QueuePosition(ServerBase):
    """To a waiting customer: 1-based position and how many wait in all."""

    type: Literal["queue.position"]
    conversation_id: str
    position: int
    waiting: int
    advisers_available: int
    estimate_s: float | None = None


class QueueSnapshot(ServerBase):
    """To advisers: the whole queue, oldest first, sent whenever it changes."""

    type: Literal["queue.snapshot"]
    entries: list[QueueEntry]
    offline: list[QueueEntry] = []
    advisers_available: int


class ConversationAssigned(ServerBase):
    """To an adviser's sockets: a conversation is now theirs (already subscribed)."""

    type: Literal["conversation.assigned"]
    conversation: ConversationSummary


class ConversationUpdate(ServerBase):
    """A conversation's summary changed (accepted, ended)."""

    type: Literal["conversation.update"]
    conversation: ConversationSummary


class AdviserStatus(ServerBase):
    """To an adviser's sockets: own presence and load."""

    type: Literal["adviser.status"]
    status: PresenceStatus
    active: int
    max_chats: int


class OverviewSnapshot(ServerBase):
    """To supervisors' and admins' sockets: every adviser with status and load, and the
    conversations running now; after `welcome` and whenever one of them changes."""

    type: Literal["overview.snapshot"]
    advisers: list[AdviserState]
    conversations: list[ConversationSummary]


class RtcSignalOut(ServerBase):
    """WebRTC negotiation from the other participant of the call."""

    type: Literal["rtc.signal"]
    conversation_id: str
    call_id: str
    from_role: Role
    description: SessionDescription | None = None
    candidate: IceCandidate | None = None


class CallMoved(ServerBase):
    """This side of the call is held by another socket of the same participant (another
    tab or device): close the peer connection here. Sent to the socket that held it
    when another one takes it over (`call.take`), and to a socket whose `rtc.signal`
    was refused for that reason (`call_elsewhere`)."""

    type: Literal["call.moved"]
    conversation_id: str
    call_id: str


class IceServers(ServerBase):
    """Answer to `ice.request`: an RTCConfiguration's ICE part."""

    type: Literal["ice.servers"]
    id: str | None = None
    conversation_id: str
    ice_servers: list[dict[str, Any]]  # RTCIceServer dicts, handed to the browser as they are
    ice_transport_policy: Literal["all", "relay"]
    ttl_s: int


class ConversationOffered(ServerBase):
    """To one adviser: please take this waiting customer (accept with
    `conversation.accept`, or `offer.decline`); it moves on after `expires_in_s`."""

    type: Literal["conversation.offered"]
    conversation_id: str
    customer_name: str | None
    topic: str | None
    preview: str | None
    expires_in_s: float


class OfferWithdrawn(ServerBase):
    """The offer ended: taken by someone, the customer left, declined or timed out."""

    type: Literal["offer.withdrawn"]
    conversation_id: str


class Pong(ServerBase):
    type: Literal["pong"]
    id: str | None = None


_ALL: tuple[type[ServerBase], ...] = (
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
    *COLLAB_SERVER_MESSAGES,
    *COBROWSE_SERVER_MESSAGES,
    *FORM_SERVER_MESSAGES,
    *RECORDING_SERVER_MESSAGES,
)
SERVER_MESSAGES: dict[str, type[ServerBase]] = {
    m.model_fields["type"].annotation.__args__[0]: m  # type: ignore[union-attr]
    for m in _ALL
}
