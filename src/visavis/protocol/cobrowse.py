"""Co-browsing: the customer's own tab on the company's website, mirrored live to the
adviser with rrweb — the client messages, the relayed server frames and the typed
bodies of the events its steps add.

The steps (asked, consented, declined, control asked / granted / declined / revoked,
ended) are events of the conversation, so both sides and a reload know the state
from the log. The mirror stream (`cobrowse.batch`), the adviser's pointer and the
control inputs are ephemeral: relayed, never stored and never logged (they show
what is on the customer's screen).

Client messages are validated in pydantic's strict mode (no `"1"` for `1`): their
numbers end up as coordinates and scroll distances in the other side's browser. The
rrweb events inside a batch are opaque JSON objects to the server: it bounds their
size and count, the adviser's replayer reads them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from visavis.protocol.collab import FromAuthor
from visavis.protocol.common import (
    ClientBase,
    CobrowseEndReason,
    CobrowseInputAction,
    CobrowseKey,
    ConversationId,
    EventKind,
    ServerBase,
)

# The mirror is one DEFLATE stream (raw, RFC 1951) per page snapshot, made in the
# customer's browser: each chunk carries the stream's next bytes up to a sync flush, at
# most MAX_CHUNK_BYTES, in a binary frame (protocol/mirror_frame.py); the advisers get it
# base64-encoded in a `cobrowse.batch` frame (at most MAX_CHUNK_CHARS). Inflated, the stream is the
# JSON text of one rrweb events array per line. Compressing with the stream's context
# shrinks rrweb's JSON five- to tenfold while the server keeps no per-socket
# compression state (permessage-deflate would cost every idle socket tens of KB).
MAX_BATCH_FRAME_BYTES = 64 * 1024
MAX_CHUNK_BYTES = 45_000
MAX_CHUNK_CHARS = 60_000  # MAX_CHUNK_BYTES in base64
MAX_LINE_BYTES = 8 * 1024 * 1024  # one batch inflated (a large page's snapshot)
MAX_INPUT_TEXT = 200

# CSS pixels on the customer's screen (a viewport is far below this) and deltas.
Coordinate = Annotated[float, Field(ge=0.0, le=100_000.0, allow_inf_nan=False)]
Delta = Annotated[float, Field(ge=-100_000.0, le=100_000.0, allow_inf_nan=False)]
NodeId = Annotated[int, Field(ge=0, le=2**31 - 1)]  # rrweb's id of a mirrored node
EpochMs = Annotated[float, Field(gt=0.0, lt=1e14, allow_inf_nan=False)]
PartId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class _Strict(ClientBase):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- event bodies
class CobrowseRequestedBody(_Body):
    """`cobrowse.requested`: the adviser asks to see the customer's tab."""


class CobrowseStartedBody(_Body):
    """`cobrowse.started`: the customer consented to share this tab of this website."""


class CobrowseDeclinedBody(_Body):
    """`cobrowse.declined`: the customer said no; co-browsing is idle again."""


class CobrowseControlRequestedBody(_Body):
    """`cobrowse.control_requested`: the adviser asks to click, scroll and type."""


class CobrowseControlGrantedBody(_Body):
    """`cobrowse.control_granted`: the customer lets the adviser act in the tab."""


class CobrowseControlDeclinedBody(_Body):
    """`cobrowse.control_declined`: the customer keeps control; co-browsing goes on."""


class CobrowseControlRevokedBody(_Body):
    """`cobrowse.control_revoked`: the customer took control back; co-browsing goes on."""


class CobrowseEndedBody(_Body):
    """`cobrowse.ended`: the mirror stopped (who ended it, or the conversation ended)."""

    reason: CobrowseEndReason


EVENT_BODIES: dict[EventKind, type[BaseModel]] = {
    "cobrowse.requested": CobrowseRequestedBody,
    "cobrowse.started": CobrowseStartedBody,
    "cobrowse.declined": CobrowseDeclinedBody,
    "cobrowse.control_requested": CobrowseControlRequestedBody,
    "cobrowse.control_granted": CobrowseControlGrantedBody,
    "cobrowse.control_declined": CobrowseControlDeclinedBody,
    "cobrowse.control_revoked": CobrowseControlRevokedBody,
    "cobrowse.ended": CobrowseEndedBody,
}
"""The typed body of each co-browsing event kind (the TypeScript `EventBodyMap`)."""


# ---------------------------------------------------------------- client → server
class CobrowseRequest(_Strict):
    """Adviser: ask the customer to share their tab."""

    type: Literal["cobrowse.request"]
    conversation_id: ConversationId


class CobrowseAnswer(_Strict):
    """Customer: consent (`accept`) or decline, while asked."""

    type: Literal["cobrowse.answer"]
    conversation_id: ConversationId
    accept: bool


class CobrowseControlRequest(_Strict):
    """Adviser: ask for control (click, scroll, type), while co-browsing runs."""

    type: Literal["cobrowse.control_request"]
    conversation_id: ConversationId


class CobrowseControlAnswer(_Strict):
    """Customer: grant or decline control, while asked."""

    type: Literal["cobrowse.control_answer"]
    conversation_id: ConversationId
    accept: bool


