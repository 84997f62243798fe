"""The domain services wired as `create_app` wires them, on a real in-process bus,
for tests that drive them without a server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import event

from visavis.auth.service import AuthService
from visavis.bus import MemoryBus
from visavis.conversations.announcer import Announcer
from visavis.conversations.service import ConversationService
from visavis.routing.presence import Presence
from visavis.storage.engine import Database


def conversation_service(
    db: Database, bus: MemoryBus | None = None, presence: Presence | None = None
) -> ConversationService:
    auth = AuthService(db, 3, 3600, 5)

    async def max_chats(adviser_id: str) -> int:
        return (await auth.get_adviser(adviser_id)).max_chats

    announcer = Announcer(bus or MemoryBus(), presence or Presence(), max_chats)
    return ConversationService(db, announcer)


async def new_conversation(svc: ConversationService) -> str:
    """A new queued chat of customer Bob, in German, without a first message: its id."""
    conv, _ = await svc.do_create("Bob", None, "de", None)
    return conv["id"]


@contextlib.contextmanager
def executed_statements(db: Database) -> Iterator[list[str]]:
    """The SQL texts that go through SQLAlchemy to the database while the block runs
    (SQLite's group commit goes to its driver directly and is not among them)."""
    texts: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        texts.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield texts
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
