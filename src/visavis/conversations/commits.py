"""Group commit of chat messages: those that arrive while a commit runs share the next.

A chat message is durable before anyone hears of it, and a commit (an fsync on
PostgreSQL, a WAL write on SQLite) costs far more than appending a row. So messages
queue here and one task commits them: each round takes everything queued (up to
`MAX_BATCH`) into one write (`ChatWrite.append_chats`), and each sender is answered
after that commit. While one commit runs the next batch gathers, so an idle server
commits each message at once and a busy one commits many per fsync.

A busy server also waits a little for company: when the last group had more than one
message (messages arrive faster than one commit takes), the next group is held for up
to `linger_s` (VISAVIS_CHAT_LINGER_US: 2 ms on PostgreSQL; none on SQLite unless set),
or until `LINGER_FILL` messages wait.
Much of a group's CPU, in the server and in the database, is its transaction's (its
round trips to PostgreSQL, the commit, the acks' writes), not its messages'. Measured
at 1,600 messages a second (bench/scale_out.py, N=800, no cap): two workers' groups
grew from 1.9 to 3.2 messages, their CPU fell from 78 % to 60 % and that of the rest
of the machine (PostgreSQL, Redis, the kernel) from 53 % to 32 %; one process's from
49 % to 32 %, for about 1 ms more median latency. An idle or quiet server never
waits: its last group was one message. PostgreSQL's `commit_delay` makes the same
trade in its log.

Order: one queue and one committing task, so messages of one conversation get seqs
in the order they were submitted (a socket's frames are submitted in the order read).

One bad message does not fail the others: a message refused by its check (ended
conversation, not the adviser's) is answered with its error while the rest commit.
Should the transaction itself fail (e.g. a unique key raced by another node), it is
rolled back and each of its messages is retried in a transaction of its own, so
exactly the failing ones fail. A failure of the moment rather than of a message (no
pooled connection in time, a lost or busy database) answers the whole group with
`overloaded`, and the clients resend.

Overload is said, not queued: with `max_queued` messages waiting, `submit` refuses at
once with `overloaded` and a `retry_after_ms` hint (the time the queue needs to drain
at the rate of the recent commits), and the client resends with the same client_id,
so the message is stored exactly once. Without the bound a flood would be read and
queued faster than committed, and every ack would come later and later.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from sqlalchemy import exc as sa_exc

from visavis.conversations.chat_write import Appended, ChatIn, ChatWrite
from visavis.errors import VisavisError

log = logging.getLogger(__name__)

MAX_BATCH = 500  # messages per transaction: bounds one commit's time and statement size
LINGER_S = 0.002  # the longest a group waits for company (after a group that had some)
MAX_LINGER_S = 0.05  # longer would only add to every busy message's wait
LINGER_FILL = 16  # a group of this many goes at once: waiting saves little more
MIN_RETRY_MS = 200
MAX_RETRY_MS = 5000
LOG_EVERY_S = 10.0  # refusals are logged in summary, at most this often

# failures of the moment, not of a message: no pooled connection in time, the database
# gone or busy (SQLite: another process wrote first). InternalError too: the driver's
# own state, not a message, e.g. asyncpg's "cannot switch to state 15; another
# operation (2) is in progress" when a killed backend's last words arrived before its
# socket closed (seen in about 1 of 10 runs on a busy machine)
TRANSIENT = (
    sa_exc.TimeoutError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.InternalError,
    TimeoutError,
)


class Writes(Protocol):
    """Opens the write of a group (`ConversationService.write_chats`)."""

    def __call__(self) -> AbstractAsyncContextManager[ChatWrite]: ...


# told a message's outcome right after its group's commit and announcement, in the
# same loop turn: the stored event, or why it was refused
Answer = Callable[[Appended | BaseException], None]


def check_linger_us(us: int) -> float:
    """VISAVIS_CHAT_LINGER_US as seconds, if it is one a server should wait."""
    if not 0 <= us <= MAX_LINGER_S * 1e6:
        raise ValueError(
            f"VISAVIS_CHAT_LINGER_US is {us}; expected 0 to {MAX_LINGER_S * 1e6:.0f} "
            "(microseconds a busy group commit waits for company)"
        )
    return us / 1e6


class ChatCommits:
    def __init__(
        self, writes: Writes, max_queued: int, linger_s: float = LINGER_S,
        linger_fill: int = LINGER_FILL,
    ) -> None:  # fmt: skip
        """`writes`: opens the write of a group (`ConversationService.write_chats`);
        `linger_s`: how long a group waits for company (0: never)."""
        self._writes = writes
        self.max_queued = max_queued
        self.linger_s = linger_s
        self.linger_fill = linger_fill
        self._queue: deque[tuple[ChatIn, Answer]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._had_company = False  # the last group had more than one message
        self._filled: asyncio.Future[None] | None = None  # a lingering group is full
        self.lingered = 0  # groups that waited for company, for the tests and benches
        self._committing = 0  # messages in the transaction now running
        self._rate = 1000.0  # messages per second committed lately (a moving average)
        self.refused = 0  # submissions refused as overloaded, for the logs and benches
        self._logged_refused = 0
        self._logged_at = -LOG_EVERY_S
        self.batches = 0
        self.committed = 0
        # told the size of each group committed (the `visavis_chat_group_messages` metric)
        self.on_group: Callable[[int], None] | None = None
        # called once a group's senders are answered: the gateway writes the frames
        # the group's events and answers made then (web/leanws.py's `write_corked`)
        self.after_answers: Callable[[], None] | None = None

    @property
    def queued(self) -> int:
        return len(self._queue) + self._committing

    def check_room(self) -> None:
        """Refuse (`overloaded`) while the queue is full."""
        if self.queued >= self.max_queued:
            self.refused += 1
            retry = self._retry_ms()
            now = time.monotonic()
            if now - self._logged_at >= LOG_EVERY_S:
                log.warning(
                    "overloaded: %d chat messages await their commit; refused %d since the "
                    "last report (retry_after_ms %d)",
                    self.queued,
                    self.refused - self._logged_refused,
                    retry,
                )
                self._logged_at, self._logged_refused = now, self.refused
            raise VisavisError(
                "overloaded",
                f"the server is busy ({self.queued} messages queued); resend in {retry} ms",
                retry_after_ms=retry,
            )

    def _retry_ms(self) -> int:
        """How long the waiting messages need to commit at the recent rate."""
        wait = 1000 * max(self.queued, 1) / max(self._rate, 1.0)
        return int(min(MAX_RETRY_MS, max(MIN_RETRY_MS, wait)))

    def submit(self, item: ChatIn) -> asyncio.Future[Appended]:
        """Queue one message; the future is answered after its commit (or with the
        error that refused it). Raises `overloaded` at once when the queue is full."""
        fut: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        self.submit_answered(item, functools.partial(_settle, fut))
        return fut

    def submit_answered(self, item: ChatIn, answer: Answer) -> None:
        """As `submit`, answered by a call instead of a future: in the loop turn of the
        commit, with the events it announced, not a turn later as a future's
        callbacks are — so the sender's ack and the events leave in one write
        (the gateway's acks)."""
        self.check_room()
        self._queue.append((item, answer))
        filled = self._filled
        if filled is not None and len(self._queue) >= self.linger_fill and not filled.done():
            filled.set_result(None)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while self._queue:
                if self._had_company and self.linger_s > 0:
                    await self._linger()
                n = min(MAX_BATCH, len(self._queue))
                batch = [self._queue.popleft() for _ in range(n)]
                self._committing = n
                t = time.monotonic()
                try:
                    await self._commit(batch)
                finally:
                    self._committing = 0
                if self.after_answers is not None:
                    try:
                        self.after_answers()
                    except Exception:  # the next groups must still commit
                        log.exception("writing a chat group's frames failed")
                self._had_company = n > 1
                spent = max(time.monotonic() - t, 1e-4)
                # the rate a full queue drains at: only batches that had company say it
                if n > 1:
                    self._rate = 0.8 * self._rate + 0.2 * (n / spent)
                if self._queue:
                    # a backlog: the loop's other work gets a turn between groups (on
                    # SQLite a group runs on the loop without a wait: storage/own_writer.py),
                    # and what arrives meanwhile joins the next one
                    await asyncio.sleep(0)
        finally:
            self._task = None

    async def _linger(self) -> None:
        """Wait up to `linger_s` for the group to reach `linger_fill` messages."""
        if len(self._queue) >= self.linger_fill:
            return
        self.lingered += 1
        filled = self._filled = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(self.linger_s):
                await filled
        except TimeoutError:
            pass
        finally:
            self._filled = None

    async def _commit(self, batch: list[tuple[ChatIn, Answer]]) -> None:
        try:
            async with self._writes() as w:
                results = await w.append_chats([item for item, _ in batch])
        except TRANSIENT as exc:
            # not the messages' fault: no connection in time, a lock conflict — said
            # as overloaded, resent by the clients (retrying each alone would only
            # wait that long once per message)
            log.warning("a group commit of %d messages failed (%r); overloaded", len(batch), exc)
            retry = self._retry_ms()
            for _item, answer in batch:
                _answer(answer, VisavisError("overloaded", "the database is busy; resend",
                                          retry_after_ms=retry))  # fmt: skip
            return
        except Exception as exc:
            if len(batch) == 1:
                _answer(batch[0][1], exc)
                return
            log.warning("a group commit of %d messages failed (%r); each alone", len(batch), exc)
            for one in batch:
                await self._commit([one])
            return
        self.batches += 1
        if self.on_group is not None:
            self.on_group(len(batch))
        for (_item, answer), result in zip(batch, results, strict=True):
            if isinstance(result, Appended) and result.created:
                self.committed += 1
            _answer(answer, result)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _answer(answer: Answer, result: Appended | BaseException) -> None:
    try:
        answer(result)
    except Exception:  # one sender's failure must not keep the others unanswered
        log.exception("answering a chat message failed")


def _settle(fut: asyncio.Future[Appended], result: Appended | BaseException) -> None:
    if fut.done():  # the sender gave up waiting (its socket closed)
        return
    if isinstance(result, BaseException):
        fut.set_exception(result)
    else:
        fut.set_result(result)
