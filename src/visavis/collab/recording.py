"""Recording a call: the consent steps, the offers to the recorder, finishing.

Each step is one `ConversationService.write()` that folds the conversation's
recording events (`conversations/recordingstate.py`) inside the transaction, checks
the step and appends its events. The recorder takes media only while the log says
the recording runs, i.e. after every participant's consent: the room in Janus is
made on the first offer after `recording.started`, never before, and each offer is
checked against the log again. When a recording stops (withdrawal, stop, the call's
or the conversation's end — `observe` sees the event), its room is closed at once
and the files are processed in the background; `recording.ready` or
`recording.failed` follows.

Who may do which step (the adviser asks and stops, everyone consents, declines,
withdraws) is checked by the caller (web/ws_recording.py). In the medical profile,
or without a recorder, every path is refused here.
"""

from __future__ import annotations

import asyncio
import logging

from visavis.collab.recording_consent import CONSENT_TEXTS, CONSENT_VERSION, consent_text
from visavis.conversations.recordingstate import PARTICIPANTS, RecordingState, read_state
from visavis.conversations.service import ConversationService
from visavis.conversations.state import Status
from visavis.conversations.writes import Author
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.recording.recorder import Recorder
from visavis.storage.engine import Database
from visavis.storage.ids import new_id

log = logging.getLogger(__name__)

STOP_KINDS = frozenset({"recording.stopped", "recording.declined", "call.ended",
                        "conversation.ended"})  # fmt: skip


