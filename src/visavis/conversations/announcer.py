"""The one place that tells everyone what a write appended — after its commit.

A feature never publishes by hand: it appends events inside a `Write`, and the
conversation service hands the write's changes here once the transaction is
committed. From each `Change` the announcer derives every push that follows from it,
in this order:

1. the appended events, on the conversation's topic;
2. `conversation.update`, when its status, advisers, team or call changed;
3. `conversation.assigned`, to each adviser who now serves it (their consoles open it);
4. "the queue changed", when it entered or left the queue (or moved within it);
5. `adviser.status`, for each adviser whose load changed, then "advisers changed" for
   the supervisors' overview.

Only ephemeral signals (typing, receipts, WebRTC) go to the bus directly, addressed to
the conversation's current participants.

Bus topics (payloads are JSON protocol frames, published with the frame itself so that
this node's hub routes them without decoding them again):
- `conv:<id>`     events and ephemeral frames of one conversation
- `adviser:<id>`  frames for all sockets of one adviser (assigned, status)
- `queue`         "the queue or availability changed": each node recomputes what
                  its own sockets need (snapshot, positions, availability)
- `advisers`      "an adviser's presence, status or load changed": each node with
                  supervisor sockets recomputes the overview once and pushes it
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TypedDict, cast

from visavis.bus import Bus
from visavis.conversations.writes import Change
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol.wire import dumps
from visavis.routing.presence import Presence

QUEUE = "queue"
ADVISERS = "advisers"

# the adviser's chat limit (their own, else the server's default)
MaxChats = Callable[[str], Awaitable[int]]

# What goes to the bus directly, never stored: typing, receipts, WebRTC, pointers.
EphemeralFrame = (
    f.TypingOutFrame
    | f.ReceiptOutFrame
    | f.RtcSignalOutFrame
    | f.CallMovedFrame
    | f.PointerOutFrame
    | f.DocViewOutFrame
    | f.CobrowseBatchOutFrame
    | f.CobrowsePointerOutFrame
    | f.CobrowseInputOutFrame
    | f.CobrowseResyncOutFrame
    | f.FormFocusOutFrame
)
# What goes to all sockets of one adviser (on the bus with an `adviser_id` added).
AdviserFrame = f.ConversationAssignedFrame | f.AdviserStatusFrame


class CallRoute(TypedDict):
    """Which sockets a call frame is for (the Hub reads and strips these keys): the one
    socket `to_peer`, or while none holds that side, every socket of `to_role` (an
    adviser's: those of `to_adviser`)."""

    to_peer: str | None
    to_role: str
    to_adviser: str


class CobrowseRoute(TypedDict):
    """Which advisers a co-browsing batch is for (the Hub reads and strips the key):
    the conversation's own, not everyone who follows it."""

    to_advisers: list[str]


def conv_topic(conversation_id: str) -> str:
    return f"conv:{conversation_id}"


def adviser_topic(adviser_id: str) -> str:
    return f"adviser:{adviser_id}"


class Announcer:
    def __init__(self, bus: Bus, presence: Presence, max_chats: MaxChats) -> None:
        self.bus = bus
        self.presence = presence
        self._max_chats = max_chats

    async def announce(self, changes: Iterable[Change]) -> None:
        queue = False
        loads: dict[str, int] = {}
        for change in changes:
            cid = change.conversation_id
            if change.texts is not None:
                topic = conv_topic(cid)
                # the texts the group commit put together, each with its frame
                for text, event in zip(change.texts, change.events, strict=True):
                    await self.bus.publish(topic, text, event)
            else:
                for event in change.events:
                    await self._publish_conv(cid, event)
            if change.reshaped:
                update: f.ConversationUpdateFrame = {
                    "v": 1,
                    "type": "conversation.update",
                    "conversation": _summary(change),
                }
                await self._publish_conv(cid, update)
            for adviser_id in sorted(change.newcomers):
                await self.publish_adviser(
                    adviser_id,
                    {"v": 1, "type": "conversation.assigned", "conversation": _summary(change)},
                )
            queue = queue or change.touches_queue
            loads.update(change.loads)
        if queue:
            await self.queue_changed()
        for adviser_id, active in sorted(loads.items()):
            await self.announce_status(adviser_id, active)

    async def announce_status(
        self, adviser_id: str, active: int, status: f.PresenceStatus | None = None
    ) -> None:
        """An adviser's status or load changed: their own sockets (on every node, which
        also keep their presence table current from it), then the supervisors."""
        await self.publish_adviser(
            adviser_id,
            {
                "v": 1,
                "type": "adviser.status",
                "status": status or cast(f.PresenceStatus, self.presence.status(adviser_id)),
                "active": active,
                "max_chats": await self._max_chats(adviser_id),
            },
        )
        await self.advisers_changed()

    async def send_ephemeral(
        self,
        conversation_id: str,
        frame: EphemeralFrame,
        route: CallRoute | CobrowseRoute | None = None,
    ) -> None:
        """An ephemeral signal (typing, receipt, WebRTC, co-browsing) to the sockets
        following the conversation, on any node; the Hub picks the recipients by the
        frame's type, and a call frame's or a mirror batch's by its `route`. Never for
        events: those are announced after their commit."""
        await self._publish_conv(conversation_id, {**frame, **route} if route else frame)

    async def _publish_conv(self, conversation_id: str, frame: Mapping[str, object]) -> None:
        # encoded once for every recipient; the frame goes along for this node's routing
        await self.bus.publish(conv_topic(conversation_id), dumps(frame), frame)

    async def publish_adviser(self, adviser_id: str, frame: AdviserFrame) -> None:
        """To every socket of one adviser, on any node."""
        routed = {**frame, "adviser_id": adviser_id}
        await self.bus.publish(adviser_topic(adviser_id), dumps(routed), routed)

    async def queue_changed(self) -> None:
        await self.bus.publish(QUEUE, "{}")

    async def advisers_changed(self) -> None:
        """Every node pushes its supervisors a new overview (`overview.snapshot`)."""
        await self.bus.publish(ADVISERS, "{}")


def _summary(change: Change) -> f.ConversationSummary:
    """The summary after a change that others must hear about: `Write.commit` reads it
    whenever the shape changed, which is when it is announced."""
    if change.summary is None:
        raise VisavisError("internal", f"no summary of {change.conversation_id} was read")
    return change.summary
