"""Dropped sockets, resends and restarts: nothing lost, nothing doubled (R8)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import LiveServer, make_server
from helpers import adviser_socket
from wsclient import WsClient, cid, new_conversation


async def active_conversation(server: LiveServer) -> tuple[WsClient, str, str]:
    adviser = await adviser_socket(server)
    conv_id, token = await new_conversation(server.base_url, customer_name="Bob")
    assert (await adviser.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    await adviser.expect("subscribed")
    return adviser, conv_id, token


async def test_resume_after_dropped_socket_no_loss_no_duplicate(live_server: LiveServer) -> None:
    adviser, conv_id, token = await active_conversation(live_server)
    customer = await WsClient.connect(live_server.ws_url, token=token)
    await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    seen = {e["seq"] for e in customer.events(conv_id)}
    last = max(seen)

    # The customer's network drops: the socket dies without a close handshake.
    customer.ws.transport.abort()
    await customer.wait_closed()

    # Meanwhile the adviser writes three messages.
    sent = []
    for i in range(3):
        ack = await adviser.request(
            "chat.send", conversation_id=conv_id, client_id=cid(), text=f"m{i}"
        )
        sent.append(ack["seq"])

    # The customer comes back and resumes after the last seq it had.
    customer = await WsClient.connect(live_server.ws_url, token=token)
    sub = await customer.request("subscribe", conversation_id=conv_id, after_seq=last)
    got = [e["seq"] for e in customer.events(conv_id)]
    assert got == sent, (got, sent)
    assert sub["conversation"]["last_seq"] == sent[-1]

    # A message the customer sent just before the drop, never acked, is resent with
    # its client_id: stored once, acked with the original seq.
    client_id = cid()
    first = await customer.request(
        "chat.send", conversation_id=conv_id, client_id=client_id, text="resend me"
    )
    again = await customer.request(
        "chat.send", conversation_id=conv_id, client_id=client_id, text="resend me"
    )
    assert first["seq"] == again["seq"]
    await asyncio.sleep(0.2)
    adviser_msgs = [
        e
        for e in adviser.events(conv_id)
        if e["kind"] == "chat.message" and e["client_id"] == client_id
    ]
    assert len(adviser_msgs) == 1
    customer_copies = [e for e in customer.events(conv_id) if e.get("client_id") == client_id]
    assert len(customer_copies) == 1
    await asyncio.gather(adviser.close(), customer.close())


async def test_resubscribe_with_nothing_new_then_live_and_racing_writes(
    live_server: LiveServer,
) -> None:
    """Back with every seq it had: `subscribed` at once (no replay); what the adviser
    writes while the socket subscribes still arrives, each seq once and in order."""
    adviser, conv_id, token = await active_conversation(live_server)
    customer = await WsClient.connect(live_server.ws_url, token=token)
    await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    last = max(e["seq"] for e in customer.events(conv_id))
    await customer.close()

    customer = await WsClient.connect(live_server.ws_url, token=token)
    sub = await customer.request("subscribe", conversation_id=conv_id, after_seq=last)
    assert customer.events(conv_id) == []
    assert sub["conversation"]["last_seq"] == last
    ack = await adviser.request("chat.send", conversation_id=conv_id, client_id=cid(), text="x")
    got = await customer.expect("event", seq=ack["seq"])
    assert got["seq"] == last + 1
    await customer.close()

    # A write racing each subscribe: before, during or after the summary is read.
    for i in range(10):
        last = ack["seq"]
        customer = await WsClient.connect(live_server.ws_url, token=token)
        sub_id = await customer.send("subscribe", conversation_id=conv_id, after_seq=last)
        ack = await adviser.request(
            "chat.send", conversation_id=conv_id, client_id=cid(), text=f"r{i}"
        )
        await customer.wait_for(lambda f, sub_id=sub_id: f.get("id") == sub_id)
        await customer.expect("event", seq=ack["seq"])  # taken from the received frames
        await customer.request("ping")  # after anything sent before it
        assert customer.events(conv_id) == [], last  # nothing twice, nothing else
        await customer.close()
    await adviser.close()


async def test_socket_sees_every_seq_once_in_order_under_concurrency(
    live_server: LiveServer,
) -> None:
    adviser, conv_id, token = await active_conversation(live_server)
    customer = await WsClient.connect(live_server.ws_url, token=token)
    await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    # Both sides write at once, many frames in flight.
    await asyncio.gather(
        *(
            adviser.send("chat.send", conversation_id=conv_id, client_id=cid(), text=f"a{i}")
            for i in range(15)
        ),
        *(
            customer.send("chat.send", conversation_id=conv_id, client_id=cid(), text=f"c{i}")
            for i in range(15)
        ),
    )
    for ws in (adviser, customer):
        # created=1, accepted=2, then 30 messages: the last is 32; stragglers
        # (a duplicate) would arrive within the grace period after it.
        last = await ws.wait_for(lambda f: f["type"] == "event" and f["seq"] == 32, timeout=10)
        await asyncio.sleep(0.3)
        seqs = [e["seq"] for e in ws.events(conv_id)] + [last["seq"]]
        assert seqs == list(range(1, 33)), seqs
    await asyncio.gather(adviser.close(), customer.close())


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_server_restart_loses_nothing(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_database_url") if kind == "postgresql" else None
    server = make_server(tmp_path, database_url=url)
    server.start()
    try:
        adviser, conv_id, token = await active_conversation(server)
        _, waiting_token = await new_conversation(server.base_url, customer_name="Queued")
        await new_conversation(server.base_url, customer_name="Queued 2")
        ack = await adviser.request(
            "chat.send", conversation_id=conv_id, client_id=cid(), text="before"
        )
        before_seq = ack["seq"]

        server.restart()

        # Clients reconnect by themselves (here: by hand) with their old credentials.
        customer = await WsClient.connect(server.ws_url, token=token)
        await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
        texts = [e["body"].get("text") for e in customer.events(conv_id)]
        assert "before" in texts
        ack = await customer.request(
            "chat.send", conversation_id=conv_id, client_id=cid(), text="after"
        )
        assert ack["seq"] == before_seq + 1
        waiting = await WsClient.connect(server.ws_url, token=waiting_token)
        pos = await waiting.expect("queue.position")
        assert pos["position"] == 1 and pos["waiting"] == 2
        await asyncio.gather(customer.close(), waiting.close())
        await adviser.close()
    finally:
        server.stop()
        print(server.log()[-3000:])
