"""The write of a chat group commit (`conversations/commits.py`): many chat messages
appended in one transaction with a fixed number of statements however many there
are, and announced after the commit like every other write.

It is a `Write` cut down to what chat messages need: they change no conversation's
shape and no adviser's load, so no summary is read and no ORM object is loaded; the
statements are `chat_rows.py`'s (on SQLite two trips to the driver's thread per
group: the reads; the writes with the commit; on PostgreSQL one statement).
`ConversationService.write_chats` opens it, commits it and hands its changes to the
announcer.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from visavis.conversations.chat_rows import ChatRows, ConvRow, NewChat, chat_refusal, chat_rows
from visavis.conversations.summary import event_frame, iso
from visavis.conversations.writes import Author, Change, Shape
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol.wire import json_string as _q
from visavis.protocol.wire import json_string_or_null as _opt
from visavis.storage.engine import Database

PREVIEW_CHARS = 140


def preview_of(text: str) -> str:
    """A conversation's preview in the lists: the start of its first customer message.
    Without NUL characters, which a chat text may hold (its JSON escapes them) but
    PostgreSQL's text columns cannot."""
    return text[:PREVIEW_CHARS].replace("\x00", "")


@dataclass(frozen=True)
class Appended:
    frame: f.EventFrame
    created: bool  # False: a resend of an already stored client_id


@dataclass(frozen=True)
class ChatIn:
    """One chat message for `ChatWrite.append_chats`. Who may write is checked
    against the conversation as the same transaction finds it (`chat_refusal`), so no
    cached state can let a stale check pass."""

    conversation_id: str
    author: Author
    client_id: str
    text: str


class ChatWrite:
    """The transaction of one group of chat messages."""

    def __init__(self, rows: ChatRows) -> None:
        self.rows = rows
        self._appended: list[Change] = []
        self.changes: list[Change] = []  # filled by commit, announced after it

    async def append_chats(self, items: list[ChatIn]) -> list[Appended | VisavisError]:
        """Append many chat messages in this transaction. Same rules as
        `Write.append`: seqs follow the order of `items` per conversation, a
        client_id is stored once (a resend is answered with the stored event). A
        refused message is returned as its error and leaves the others alone."""
        firsts: dict[tuple[str, str], int] = {}  # a client_id's first place in `items`
        chats: list[NewChat] = []
        for n, item in enumerate(items):
            key = (item.conversation_id, item.client_id)
            if key in firsts:
                continue  # the same message again in this group: answered as its first
            firsts[key] = n
            a = item.author
            chats.append(NewChat(
                item.conversation_id, item.client_id, a.role, a.id, a.name,
                '{"text":' + _q(item.text) + "}",
                preview_of(item.text) if a.role == "customer" else None,
            ))  # fmt: skip
        now = datetime.now(UTC)
        decided = await self.rows.append(chats, now)
        at = iso(now)
        at_json = _q(at)
        results: list[Appended | VisavisError | None] = [None] * len(items)
        frames: dict[str, list[f.EventFrame]] = {}
        texts: dict[str, list[str]] = {}
        convs: dict[str, ConvRow] = {}
        authors: dict[Author, str] = {}  # their JSON
        for chat, (conv, seq, stored) in zip(chats, decided, strict=True):
            n = firsts[(chat.cid, chat.client_id)]
            item = items[n]
            if stored is not None:
                results[n] = Appended(event_frame(stored), created=False)
                continue
            if conv is None:
                results[n] = VisavisError("not_found", f"no conversation {chat.cid}")
                continue
            if seq is None:
                refused = chat_refusal(conv, chat.role, chat.author_id)
                if refused is None:  # the statement and the check disagree: a bug
                    raise RuntimeError(
                        f"chat message {chat.client_id!r} refused by the database, though "
                        f"allowed in state {conv.status!r}"
                    )
                results[n] = refused
                continue
            a = item.author
            author = authors.get(a)
            if author is None:
                author = authors[a] = (
                    f'{{"role":{_q(a.role)},"id":{_opt(a.id)},"name":{_opt(a.name)}}}'
                )
            frame: f.EventFrame = {
                "v": 1,
                "type": "event",
                "conversation_id": chat.cid,
                "seq": seq,
                "kind": "chat.message",
                "author": {"role": a.role, "id": a.id, "name": a.name},
                "body": {"text": item.text},
                "at": at,
                "client_id": chat.client_id,
            }
            convs[chat.cid] = conv
            frames.setdefault(chat.cid, []).append(frame)
            # `dumps(frame)`, put together from its parts (tests/unit/test_group_commit.py
            # holds it to that): the JSON encoder's walk over each frame was a good part
            # of a group's CPU, its parts are at hand here
            texts.setdefault(chat.cid, []).append(
                f'{{"v":1,"type":"event","conversation_id":{_q(chat.cid)},"seq":{seq},'
                f'"kind":"chat.message","author":{author},"body":{chat.body},'
                f'"at":{at_json},"client_id":{_q(chat.client_id)}}}'
            )
            results[n] = Appended(frame, created=True)
        # committed already (`write_commits`): announced even if the block raises
        done = self.changes if self.rows.write_commits else self._appended
        for cid, appended in frames.items():
            row = convs[cid]
            shape = Shape(
                row.status, row.adviser_id, row.consultant_id, row.team_id, row.call_id,
                row.call_status,
            )  # fmt: skip
            done.append(Change(cid, appended, shape, shape, None, {}, texts[cid]))
        out: list[Appended | VisavisError] = []
        for item, result in zip(items, results, strict=True):
            if result is None:  # a message again: as its first, now stored
                first = results[firsts[(item.conversation_id, item.client_id)]]
                assert first is not None  # each first was decided above
                if isinstance(first, Appended):
                    first = Appended(first.frame, created=False)
                result = first
            out.append(result)
        return out

    async def commit(self) -> None:
        """Commit, and note for the announcer what was appended."""
        await self.rows.commit()
        self.changes.extend(self._appended)
        self._appended.clear()


@contextlib.asynccontextmanager
async def chat_write(database: Database) -> AsyncIterator[ChatWrite]:
    """A `ChatWrite` in its transaction, committed when the block ends without an
    exception (`ConversationService.write_chats` announces it then)."""
    async with chat_rows(database) as rows:
        write = ChatWrite(rows)
        yield write
        await write.commit()