class CobrowseControlRevoke(_Strict):
    """Customer: take control back; co-browsing goes on."""

    type: Literal["cobrowse.control_revoke"]
    conversation_id: ConversationId


class CobrowseEnd(_Strict):
    """Either side: stop co-browsing (or withdraw the request)."""

    type: Literal["cobrowse.end"]
    conversation_id: ConversationId


Chunk = Annotated[bytes, Field(min_length=1, max_length=MAX_CHUNK_BYTES)]
StreamId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ChunkNo = Annotated[int, Field(ge=0, le=2**31 - 1)]


class CobrowseBatch(_Strict):
    """Customer: the next chunk of the mirror stream, relayed to the conversation's
    advisers. `n` counts from 0 within `stream`; chunk 0 begins a new stream (with a
    page's full snapshot), so a receiver that missed a chunk waits for the next one.
    It arrives as a binary frame (protocol/mirror_frame.py), never as JSON."""

    type: Literal["cobrowse.batch"]
    conversation_id: ConversationId
    sent_at: EpochMs
    stream: StreamId
    n: ChunkNo
    data: Chunk


class CobrowsePointer(_Strict):
    """Adviser: where they point on the mirror, in the customer's viewport CSS px."""

    type: Literal["cobrowse.pointer"]
    conversation_id: ConversationId
    x: Coordinate
    y: Coordinate
    visible: bool


INPUT_KEYS = ("target", "x", "y", "dx", "dy", "text", "key")
# action -> (fields it needs, fields it may have)
INPUT_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "click": (frozenset({"x", "y"}), frozenset({"x", "y", "target"})),
    "scroll": (frozenset({"dx", "dy"}), frozenset({"dx", "dy", "target"})),
    "type": (frozenset({"target", "text"}), frozenset({"target", "text"})),
    "key": (frozenset({"target", "key"}), frozenset({"target", "key"})),
}


class CobrowseInput(_Strict):
    """Adviser, with control granted: one action in the customer's tab. `click`: `x`,
    `y` (and the node under them as `target`, if known); `scroll`: `dx`, `dy` on
    `target` (`null`: the page); `type`: `text` into `target`; `key`: `key` on
    `target`."""

    type: Literal["cobrowse.input"]
    conversation_id: ConversationId
    action: CobrowseInputAction
    target: NodeId | None = None
    x: Coordinate | None = None
    y: Coordinate | None = None
    dx: Delta | None = None
    dy: Delta | None = None
    text: Annotated[str, Field(min_length=1, max_length=MAX_INPUT_TEXT)] | None = None
    key: CobrowseKey | None = None

    @model_validator(mode="after")
    def _fields_of_action(self) -> CobrowseInput:
        needed, allowed = INPUT_FIELDS[self.action]
        given = {k for k in INPUT_KEYS if getattr(self, k) is not None}
        if missing := needed - given:
            raise ValueError(f"{self.action} needs {', '.join(sorted(missing))}")
        if extra := given - allowed:
            raise ValueError(f"{self.action} takes no {', '.join(sorted(extra))}")
        return self


class CobrowseResync(_Strict):
    """Adviser: the mirror needs a fresh snapshot (the console was reloaded, a
    colleague joined, a part was lost); relayed to the customer."""

    type: Literal["cobrowse.resync"]
    conversation_id: ConversationId


COBROWSE_CLIENT_MESSAGES: tuple[type[ClientBase], ...] = (
    CobrowseRequest,
    CobrowseAnswer,
    CobrowseControlRequest,
    CobrowseControlAnswer,
    CobrowseControlRevoke,
    CobrowseEnd,
    CobrowsePointer,
    CobrowseInput,
    CobrowseResync,
)
# Never stored, never logged; each kind has its own rate budget (web/ws_cobrowse.py).
COBROWSE_RELAY_TYPES = frozenset(
    {"cobrowse.batch", "cobrowse.pointer", "cobrowse.input", "cobrowse.resync"}
)


# ---------------------------------------------------------------- server → client
class CobrowseBatchOut(ServerBase):
    """To the conversation's advisers: the mirror stream's chunks, in order."""

    type: Literal["cobrowse.batch"]
    conversation_id: str
    sent_at: float
    stream: str
    n: int
    data: str


class CobrowsePointerOut(ServerBase):
    """To the customer: the adviser's pointer (latest only; bursts are coalesced)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["cobrowse.pointer"]
    conversation_id: str
    from_: FromAuthor = Field(alias="from")
    x: float
    y: float
    visible: bool


class CobrowseInputOut(ServerBase):
    """To the customer: a control input of the adviser, checked against the granted
    control by the server (the customer's browser checks again before acting)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["cobrowse.input"]
    conversation_id: str
    from_: FromAuthor = Field(alias="from")
    action: CobrowseInputAction
    target: int | None
    x: float | None
    y: float | None
    dx: float | None
    dy: float | None
    text: str | None
    key: CobrowseKey | None


class CobrowseResyncOut(ServerBase):
    """To the customer: record a full snapshot again (an adviser's mirror needs one)."""

    type: Literal["cobrowse.resync"]
    conversation_id: str


COBROWSE_SERVER_MESSAGES: tuple[type[ServerBase], ...] = (
    CobrowseBatchOut,
    CobrowsePointerOut,
    CobrowseInputOut,
    CobrowseResyncOut,
)
