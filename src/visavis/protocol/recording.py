"""Recording a call: the consent steps (client messages), the SDP exchange of each
browser's send-only connection to the recorder, and the typed bodies of the events.

Every step is an event of the conversation: asked (with the consent text shown, in
both languages, and its version), each participant's consent (with the text version
they agreed to; the event's time is the consent's time) or refusal, started, stopped
(who, why), and the finished files (ready) or a failure. The SDP offer and answer are
not stored: they go from the browser over its WebSocket to the server, which hands
the offer to the recorder (the browser never talks to the recorder's API).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from visavis.protocol.common import (
    CallId,
    ClientBase,
    ConsentText,
    ConversationId,
    EventKind,
    RecordingStopReason,
    Role,
    ServerBase,
    SessionDescription,
)

RecordingId = Annotated[str, Field(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
TextVersion = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")]


class _Strict(ClientBase):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- event bodies
class RecordingRequestedBody(_Body):
    """`recording.requested`: the adviser asks to record the running call."""

    recording_id: str
    call_id: str
    consent: ConsentText


class RecordingConsentedBody(_Body):
    """`recording.consented`: one participant agreed to `text_version` (at the event's
    time)."""

    recording_id: str
    role: Role
    text_version: str


class RecordingDeclinedBody(_Body):
    """`recording.declined`: one participant said no; nothing was recorded."""

    recording_id: str
    role: Role


class RecordingStartedBody(_Body):
    """`recording.started`: everyone consented; each browser now opens its send-only
    connection to the recorder."""

    recording_id: str


class RecordingStoppedBody(_Body):
    """`recording.stopped`: the browsers close their connections to the recorder."""

    recording_id: str
    reason: RecordingStopReason
    by: Role | Literal["system"]


class RecordedFile(_Body):
    participant: Role
    bytes: int
    duration_s: float


class RecordingReadyBody(_Body):
    """`recording.ready`: the files are processed and stored encrypted."""

    recording_id: str
    files: list[RecordedFile]


class RecordingFailedBody(_Body):
    """`recording.failed`: processing failed; what was recorded is kept for the operator."""

    recording_id: str
    reason: str


RECORDING_EVENT_BODIES: dict[EventKind, type[BaseModel]] = {
    "recording.requested": RecordingRequestedBody,
    "recording.consented": RecordingConsentedBody,
    "recording.declined": RecordingDeclinedBody,
    "recording.started": RecordingStartedBody,
    "recording.stopped": RecordingStoppedBody,
    "recording.ready": RecordingReadyBody,
    "recording.failed": RecordingFailedBody,
}


# ---------------------------------------------------------------- client → server
class RecordingRequest(_Strict):
    """The conversation's adviser: ask to record the running call."""

    type: Literal["recording.request"]
    conversation_id: ConversationId
    call_id: CallId


class RecordingConsent(_Strict):
    """A participant: agree to the consent text of `text_version`."""

    type: Literal["recording.consent"]
    conversation_id: ConversationId
    recording_id: RecordingId
    text_version: TextVersion


class RecordingDecline(_Strict):
    """A participant: refuse, while asked."""

    type: Literal["recording.decline"]
    conversation_id: ConversationId
    recording_id: RecordingId


class RecordingWithdraw(_Strict):
    """A participant: withdraw the consent; the recording stops at once."""

    type: Literal["recording.withdraw"]
    conversation_id: ConversationId
    recording_id: RecordingId


class RecordingStop(_Strict):
    """The adviser: stop recording."""

    type: Literal["recording.stop"]
    conversation_id: ConversationId
    recording_id: RecordingId


class RecordingOffer(_Strict):
    """A participant, while recording: the SDP offer (all candidates gathered) of the
    send-only connection to the recorder; answered with `recording.answer`."""

    type: Literal["recording.offer"]
    conversation_id: ConversationId
    recording_id: RecordingId
    description: SessionDescription


RECORDING_CLIENT_MESSAGES: tuple[type[ClientBase], ...] = (
    RecordingRequest,
    RecordingConsent,
    RecordingDecline,
    RecordingWithdraw,
    RecordingStop,
    RecordingOffer,
)


# ---------------------------------------------------------------- server → client
class RecordingAnswer(ServerBase):
    """To the sender of `recording.offer`: the recorder's answer."""

    type: Literal["recording.answer"]
    id: str | None = None
    conversation_id: str
    recording_id: str
    description: SessionDescription


RECORDING_SERVER_MESSAGES: tuple[type[ServerBase], ...] = (RecordingAnswer,)
