"""Audio/video calls inside a conversation.

A call is part of the conversation, not a new one (R4.1): its life is recorded as
events (`call.requested`, `call.started`, `call.declined`, `call.media`,
`call.ended`) and the current call lives in the conversation's `call_*` columns.
Either side may ask; the other side answers. Media itself flows browser to
browser (WebRTC); the server only relays signalling between the two participants.
"""

from __future__ import annotations

from datetime import UTC, datetime

from visavis.conversations.callstate import clear_call, ended_body
from visavis.conversations.recordingstate import stop_running
from visavis.conversations.service import ConversationService
from visavis.conversations.state import Status
from visavis.conversations.writes import Author, Result
from visavis.errors import VisavisError
from visavis.storage.ids import new_id
from visavis.storage.models import Conversation


def check_call(conv: Conversation, call_id: str, statuses: tuple[str, ...]) -> None:
    if conv.call_id != call_id:
        raise VisavisError(
            "invalid_state", f"call {call_id!r} is not this conversation's current call"
        )
    if conv.call_status not in statuses:
        raise VisavisError(
            "invalid_state", f"call is {conv.call_status!r}, expected one of {list(statuses)}"
        )


class CallService:
    def __init__(self, conversations: ConversationService) -> None:
        self.c = conversations

    async def do_request(self, cid: str, author: Author, media: str) -> Result:
        async with self.c.write() as w:
            conv = await w.lock(cid)
            if conv.status != Status.ACTIVE:
                raise VisavisError(
                    "invalid_state", f"conversation is {conv.status!r}; calls need 'active'"
                )
            if conv.call_id is not None:
                raise VisavisError("invalid_state", f"a call is already {conv.call_status}")
            now = datetime.now(UTC)
            conv.call_id = new_id(12)
            conv.call_status = "ringing"
            conv.call_media = media
            conv.call_requested_by = author.role
            conv.call_requested_at = now
            conv.call_started_at = None
            await w.append(
                cid,
                "call.requested",
                author,
                {"call_id": conv.call_id, "media": media, "by": author.role},
                now=now,
            )
        return w.summary(cid), w.events(cid)

    async def do_answer(self, cid: str, author: Author, call_id: str, accept: bool) -> Result:
        async with self.c.write() as w:
            conv = await w.lock(cid)
            check_call(conv, call_id, ("ringing",))
            if conv.call_requested_by == author.role:
                raise VisavisError("forbidden", "the other side answers a call, not its caller")
            now = datetime.now(UTC)
            if accept:
                conv.call_status = "active"
                conv.call_started_at = now
                kind, body = "call.started", {"call_id": call_id, "media": conv.call_media}
            else:
                kind, body = "call.declined", {"call_id": call_id, "by": author.role}
                clear_call(conv)
            await w.append(cid, kind, author, body, now=now)
        return w.summary(cid), w.events(cid)

    async def do_media(
        self, cid: str, author: Author, call_id: str, audio: bool, video: bool, screen: bool
    ) -> Result:
        async with self.c.write() as w:
            conv = await w.lock(cid)
            check_call(conv, call_id, ("ringing", "active"))
            await w.append(
                cid,
                "call.media",
                author,
                {
                    "call_id": call_id,
                    "role": author.role,
                    "audio": audio,
                    "video": video,
                    "screen": screen,
                },
            )
        return w.summary(cid), w.events(cid)

    async def do_hangup(self, cid: str, author: Author, call_id: str) -> Result:
        async with self.c.write() as w:
            conv = await w.lock(cid)
            check_call(conv, call_id, ("ringing", "active"))
            await stop_running(w, cid, author, "call_ended")  # no recording outlives its call
            await w.append(cid, "call.ended", author, ended_body(conv, author.role, "hangup"))
            clear_call(conv)
        return w.summary(cid), w.events(cid)


__all__ = ["CallService", "check_call"]
