"""The write of a chat group commit (`conversations/commits.py`): many chat messages
appended in one transaction with a fixed number of statements however many there
are, and announced after the commit like every other write.

It is a `Write` cut down to what chat messages need: they change no conversation's
shape and no adviser's load, so no summary is read and no ORM object is loaded; the
statements are `chat_rows.py`'s (on SQLite two trips to the driver's thread per
group: the reads; the writes with the commit). `ConversationService.write_chats`
opens it, commits it and hands its changes to the announcer.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from visavis.conversations.chat_rows import Bump, ChatRows, chat_rows
from visavis.conversations.state import Status, check_can_write
from visavis.conversations.summary import event_frame, iso
from visavis.conversations.writes import Author, Change, Shape
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol.wire import dumps
from visavis.protocol.wire import json_string as _q
from visavis.storage.engine import Database


@dataclass(frozen=True)
class Appended:
    frame: f.EventFrame
    created: bool  # False: a resend of an already stored client_id


@dataclass(frozen=True)
class ChatIn:
    """One chat message for `ChatWrite.append_chats`. An adviser's is checked there
    too: the conversation must be active and theirs (or they consult in it), read in
    the same transaction that appends, so no cached state can let a stale check pass."""

    conversation_id: str
    author: Author
    client_id: str
    text: str


def _chat_check(row: Any, author: Author) -> VisavisError | None:
    """Why this author may not write to the conversation now (None: they may)."""
    if author.role == "adviser":
        if author.id not in (row.adviser_id, row.consultant_id):
            return VisavisError("forbidden", "this conversation is not assigned to you")
        if row.status != Status.ACTIVE:
            return VisavisError("invalid_state", f"conversation is {row.status!r}")
        return None
    try:
        check_can_write(row.status)
    except VisavisError as err:
        return err
    return None


class ChatWrite:
    """The transaction of one group of chat messages."""

    def __init__(self, rows: ChatRows) -> None:
        self.rows = rows
        self._appended: list[Change] = []
        self.changes: list[Change] = []  # filled by commit, announced after it

    async def append_chats(self, items: list[ChatIn]) -> list[Appended | VisavisError | None]:
        """Append many chat messages in this transaction: one read of the resends and
        of the conversations, one write of their `last_seq` and of the events. Same
        rules as `Write.append`: seqs follow the order of `items` per conversation, a
        client_id is stored once. A refused message (see `_chat_check`) is returned
        as its error and leaves the others alone. None: the message's conversation
        changed between the read and the write (PostgreSQL, not `locked`; see
        chat_rows.py), so nothing of it was stored and it is to be appended again."""
        results: list[Appended | VisavisError | None] = [None] * len(items)
        keys = list({(i.conversation_id, i.client_id) for i in items})
        cids = list({i.conversation_id for i in items})
        found, conv_rows = await self.rows.read(keys, cids)
        stored: dict[tuple[str, str], f.EventFrame] = {
            (r.conversation_id, r.client_id): event_frame(r) for r in found
        }
        convs = {r.id: r for r in conv_rows}
        now = datetime.now(UTC)
        at = iso(now)
        at_json = _q(at)
        seqs: dict[str, int] = {}
        previews: dict[str, str | None] = {}
        rows_out: list[tuple[Any, ...]] = []
        frames: dict[str, list[f.EventFrame]] = {}
        texts: dict[str, list[str]] = {}
        authors: dict[Author, str] = {}  # their JSON
        for n, item in enumerate(items):
            cid, key = item.conversation_id, (item.conversation_id, item.client_id)
            if key in stored:
                results[n] = Appended(stored[key], created=False)
                continue
            row = convs.get(cid)
            if row is None:
                results[n] = VisavisError("not_found", f"no conversation {cid}")
                continue
            refused = _chat_check(row, item.author)
            if refused is not None:
                results[n] = refused
                continue
            seq = seqs.get(cid, row.last_seq) + 1
            seqs[cid] = seq
            preview = previews.get(cid, row.preview)
            if preview is None and item.author.role == "customer":
                preview = item.text[:140]
            previews[cid] = preview
            a = item.author
            author = authors.get(a)
            if author is None:
                author = authors[a] = dumps({"role": a.role, "id": a.id, "name": a.name})
            body_json = '{"text":' + _q(item.text) + "}"
            rows_out.append(
                (cid, seq, "chat.message", a.role, a.id, a.name, item.client_id, body_json)
            )
            frame: f.EventFrame = {
                "v": 1,
                "type": "event",
                "conversation_id": cid,
                "seq": seq,
                "kind": "chat.message",
                "author": {"role": a.role, "id": a.id, "name": a.name},
                "body": {"text": item.text},
                "at": at,
                "client_id": item.client_id,
            }
            stored[key] = frame  # the same client_id again in this batch: a resend
            frames.setdefault(cid, []).append(frame)
            # `dumps(frame)`, put together from its parts (tests/unit/test_group_commit.py
            # holds it to that): the JSON encoder's walk over each frame was a good part
            # of a group's CPU, its parts are at hand here
            texts.setdefault(cid, []).append(
                f'{{"v":1,"type":"event","conversation_id":{_q(cid)},"seq":{seq},'
                f'"kind":"chat.message","author":{author},"body":{body_json},'
                f'"at":{at_json},"client_id":{_q(item.client_id)}}}'
            )
            results[n] = Appended(frame, created=True)
        lost: Collection[str] = ()
        if seqs:
            bumps = [Bump(c, s, previews[c], convs[c]) for c, s in seqs.items()]
            lost = await self.rows.write(bumps, rows_out, now)
        # committed already (`write_commits`): announced even if the block raises
        done = self.changes if self.rows.write_commits else self._appended
        for cid, appended in frames.items():
            if cid in lost:
                continue
            row = convs[cid]
            shape = Shape(
                row.status, row.adviser_id, row.consultant_id, row.team_id, row.call_id,
                row.call_status,
            )  # fmt: skip
            done.append(Change(cid, appended, shape, shape, None, {}, texts[cid]))
        if lost:  # each of their messages, also one refused or a resend of the group's
            return [
                None if i.conversation_id in lost else r
                for i, r in zip(items, results, strict=True)
            ]
        return results

    async def commit(self) -> None:
        """Commit, and note for the announcer what was appended."""
        await self.rows.commit()
        self.changes.extend(self._appended)
        self._appended.clear()


@contextlib.asynccontextmanager
async def chat_write(database: Database, locked: bool = False) -> AsyncIterator[ChatWrite]:
    """A `ChatWrite` in its transaction, committed when the block ends without an
    exception (`ConversationService.write_chats` announces it then). `locked`: see
    `chat_rows`."""
    async with chat_rows(database, locked) as rows:
        write = ChatWrite(rows)
        yield write
        await write.commit()
