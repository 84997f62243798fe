"""Text consultation over a real server and real WebSockets."""

from __future__ import annotations

import asyncio

import httpx
from conftest import LiveServer
from helpers import PASSWORD, adviser_socket
from wsclient import WsClient, cid, login, new_conversation


async def test_customer_and_adviser_chat_end_to_end(live_server: LiveServer) -> None:
    adviser = await adviser_socket(live_server)
    conv_id, token = await new_conversation(
        live_server.base_url,
        customer_name="Bob",
        topic="konto",
        message={"client_id": cid(), "text": "Hallo, ich habe eine Frage"},
    )
    snap = await adviser.wait_for(lambda f: f["type"] == "queue.snapshot" and f["entries"])
    assert snap["entries"][0]["conversation_id"] == conv_id
    assert snap["entries"][0]["preview"] == "Hallo, ich habe eine Frage"

    customer = await WsClient.connect(live_server.ws_url, token=token)
    pos = await customer.expect("queue.position")
    assert pos["position"] == 1 and pos["waiting"] == 1
    sub = await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    assert sub["type"] == "subscribed" and sub["conversation"]["status"] == "queued"
    history = customer.events(conv_id)
    assert [e["kind"] for e in history] == ["conversation.created", "chat.message"]

    ack = await adviser.request("conversation.accept", conversation_id=conv_id)
    assert ack["type"] == "ack"
    assigned = await adviser.expect("conversation.assigned")
    assert assigned["conversation"]["id"] == conv_id
    await adviser.expect("subscribed")
    accepted = await customer.wait_for(
        lambda f: f["type"] == "event" and f["kind"] == "conversation.accepted"
    )
    assert accepted["body"]["adviser_name"] == "Anna Berger"
    status = await adviser.wait_for(lambda f: f["type"] == "adviser.status" and f["active"] == 1)
    assert status["max_chats"] == 3

    # adviser -> customer, with typing and receipts
    await adviser.send("typing", conversation_id=conv_id, active=True)
    typing = await customer.expect("typing")
    assert typing["author"]["role"] == "adviser" and typing["active"] is True
    ack = await adviser.request("chat.send", conversation_id=conv_id, client_id=cid(), text="Gern!")
    got = await customer.wait_for(lambda f: f["type"] == "event" and f["kind"] == "chat.message")
    assert got["body"]["text"] == "Gern!" and got["seq"] == ack["seq"]
    await customer.send(
        "receipt", conversation_id=conv_id, delivered_seq=got["seq"], read_seq=got["seq"]
    )
    receipt = await adviser.expect("receipt", role="customer")
    assert receipt["read_seq"] == got["seq"]

    # customer -> adviser
    ack = await customer.request(
        "chat.send", conversation_id=conv_id, client_id=cid(), text="Danke"
    )
    got = await adviser.wait_for(
        lambda f: f["type"] == "event" and f["kind"] == "chat.message" and f["seq"] == ack["seq"]
    )
    assert got["author"]["role"] == "customer"

    # customer ends; both see it; writing afterwards is refused
    ack = await customer.request("conversation.end", conversation_id=conv_id)
    assert ack["type"] == "ack"
    ended = await adviser.wait_for(
        lambda f: f["type"] == "event" and f["kind"] == "conversation.ended"
    )
    assert ended["body"]["by"] == "customer"
    err = await customer.request("chat.send", conversation_id=conv_id, client_id=cid(), text="x")
    assert err["type"] == "error" and err["code"] == "invalid_state"

    # every event seen by each side exactly once, in order
    seqs = [e["seq"] for e in customer.events(conv_id)]
    assert seqs == sorted(set(seqs))

    # history lookup over HTTP
    cookie, _ = await login(live_server.base_url, "anna@bank.example", PASSWORD)
    async with httpx.AsyncClient(
        base_url=live_server.base_url, cookies={"visavis_session": cookie}
    ) as c:
        listing = (
            await c.get("/api/v1/conversations", params={"status": "ended", "q": "frage"})
        ).json()
        assert [x["id"] for x in listing["conversations"]] == [conv_id]
        full = (await c.get(f"/api/v1/conversations/{conv_id}")).json()
        assert [e["seq"] for e in full["events"]] == list(
            range(1, full["conversation"]["last_seq"] + 1)
        )
    await asyncio.gather(adviser.close(), customer.close())
