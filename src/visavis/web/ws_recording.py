"""The gateway's recording commands: the consent steps and the relay of each
browser's send-only offer to the recorder.

Who: the conversation's adviser — the one in the call, not a consulting colleague or
a supervisor — asks and stops; the customer and that adviser consent, decline and
withdraw, and each sends its own offer (recorded under its role). The steps' rules
and the medical profile's refusal are `collab/recording.py`'s.
"""

from __future__ import annotations

from typing import cast

from visavis.collab.recording import RecordingService
from visavis.conversations.reads import ConversationReads
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol import messages as m
from visavis.protocol.replies import ack
from visavis.web.connection import Connection
from visavis.web.permissions import (
    author_of,
    check_adviser,
    check_call_adviser,
    check_participant,
)

StepMessage = (
    m.RecordingRequest
    | m.RecordingConsent
    | m.RecordingDecline
    | m.RecordingWithdraw
    | m.RecordingStop
)


class RecordingCommands:
    def __init__(self, recording: RecordingService, conversations: ConversationReads) -> None:
        self.recording = recording
        self.conversations = conversations

    async def _check(self, conn: Connection, cid: str) -> None:
        self.recording.check_allowed()  # refused before anything else is looked at
        conv = await check_participant(conn, self.conversations, cid)
        adviser = conv["adviser"]
        check_call_adviser(conn, adviser.get("id") if adviser is not None else None)

    async def do_step(self, conn: Connection, msg: StepMessage) -> None:
        cid = msg.conversation_id
        if isinstance(msg, m.RecordingRequest | m.RecordingStop):
            check_adviser(conn)
        await self._check(conn, cid)
        author = author_of(conn)
        r = self.recording
        if isinstance(msg, m.RecordingRequest):
            event = await r.do_request(cid, author, msg.call_id)
        elif isinstance(msg, m.RecordingConsent):
            event = await r.do_consent(cid, author, msg.recording_id, msg.text_version)
        elif isinstance(msg, m.RecordingDecline):
            event = await r.do_decline(cid, author, msg.recording_id)
        elif isinstance(msg, m.RecordingWithdraw):
            event = await r.do_stop(cid, author, msg.recording_id, "withdrawn")
        else:
            event = await r.do_stop(cid, author, msg.recording_id, "stopped")
        conn.push_frame(ack(msg.id, cid, event["seq"]))

    async def do_offer(self, conn: Connection, msg: m.RecordingOffer) -> None:
        cid = msg.conversation_id
        await self._check(conn, cid)
        if msg.description.type != "offer":
            kind = msg.description.type
            raise VisavisError("bad_request", f"recording.offer: an offer, not {kind!r}")
        sdp = await self.recording.do_offer(
            cid, author_of(conn), msg.recording_id, msg.description.sdp
        )
        frame: f.RecordingAnswerFrame = {
            "v": 1,
            "type": "recording.answer",
            "id": msg.id,
            "conversation_id": cid,
            "recording_id": msg.recording_id,
            "description": cast(f.SessionDescription, {"type": "answer", "sdp": sdp}),
        }
        conn.push_frame(frame)
