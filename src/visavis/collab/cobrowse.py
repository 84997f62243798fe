"""Co-browsing's steps and the state the relays are checked against.

Each step (ask, consent, decline, ask for control, grant, decline, revoke, end) is one
`ConversationService.write()`: it locks the conversation, folds its co-browsing
events into the state (`conversations/cobrowsing.py`) — inside the transaction, so two
steps racing cannot both pass — checks the step against it and appends its event.

The relays (mirror batches, the adviser's pointer, control inputs) come many times a
second and must not read the log each time: `state()` answers from memory. An entry
is built from the log on first use and then follows the conversation's events as they
are announced (`observe`, called by the Hub for every event of a conversation this
node follows, whichever write appended it — also a conversation's end). An entry is
kept only while the node follows the conversation (`forget` when the last socket stops
following it), because only then does it hear every later event; otherwise the
state is read from the log each time.

Who may do which step (advisers ask, customers answer) is checked by the caller
(web/ws_cobrowse.py); this module checks what the log says.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from visavis.conversations.cobrowsing import (
    STATE_KINDS,
    CobrowseState,
    Command,
    apply,
    check_step,
    read_state,
)
from visavis.conversations.service import ConversationService
from visavis.conversations.state import Status
from visavis.conversations.writes import Author
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol.cobrowse import MAX_LINE_BYTES
from visavis.storage.engine import Database


class CobrowseService:
    def __init__(self, database: Database, conversations: ConversationService) -> None:
        self._database = database
        self.conversations = conversations
        self._states: dict[str, CobrowseState] = {}
        # bumped by every observed event: a state read from the log while one arrived
        # may be older than it and is not kept
        self._epoch = 0

    # ------------------------------------------------------------ state
    async def state(self, conversation_id: str, followed: Callable[[str], bool]) -> CobrowseState:
        """The co-browsing state: from memory if this node follows the conversation
        (`followed`), else from the log."""
        known = self._states.get(conversation_id)
        if known is not None:
            return known
        epoch = self._epoch
        async with self._database.sessions() as db:
            state = await read_state(db, conversation_id)
        if epoch == self._epoch and followed(conversation_id):
            self._states[conversation_id] = state
        return state

    def observe(self, conversation_id: str, kind: str, seq: int) -> None:
        """An event of the conversation was announced (after its commit)."""
        if kind not in STATE_KINDS:
            return
        self._epoch += 1
        known = self._states.get(conversation_id)
        if known is not None:
            self._states[conversation_id] = apply(known, kind, seq)

    def forget(self, conversation_id: str) -> None:
        """This node no longer follows the conversation: it would miss its events."""
        self._states.pop(conversation_id, None)

    # ------------------------------------------------------------ steps
    async def do_step(self, conversation_id: str, author: Author, command: Command) -> f.EventFrame:
        """One step, as one write. Ending names who ended it."""
        async with self.conversations.write(summaries=False) as w:
            conv = await w.lock(conversation_id)
            state = await read_state(w.db, conversation_id)
            kind = check_step(state, command)
            if conv.status != Status.ACTIVE and command != "end":
                raise VisavisError(
                    "invalid_state", f"conversation is {conv.status!r}, expected 'active'"
                )
            body = {"reason": author.role} if kind == "cobrowse.ended" else {}
            event = await w.append(conversation_id, kind, author, body)
        self.observe(conversation_id, kind, event["seq"])  # if the bus has not yet
        return event


class MirrorStream:
    """The server's view of one customer's mirror stream (protocol/cobrowse.py): it
    inflates each chunk only to bound what the advisers' browsers will have to inflate
    (a small frame must not grow into a bomb there) and to check the chunks come in
    order. The events stay opaque. A refused chunk breaks the stream: only a new one
    (`n` 0, with a fresh snapshot) is taken after it."""

    def __init__(self) -> None:
        self._begin(None)

    def _begin(self, stream: str | None) -> None:
        self.stream = stream
        self.next_n = 0
        self.line = 0  # inflated bytes of the batch (line) not yet ended
        self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)

    def check_chunk(self, stream: str, n: int, data: bytes) -> None:
        if n == 0:
            self._begin(stream)
        elif stream != self.stream or n != self.next_n:
            expected = f"chunk {self.next_n} of {self.stream}" if self.stream else "chunk 0"
            raise VisavisError("bad_request", f"mirror stream at {stream}/{n}, expected {expected}")
        try:
            self._inflate(data)
        except (zlib.error, VisavisError) as exc:
            self.stream = None
            if isinstance(exc, VisavisError):
                raise
            raise VisavisError("bad_request", f"mirror chunk is not raw DEFLATE: {exc}") from exc
        self.next_n = n + 1

    def _inflate(self, raw: bytes) -> None:
        while raw:
            budget = MAX_LINE_BYTES - self.line + 1
            out = self.inflater.decompress(raw, budget)
            raw = self.inflater.unconsumed_tail
            end = out.rfind(b"\n")
            self.line = len(out) - end - 1 if end >= 0 else self.line + len(out)
            if self.line > MAX_LINE_BYTES:
                raise VisavisError(
                    "bad_request", f"a mirror batch inflates beyond {MAX_LINE_BYTES} bytes"
                )
            if self.inflater.eof:
                raise VisavisError("bad_request", "the mirror stream ended; expected sync flushes")
