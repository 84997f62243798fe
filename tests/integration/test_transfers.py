"""Transfers: blind to a colleague or a team, consultative with internal
notes the customer never sees; the customer stays connected throughout."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from conftest import ALWAYS_OPEN, LiveServer
from helpers import PASSWORD, adviser_socket
from wsclient import WsClient, cid, login, new_conversation


def kind_is(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["type"] == "event" and f["kind"] == kind


async def setup(server: LiveServer) -> tuple[WsClient, WsClient, WsClient, str, str]:
    anna = await adviser_socket(server, "anna@bank.example", "Anna")
    ben = await adviser_socket(server, "ben@bank.example", "Ben")
    conv_id, token = await new_conversation(server.base_url, customer_name="Bob")
    assert (await anna.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    customer = await WsClient.connect(server.ws_url, token=token)
    await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    await customer.request(
        "chat.send", conversation_id=conv_id, client_id=cid(), text="Ich brauche Video"
    )
    cookie, _ = await login(server.base_url, "ben@bank.example", PASSWORD)
    async with httpx.AsyncClient(
        base_url=server.base_url, cookies={"visavis_session": cookie}
    ) as c:
        advisers = (await c.get("/api/v1/advisers")).json()["advisers"]
    ben_id = next(a["id"] for a in advisers if a["name"] == "Ben")
    assert next(a for a in advisers if a["name"] == "Anna")["active"] == 1
    return anna, ben, customer, conv_id, ben_id


async def test_consultative_transfer_with_internal_notes(live_server: LiveServer) -> None:
    anna, ben, customer, conv_id, ben_id = await setup(live_server)
    ack = await anna.request(
        "transfer.start", conversation_id=conv_id, mode="consultative", to_adviser_id=ben_id
    )
    assert ack["type"] == "ack", ack
    assigned = await ben.expect("conversation.assigned")
    assert assigned["conversation"]["consultant"]["name"] == "Ben"
    # Ben gets the whole history
    await ben.wait_for(lambda f: f["type"] == "event" and f["kind"] == "chat.message")
    # the customer sees who is with them
    joined = await customer.wait_for(kind_is("consultant.joined"))
    assert joined["body"]["adviser_name"] == "Ben"

    # internal notes: both advisers see them, the customer never does
    note = await anna.request(
        "note.send",
        conversation_id=conv_id,
        client_id=cid(),
        text="Kunde will Baufinanzierung, Bonität ok",
    )
    assert note["type"] == "ack"
    got = await ben.wait_for(kind_is("note.internal"))
    assert got["body"]["text"].startswith("Kunde will")
    reply = await ben.request(
        "note.send", conversation_id=conv_id, client_id=cid(), text="Übernehme gern"
    )
    await anna.wait_for(lambda f: f["type"] == "event" and f["seq"] == reply["seq"])
    # the customer may not write notes
    err = await customer.request("note.send", conversation_id=conv_id, client_id=cid(), text="x")
    assert err["code"] == "forbidden"

    # Anna completes: Ben is the adviser now, Anna no longer follows
    assert (await anna.request("transfer.finish", conversation_id=conv_id, complete=True))[
        "type"
    ] == "ack"
    update = await customer.wait_for(
        lambda f: (
            f["type"] == "conversation.update" and f["conversation"]["adviser"]["name"] == "Ben"
        )
    )
    assert update["conversation"]["consultant"] is None
    ack = await customer.request(
        "chat.send", conversation_id=conv_id, client_id=cid(), text="Hallo Ben"
    )
    await ben.wait_for(lambda f: f["type"] == "event" and f["seq"] == ack["seq"])
    err = await anna.request("chat.send", conversation_id=conv_id, client_id=cid(), text="noch da?")
    assert err["code"] == "forbidden"
    await asyncio.sleep(0.3)
    assert ack["seq"] not in [e["seq"] for e in anna.events(conv_id)]

    # the customer never saw a note, neither live nor on a fresh replay; the first event
    # after the skipped notes names the seq before them, so no client waits for them
    def check_skips(events: list[dict[str, Any]], first: int) -> None:
        assert "note.internal" not in [e["kind"] for e in events]
        prev = first
        for e in events:
            if e["seq"] != prev + 1:
                assert e.get("prev_seq") == prev, (prev, e)
            else:
                assert "prev_seq" not in e, e
            prev = e["seq"]
        assert any("prev_seq" in e for e in events)

    live = [e for e in customer.events(conv_id) if e["seq"] > note["seq"]]
    check_skips(live, note["seq"] - 1)
    again = await WsClient.connect(live_server.ws_url, token=customer.token)
    await again.request("subscribe", conversation_id=conv_id, after_seq=0)
    replayed = again.events(conv_id)
    check_skips(replayed, 0)
    assert "conversation.transferred" in [e["kind"] for e in replayed]
    # resuming right before the notes: the first event after them still says so
    before_notes = note["seq"] - 1
    resumed = await WsClient.connect(live_server.ws_url, token=customer.token)
    await resumed.request("subscribe", conversation_id=conv_id, after_seq=before_notes)
    first = resumed.events(conv_id)[0]
    assert first["seq"] > reply["seq"] and first["prev_seq"] == before_notes
    await resumed.close()
    # ... but Ben's full history has them
    cookie, _ = await login(live_server.base_url, "ben@bank.example", PASSWORD)
    async with httpx.AsyncClient(
        base_url=live_server.base_url, cookies={"visavis_session": cookie}
    ) as c:
        events = (await c.get(f"/api/v1/conversations/{conv_id}")).json()["events"]
        assert [e["kind"] for e in events].count("note.internal") == 2
    for ws in (anna, ben, customer, again):
        await ws.close()


async def test_blind_transfer_to_colleague_and_to_team(live_server: LiveServer) -> None:
    live_server.cli("team", "set", "video", "--name", "Video-Beratung", "--topics", "video",
                    "--hours", ALWAYS_OPEN)  # fmt: skip
    live_server.restart()
    anna, ben, customer, conv_id, ben_id = await setup(live_server)
    err = await ben.request(
        "transfer.start", conversation_id=conv_id, mode="blind", to_team_id="video"
    )
    assert err["code"] == "forbidden"  # only the conversation's adviser hands it on
    err = await anna.request(
        "transfer.start", conversation_id=conv_id, mode="consultative", to_team_id="video"
    )
    assert err["code"] == "bad_request"  # a team is reached blind
    err = await anna.request("transfer.start", conversation_id=conv_id, mode="blind")
    assert err["code"] == "bad_request"
    assert (
        await anna.request(
            "transfer.start", conversation_id=conv_id, mode="blind", to_adviser_id=ben_id
        )
    )["type"] == "ack"
    await ben.expect("conversation.assigned")
    moved = await customer.wait_for(kind_is("conversation.transferred"))
    assert moved["body"]["to_adviser_name"] == "Ben"

    # Ben sends the customer on to the video team's queue: back in a queue, at the front
    assert (
        await ben.request(
            "transfer.start", conversation_id=conv_id, mode="blind", to_team_id="video"
        )
    )["type"] == "ack"
    pos = await customer.expect("queue.position")
    assert pos["position"] == 1
    err = await ben.request(
        "transfer.start", conversation_id=conv_id, mode="blind", to_team_id="nope"
    )
    assert err["code"] in ("not_found", "forbidden")
    taken = await anna.request("conversation.accept", conversation_id=conv_id)
    assert taken["type"] == "ack"
    for ws in (anna, ben, customer):
        await ws.close()
