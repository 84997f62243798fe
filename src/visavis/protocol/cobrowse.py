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

from typing import Annotated, Any, Literal

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

# A batch frame may be up to 64 KiB (other frames: MAX_FRAME_BYTES); the socket's
# transport limit (cli.py, ws_max_size) is above it. A page's first snapshot is
# usually larger: it travels in parts (`part`).
MAX_BATCH_FRAME_BYTES = 64 * 1024
MAX_BATCH_EVENTS = 2000
MAX_PART_CHARS = 60_000
MAX_PARTS = 128  # 128 parts of 60 000 characters: a page snapshot of up to ~7.5 MB
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


# ---------------------------------------------------------------- carried models
class BatchPart(_Body):
    """One slice of the JSON text of an events array too large for one frame (a page's
    snapshot): the receiver joins the `count` slices of one `part_id` in `index` order
    and parses them as the batch's `events`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    part_id: PartId
    index: Annotated[int, Field(ge=0, lt=MAX_PARTS)]
    count: Annotated[int, Field(ge=1, le=MAX_PARTS)]
    data: Annotated[str, Field(min_length=1, max_length=MAX_PART_CHARS)]


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


class CobrowseBatch(_Strict):
    """Customer: recorded rrweb events, relayed to the conversation's advisers. Either
    `events`, or (for one events array too large for a frame) one `part` of it with
    `events` empty."""

    type: Literal["cobrowse.batch"]
    conversation_id: ConversationId
    events: Annotated[list[dict[str, Any]], Field(max_length=MAX_BATCH_EVENTS)]
    sent_at: EpochMs
    part: BatchPart | None = None

    @model_validator(mode="after")
    def _events_or_part(self) -> CobrowseBatch:
        if (self.part is None) == (not self.events):
            raise ValueError("give events, or one part with events empty")
        return self


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
    CobrowseBatch,
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
    """To the conversation's advisers: the customer's recorded events, in order."""

    type: Literal["cobrowse.batch"]
    conversation_id: str
    events: list[dict[str, Any]]
    sent_at: float
    part: BatchPart | None = None


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
