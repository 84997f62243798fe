"""The conversation event log on SQLite and PostgreSQL: seq, dedup, resume, states."""

from __future__ import annotations

import asyncio

import pytest

from visavis.auth.service import AuthService
from visavis.conversations.reads import REPLAY_PAGE
from visavis.conversations.service import ConversationService
from visavis.conversations.writes import Author
from visavis.errors import VisavisError
from visavis.routing.decide import ChatLimits
from visavis.storage.engine import Database

CUSTOMER = Author("customer")


async def adviser(db: Database, email: str = "a@bank.example", max_chats: int = 3) -> str:
    auth = AuthService(db, 3, 3600, 5)
    return (await auth.do_add_adviser(email, "long-enough-pw", "Anna", max_chats=max_chats)).id


async def test_seq_is_gapless_and_starts_at_one(svc: ConversationService) -> None:
    conv, events = await svc.do_create("Bob", None, "de", ("client-0001", "Hallo"))
    assert [e["seq"] for e in events] == [1, 2]
    for i in range(5):
        r = await svc.do_chat(conv["id"], CUSTOMER, f"client-{i:04d}x", f"m{i}")
        assert r.created and r.frame["seq"] == 3 + i
    assert [e["seq"] for e in await svc.events_after(conv["id"], 0)] == list(range(1, 8))
    assert [e["seq"] for e in await svc.events_after(conv["id"], 5)] == [6, 7]
    assert [e["seq"] for e in await svc.events_between(conv["id"], 2, 5)] == [3, 4]
    assert (await svc.get(conv["id"]))["last_seq"] == 7


async def test_resend_with_same_client_id_is_stored_once(svc: ConversationService) -> None:
    conv, _ = await svc.do_create(None, None, None, None)
    first = await svc.do_chat(conv["id"], CUSTOMER, "same-client-id", "once")
    again = await svc.do_chat(conv["id"], CUSTOMER, "same-client-id", "once")
    assert first.created and not again.created
    assert again.frame["seq"] == first.frame["seq"]
    assert [e["kind"] for e in await svc.events_after(conv["id"], 0)] == [
        "conversation.created",
        "chat.message",
    ]


async def test_concurrent_writers_get_distinct_seqs(svc: ConversationService) -> None:
    conv, _ = await svc.do_create(None, None, None, None)
    results = await asyncio.gather(
        *(svc.do_chat(conv["id"], CUSTOMER, f"parallel-{i:03d}", str(i)) for i in range(30))
    )
    seqs = sorted(r.frame["seq"] for r in results)
    assert seqs == list(range(2, 32))


async def test_concurrent_resends_store_one_event(svc: ConversationService) -> None:
    conv, _ = await svc.do_create(None, None, None, None)
    results = await asyncio.gather(
        *(svc.do_chat(conv["id"], CUSTOMER, "dup-client-id", "x") for _ in range(10))
    )
    assert len({r.frame["seq"] for r in results}) == 1
    assert sum(r.created for r in results) == 1


async def test_accept_end_state_machine(db: Database, svc: ConversationService) -> None:
    aid = await adviser(db)
    conv, _ = await svc.do_create("Bob", None, None, None)
    summary, (event,) = await svc.do_accept(conv["id"], aid, "Anna", ChatLimits(3))
    assert summary["status"] == "active" and event["kind"] == "conversation.accepted"
    with pytest.raises(VisavisError) as err:
        await svc.do_accept(conv["id"], aid, "Anna", ChatLimits(3))
    assert err.value.code == "invalid_state"
    summary, events = await svc.do_end(conv["id"], CUSTOMER)
    assert summary["status"] == "ended" and [e["body"] for e in events] == [{"by": "customer"}]
    with pytest.raises(VisavisError) as err:
        await svc.do_end(conv["id"], CUSTOMER)
    assert err.value.code == "invalid_state"
    with pytest.raises(VisavisError) as err:
        await svc.do_chat(conv["id"], CUSTOMER, "after-the-end", "x")
    assert err.value.code == "invalid_state"


async def test_two_advisers_race_for_one_customer(db: Database, svc: ConversationService) -> None:
    a1, a2 = await adviser(db, "a1@bank.example"), await adviser(db, "a2@bank.example")
    conv, _ = await svc.do_create(None, None, None, None)
    results = await asyncio.gather(
        svc.do_accept(conv["id"], a1, "A1", ChatLimits(3)),
        svc.do_accept(conv["id"], a2, "A2", ChatLimits(3)),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, VisavisError)]
    assert len(wins) == 1 and len(losses) == 1 and losses[0].code == "invalid_state"


async def test_limit_and_queue_order(db: Database, svc: ConversationService) -> None:
    aid = await adviser(db, max_chats=2)
    ids = [(await svc.do_create(f"c{i}", None, None, None))[0]["id"] for i in range(3)]
    assert [e["conversation_id"] for e in await svc.queue()] == ids
    first, _ = await svc.do_accept(None, aid, "Anna", ChatLimits(2))
    assert first["id"] == ids[0]
    await svc.do_accept(None, aid, "Anna", ChatLimits(2))
    with pytest.raises(VisavisError) as err:
        await svc.do_accept(None, aid, "Anna", ChatLimits(2))
    assert err.value.code == "limit_reached"
    assert [e["conversation_id"] for e in await svc.queue()] == ids[2:]