class RecordingService:
    def __init__(
        self,
        database: Database,
        conversations: ConversationService,
        recorder: Recorder | None,
        profile: str,
    ) -> None:
        self._database = database
        self.conversations = conversations
        self.recorder = recorder
        self.profile = profile
        self._open: dict[str, str] = {}  # conversation id -> recording id with a room
        self._closed: set[str] = set()  # recording ids stopped: never opened again
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ checks
    def check_allowed(self) -> Recorder:
        """Every recording path starts here."""
        if self.profile == "medical":
            raise VisavisError(
                "recording_not_allowed", "calls are never recorded in the medical profile"
            )
        if self.recorder is None:
            raise VisavisError(
                "recording_not_allowed", "no recorder is configured (VISAVIS_RECORDER=none)"
            )
        return self.recorder

    # ------------------------------------------------------------ steps
    async def do_request(self, cid: str, author: Author, call_id: str) -> f.EventFrame:
        self.check_allowed()
        async with self.conversations.write(summaries=False) as w:
            conv = await w.lock(cid)
            if conv.status != Status.ACTIVE or conv.call_id != call_id:
                raise VisavisError(
                    "recording_needs_call", f"call {call_id!r} is not this conversation's call"
                )
            if conv.call_status != "active":
                raise VisavisError(
                    "recording_needs_call", f"the call is {conv.call_status!r}, expected 'active'"
                )
            state = await read_state(w.db, cid)
            if state.active:
                raise VisavisError("invalid_state", f"a recording is already {state.phase}")
            rid = new_id(12)
            body = {"recording_id": rid, "call_id": call_id, "consent": consent_text()}
            event = await w.append(cid, "recording.requested", author, body)
        return event

    async def do_consent(
        self, cid: str, author: Author, recording_id: str, text_version: str
    ) -> f.EventFrame:
        self.check_allowed()
        if text_version not in CONSENT_TEXTS:
            raise VisavisError("bad_request", f"no consent text of version {text_version!r}")
        if text_version != CONSENT_VERSION:
            raise VisavisError(
                "recording_needs_consent",
                f"consent to text {text_version!r} is outdated; the current is {CONSENT_VERSION}",
            )
        async with self.conversations.write(summaries=False) as w:
            await w.lock(cid)
            state = _check(await read_state(w.db, cid), recording_id, ("requested",))
            if author.role in state.consents:
                raise VisavisError("invalid_state", f"the {author.role} has already consented")
            body = {"recording_id": recording_id, "role": author.role, "text_version": text_version}
            event = await w.append(cid, "recording.consented", author, body)
            if state.consents | {author.role} >= PARTICIPANTS:
                event = await w.append(
                    cid, "recording.started", author, {"recording_id": recording_id}
                )
        return event

    async def do_decline(self, cid: str, author: Author, recording_id: str) -> f.EventFrame:
        async with self.conversations.write(summaries=False) as w:
            await w.lock(cid)
            _check(await read_state(w.db, cid), recording_id, ("requested",))
            body = {"recording_id": recording_id, "role": author.role}
            return await w.append(cid, "recording.declined", author, body)

    async def do_stop(
        self, cid: str, author: Author, recording_id: str, reason: f.RecordingStopReason
    ) -> f.EventFrame:
        """Stop (adviser) or withdraw (anyone): from `requested` it is a refusal."""
        async with self.conversations.write(summaries=False) as w:
            await w.lock(cid)
            state = _check(await read_state(w.db, cid), recording_id, ("requested", "running"))
            if state.phase == "requested":
                body = {"recording_id": recording_id, "role": author.role}
                event = await w.append(cid, "recording.declined", author, body)
            else:
                by = author.role if author.role in PARTICIPANTS else "system"
                body = {"recording_id": recording_id, "reason": reason, "by": by}
                event = await w.append(cid, "recording.stopped", author, body)
        self.observe(cid, event["kind"], event["seq"])  # if the bus has not yet
        return event

    async def do_offer(self, cid: str, author: Author, recording_id: str, sdp: str) -> str:
        """A participant's send-only offer to the recorder, checked against the log."""
        recorder = self.check_allowed()
        lock = self._locks.setdefault(recording_id, asyncio.Lock())
        async with lock:
            async with self._database.sessions() as db:
                state = await read_state(db, cid)
            if state.recording_id != recording_id or state.phase != "running":
                # the recorder takes nothing before every participant has consented
                raise VisavisError(
                    "recording_needs_consent",
                    f"recording {recording_id!r} is not running: every participant must "
                    "consent first",
                )
            if recording_id in self._closed:
                raise VisavisError("invalid_state", "the recording has stopped")
            if not recorder.is_open(recording_id):
                await recorder.do_open(recording_id)
                self._open[cid] = recording_id
        return await recorder.do_publish(recording_id, author.role, sdp)

    # ------------------------------------------------------------ after a stop
    def observe(self, conversation_id: str, kind: str, seq: int) -> None:
        """An announced event: a stop closes the recording's room at once."""
        if kind not in STOP_KINDS:
            return
        rid = self._open.pop(conversation_id, None)
        if rid is None:
            return
        self._closed.add(rid)
        task = asyncio.create_task(self._finish(conversation_id, rid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def forget(self, conversation_id: str) -> None:
        """Nothing is cached per followed conversation (the rooms are kept)."""

    async def _finish(self, cid: str, rid: str) -> None:
        recorder = self.recorder
        assert recorder is not None
        try:
            await recorder.do_close(rid)
            files = await recorder.do_finish(rid)
        except Exception as err:
            log.exception("recording %s of %s failed", rid, cid)
            reason = err.message if isinstance(err, VisavisError) else str(err)
            body: dict[str, object] = {"recording_id": rid, "reason": reason[:500]}
            async with self.conversations.write(summaries=False) as w:
                await w.append(cid, "recording.failed", Author("system"), body)
            return
        finally:
            self._locks.pop(rid, None)
        body = {
            "recording_id": rid,
            "files": [
                {"participant": x.participant, "bytes": x.bytes, "duration_s": x.duration_s}
                for x in files
            ],
        }
        async with self.conversations.write(summaries=False) as w:
            await w.append(cid, "recording.ready", Author("system"), body)

    async def do_shutdown(self) -> None:
        for cid in list(self._open):
            self.observe(cid, "recording.stopped", 0)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.recorder is not None:
            await self.recorder.do_shutdown()


def _check(state: RecordingState, recording_id: str, phases: tuple[str, ...]) -> RecordingState:
    if state.recording_id != recording_id or state.phase not in phases:
        now = state.phase if state.recording_id == recording_id else "not this conversation's"
        raise VisavisError(
            "invalid_state", f"recording {recording_id!r} is {now}, expected one of {list(phases)}"
        )
    return state


__all__ = ["RecordingService"]
