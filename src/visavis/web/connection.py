"""One WebSocket: who it is, what it follows, and an ordered outgoing queue.

Events reach a socket from two sources — the replay after `subscribe` and live
bus messages — and bus messages can overtake each other (two commits publish in
either order). So every event goes through `_deliver_event`, which drops seqs
already sent and fills gaps from the database: each socket sees every seq
exactly once, in order.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket

from visavis.auth.ratelimit import TokenBucket
from visavis.conversations.transfers import INTERNAL_KINDS
from visavis.protocol import frames as f
from visavis.protocol.wire import dumps
from visavis.web.lanes import Lanes
from visavis.web.leanws import SEND_NOW

if TYPE_CHECKING:
    from visavis.auth.service import AdviserView
    from visavis.conversations.service import ConversationService
    from visavis.web.ephemeral import RelayState

log = logging.getLogger(__name__)

MAX_PENDING = 2000  # a socket this far behind is closed; it resumes from the DB


_background: set[asyncio.Task[None]] = set()


def spawn(coro: Coroutine[Any, Any, None]) -> None:
    """Start a task and keep a reference until it ends (asyncio only keeps weak ones)."""
    task = asyncio.get_running_loop().create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


class Connection:
    __slots__ = (
        "_draining",
        "_latest",
        "_q",
        "_send_now",
        "adviser",
        "bucket",
        "chats_in_flight",
        "closed",
        "conversation_id",
        "conversations",
        "customer_name",
        "lanes",
        "last_seen",
        "peer_id",
        "refusals",
        "relay",
        "role",
        "skipped",
        "subs",
        "ws",
    )

    def __init__(
        self, ws: WebSocket, conversations: ConversationService, rate: float, burst: float
    ) -> None:
        self.ws = ws
        self.conversations = conversations
        # Names this socket on the bus, e.g. as the one that holds a side of a call.
        self.peer_id = secrets.token_hex(8)
        self.role: f.Role | None = None  # after hello
        self.adviser: AdviserView | None = None
        self.conversation_id: str | None = None  # the customer's own conversation
        self.customer_name: str | None = None
        self.lanes: Lanes | None = None  # an adviser's: one per conversation (lanes.py)
        self.subs: dict[str, int] = {}  # conversation id -> highest seq sent
        # conversation id -> last seq sent before events hidden from this socket; made
        # only when something is hidden (most sockets never need it)
        self.skipped: dict[str, int] | None = None
        self.bucket = TokenBucket(rate, burst)
        self.refusals = 0
        self.chats_in_flight = 0  # chat.send frames awaiting their commit (ws.py)
        self.last_seen = time.monotonic()
        self.closed = False
        # made at the first frame to send, dropped when sent: an idle socket has none
        self._q: deque[tuple[Any, ...]] | None = None
        self._draining = False
        # the room's relays (pointer, doc.view): made on first use
        self.relay: RelayState | None = None
        # key -> newest frame of a coalesced relay not yet sent (see push_latest)
        self._latest: dict[str, str] | None = None
        # writes a text frame at once if the socket can take it (web/leanws.py; None
        # with another WebSocket implementation)
        self._send_now: Callable[..., bool] | None = (ws.scope.get("extensions") or {}).get(
            SEND_NOW
        )

    # ------------------------------------------------------------ enqueue (sync)
    def push(self, text: str) -> None:
        if not self._sent_now(text):
            self._enqueue(("raw", text))

    def push_frame(self, frame: f.ServerFrame) -> None:
        self.push(dumps(frame))

    def _sent_now(self, text: str) -> bool:
        """Written at once when nothing waits before it (no queue, no drain running),
        so the order is the order pushed; False: it must be queued."""
        return (
            self._send_now is not None
            and self._q is None
            and not self._draining
            and not self.closed
            and self._send_now(text)
        )

    def push_latest(self, key: str, text: str) -> None:
        """A frame of which only the newest matters (a pointer of one sender): if one
        with the same key still waits in the queue, it is replaced, not followed."""
        if self._latest is None:
            self._latest = {}
        waiting = key in self._latest
        self._latest[key] = text
        if not waiting:
            self._enqueue(("latest", key))

    def push_event(self, conversation_id: str, seq: int, text: str, internal: bool = False) -> None:
        last = self.subs.get(conversation_id)
        if last is None:
            return
        # the next seq of this conversation, shown as it is: written at once; anything
        # else (a gap, a repeat, a hidden event, one after hidden ones) takes the queue
        if (
            seq == last + 1
            and not (internal and self.role == "customer")
            and not (self.skipped and conversation_id in self.skipped)
            and self._sent_now(text)
        ):
            self.subs[conversation_id] = seq
            return
        self._enqueue(("event", conversation_id, seq, text, internal))

    def push_replay(
        self,
        conversation_id: str,
        after_seq: int,
        reply_id: str | None,
        summary: Callable[[], Awaitable[f.ConversationSummary]],
    ) -> None:
        self.subs[conversation_id] = after_seq
        if self.skipped:
            self.skipped.pop(conversation_id, None)
        self._enqueue(("replay", conversation_id, reply_id, summary))

    def can_hold(self) -> bool:
        return not self._draining and self._q is None and not self.closed

    def hold(self, conversation_id: str, after_seq: int) -> None:
        """Follow the conversation from `after_seq` on, holding back what comes (live
        events queue) until `release`: the answer to a `hello` and the `subscribe` sent
        with it reads the summary after the socket follows, and goes first."""
        self.subs[conversation_id] = after_seq
        if self.skipped:
            self.skipped.pop(conversation_id, None)
        assert self.can_hold()
        self._draining = True  # no frame is written at once, no drain task started

    def release(
        self,
        conversation_id: str,
        reply_id: str | None,
        welcome: str,
        conv: f.ConversationSummary,
        summary: Callable[[], Awaitable[f.ConversationSummary]],
    ) -> None:
        """After `hold`: `welcome` first, then the replay as `push_replay` would — when
        `conv` (read after following) has nothing after the socket's seq, `welcome`
        and `subscribed` in one write now; then whatever was held back."""
        self._draining = False
        first: list[tuple[Any, ...]] = [("raw", welcome)]
        after_seq = self.subs.get(conversation_id)
        if after_seq is not None and conv["last_seq"] <= after_seq:
            done: f.SubscribedFrame = {
                "v": 1,
                "type": "subscribed",
                "id": reply_id,
                "conversation": conv,
            }
            texts = (welcome, dumps(done))
            if self._send_now is not None and not self.closed and self._send_now(*texts):
                first = []
            else:
                first.append(("raw", texts[1]))
        else:
            first.append(("replay", conversation_id, reply_id, summary))
        if self.closed:
            return
        held = self._q
        self._q = None
        for item in first:
            self._enqueue(item)
        for item in held or ():
            self._enqueue(item)

    def _enqueue(self, item: tuple[Any, ...]) -> None:
        if self.closed:
            return
        if self._q is None:
            self._q = deque()
        elif len(self._q) >= MAX_PENDING:
            log.warning("socket too far behind (%d frames); closing it", len(self._q))
            self._q = None
            self.closed = True
            spawn(self._close(1013))
            return
        self._q.append(item)
        if not self._draining:
            # Spawned only while there is work: idle sockets cost no task.
            self._draining = True
            spawn(self._drain())

    # ------------------------------------------------------------ drain (async)
    async def _drain(self) -> None:
        try:
            while self._q and not self.closed:
                item = self._q.popleft()
                if not self._q:
                    self._q = None
                kind = item[0]
                if kind == "raw":
                    await self.ws.send_text(item[1])
                elif kind == "latest":
                    text = self._latest.pop(item[1], None) if self._latest else None
                    if text is not None:
                        await self.ws.send_text(text)
                elif kind == "event":
                    await self._deliver_event(item[1], item[2], item[3], item[4])
                else:
                    await self._replay(item[1], item[2], item[3])
        except Exception as exc:  # the socket went away under us
            log.debug("send failed: %r", exc)
            self.closed = True
            self._q = None
        finally:
            self._draining = False

    def _hidden(self, kind: str) -> bool:
        # Internal notes between advisers never reach a customer socket.
        return self.role == "customer" and kind in INTERNAL_KINDS

    async def _send_event(self, conversation_id: str, seq: int, hidden: bool, text: str) -> None:
        """Send one event (the next seq of this conversation for this socket), or skip a
        hidden one. The first event after skipped ones carries `prev_seq`, the seq sent
        before them, so the client knows the gap is not a loss and need not wait."""
        last = self.subs.get(conversation_id)
        if last is None:  # unfollowed meanwhile
            return
        if hidden:
            if self.skipped is None:
                self.skipped = {}
            self.skipped.setdefault(conversation_id, last)
        else:
            prev = self.skipped.pop(conversation_id, None) if self.skipped else None
            if prev is not None:
                text = f'{text[:-1]},"prev_seq":{prev}}}'
            await self.ws.send_text(text)
        if conversation_id in self.subs:
            self.subs[conversation_id] = seq

    async def _deliver_event(
        self, conversation_id: str, seq: int, text: str, internal: bool
    ) -> None:
        last = self.subs.get(conversation_id)
        if last is None or seq <= last:
            return
        if seq > last + 1:
            for frame in await self.conversations.events_between(conversation_id, last, seq):
                await self._send_event(
                    conversation_id, frame["seq"], self._hidden(frame["kind"]), dumps(frame)
                )
        await self._send_event(conversation_id, seq, internal and self.role == "customer", text)

    async def _replay(
        self,
        conversation_id: str,
        reply_id: str | None,
        summary: Callable[[], Awaitable[f.ConversationSummary]],
    ) -> None:
        # The summary first: read after the socket follows the conversation, so every
        # event committed later reaches it live. A socket back after a restart mostly
        # has every seq already (its `last_seq`), and needs no read of the log at all.
        conv = await summary()
        if conversation_id in self.subs and conv["last_seq"] > self.subs[conversation_id]:
            while conversation_id in self.subs:
                last = self.subs[conversation_id]
                page = await self.conversations.events_after(conversation_id, last)
                for frame in page:
                    await self._send_event(
                        conversation_id, frame["seq"], self._hidden(frame["kind"]), dumps(frame)
                    )
                if len(page) < 500:
                    break
            conv = await summary()  # at least as new as the events sent
        done: f.SubscribedFrame = {
            "v": 1,
            "type": "subscribed",
            "id": reply_id,
            "conversation": conv,
        }
        await self.ws.send_text(dumps(done))

    async def _close(self, code: int) -> None:
        try:
            await self.ws.close(code)
        except Exception:
            pass

    def close_soon(self, code: int) -> None:
        if not self.closed:
            self.closed = True
            self._q = None
            spawn(self._close(code))
