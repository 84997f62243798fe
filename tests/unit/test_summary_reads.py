"""Conversation summaries read together (conversations/reads.py, `get`), on SQLite and
PostgreSQL (SQLite in a file: read on the loop): what many sockets ask at once is one
query, and what each asker gets is its own conversation's summary, whatever the
number of ids in the query."""

from __future__ import annotations

import asyncio

from services import executed_statements, new_conversation

from visavis.conversations.service import ConversationService
from visavis.storage.engine import Database


async def test_summaries_asked_together_are_each_askers_own(
    db: Database, svc: ConversationService, database_url: str
) -> None:
    cids = [await new_conversation(svc) for _ in range(8)]
    alone = {cid: await svc.get(cid) for cid in cids}
    on_loop = db.loop_reads.reads if db.loop_reads is not None else 0
    with executed_statements(db) as texts:
        for size in (1, 3, 8):
            asked = cids[:size]
            got = await asyncio.gather(*(svc.get(cid) for cid in asked))
            assert got == [alone[cid] for cid in asked]
    if db.loop_reads is not None:  # SQLite in a file: read on the loop (loop_reads.py)
        assert texts == [] and db.loop_reads.reads - on_loop == 3
        return
    assert len(texts) == 3  # one query per group of askers
    if database_url.startswith("postgresql"):
        # the ids are one array: one statement text, prepared once per connection, for
        # any number of them (a reconnect storm's batches come in every size)
        assert len(set(texts)) == 1