async def test_take_next_skips_teams_whose_limit_is_reached(
    db: Database, svc: ConversationService
) -> None:
    aid = await adviser(db)
    limits = ChatLimits(3, {"baufi": 1})
    c1, _ = await svc.do_create("c1", "kredit", None, None, "baufi")
    c2, _ = await svc.do_create("c2", "kredit", None, None, "baufi")
    c3, _ = await svc.do_create("c3", None, None, None, None)
    assert (await svc.do_accept(None, aid, "Anna", limits))[0]["id"] == c1["id"]
    # one Baufinanzierung chat is that team's limit: the next is c3, although c2 is older
    assert (await svc.do_accept(None, aid, "Anna", limits))[0]["id"] == c3["id"]
    with pytest.raises(VisavisError) as err:
        await svc.do_accept(c2["id"], aid, "Anna", limits)
    assert err.value.code == "limit_reached"
    assert "2 conversations" in err.value.message and "baufi is 1" in err.value.message
    # "take the next" says why it takes nobody while c2 waits
    with pytest.raises(VisavisError) as err:
        await svc.do_accept(None, aid, "Anna", limits)
    assert err.value.code == "limit_reached" and "baufi is 1" in err.value.message
    assert [e["conversation_id"] for e in await svc.queue()] == [c2["id"]]
    # a colleague whose limit there is higher takes c2; then nobody waits at all
    ben = await adviser(db, "ben@bank.example")
    await svc.do_accept(None, ben, "Ben", ChatLimits(3, {"baufi": 2}))
    with pytest.raises(VisavisError) as err:
        await svc.do_accept(None, aid, "Anna", limits)
    assert err.value.code == "not_found"


async def test_receipts_only_move_forward(svc: ConversationService) -> None:
    conv, _ = await svc.do_create(None, None, None, ("first-msg-1", "a"))
    assert await svc.do_receipt(conv["id"], "adviser", 2, 1) == (2, 1)
    assert await svc.do_receipt(conv["id"], "adviser", 1, 0) == (2, 1)
    assert await svc.do_receipt(conv["id"], "adviser", None, 99) == (2, 2)  # capped at last_seq
    c = await svc.get(conv["id"])
    assert (c["adviser_delivered_seq"], c["adviser_read_seq"]) == (2, 2)
    assert (c["customer_delivered_seq"], c["customer_read_seq"]) == (0, 0)


async def test_search_by_name_topic_and_message(db: Database, svc: ConversationService) -> None:
    aid = await adviser(db)
    a, _ = await svc.do_create("Erika Muster", "kredit", None, ("search-msg-1", "Baufinanzierung"))
    b, _ = await svc.do_create("Max", None, None, None)
    await svc.do_accept(a["id"], aid, "Anna", ChatLimits(3))
    assert [c["id"] for c in await svc.search(None, None, "erika", 10, None)] == [a["id"]]
    assert [c["id"] for c in await svc.search(None, None, "baufin", 10, None)] == [a["id"]]
    assert [c["id"] for c in await svc.search(aid, None, None, 10, None)] == [a["id"]]
    assert {c["id"] for c in await svc.search(None, "queued", None, 10, None)} == {b["id"]}


async def test_replays_asked_together_are_the_pages_asked_one_by_one(
    svc: ConversationService,
) -> None:
    """A reconnect storm's replays share one query (conversations/batching.py): each
    still gets the first page after its own seq, also two tabs of one conversation
    at different seqs, also when the log is longer than a page."""
    long, _ = await svc.do_create(None, None, None, None)
    await asyncio.gather(
        *(
            svc.do_chat(long["id"], CUSTOMER, f"long-{i:04d}", str(i))
            for i in range(REPLAY_PAGE + 9)
        )
    )
    short, _ = await svc.do_create("Eve", None, None, ("client-0001", "Hallo"))
    asks = [(long["id"], 0), (long["id"], 20), (long["id"], REPLAY_PAGE + 5), (short["id"], 0)]
    asks += [(short["id"], 2), (short["id"], 1), ("no-such-conversation", 0)]
    together = await asyncio.gather(*(svc.events_after(c, s) for c, s in asks))
    for (cid, after), page in zip(asks, together, strict=True):
        alone = await svc.events_after(cid, after)  # a batch of one: the plain query
        assert [e["seq"] for e in page] == [e["seq"] for e in alone]
        assert page == alone
    assert [e["seq"] for e in together[0]] == list(range(1, REPLAY_PAGE + 1))
    assert [e["seq"] for e in together[1]] == list(range(21, REPLAY_PAGE + 11))  # 510 in all
    assert [e["seq"] for e in together[2]] == list(range(REPLAY_PAGE + 6, REPLAY_PAGE + 11))
    assert [e["seq"] for e in together[3]] == [1, 2]
    assert together[6] == []
