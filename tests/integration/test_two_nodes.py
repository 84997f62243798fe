"""Two nodes behind nginx on PostgreSQL + Redis: a customer on node A, advisers on
node B (and a supervisor and a colleague on A) work together as on one server; then
node A is killed and its clients carry on through nginx on node B, nothing lost or
doubled."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer, free_port, make_server
from helpers import PASSWORD, sample
from nginx import Nginx
from nodes import START_TIMEOUT_S, TwoNodes, two_nodes_fixture  # noqa: F401  (the fixture)
from redis_server import RedisServer
from wsclient import WsClient, cid, login, new_conversation

from visavis.web.hub import DRAIN_CLOSE


def kind_is(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["type"] == "event" and f["kind"] == kind


async def adviser_on(
    server: LiveServer | Nginx, email: str, status: str = "available"
) -> tuple[WsClient, str]:
    """An adviser's socket on that node (or through nginx), with their id."""
    cookie, _ = await login(server.base_url, email, PASSWORD)
    ws = await WsClient.connect(server.ws_url, cookie=cookie, hello=False)
    welcome = await ws.request("hello")
    assert welcome["type"] == "welcome", welcome
    ack = await ws.request("status.set", status=status)
    assert ack["type"] == "ack", ack
    return ws, welcome["adviser"]["id"]


def events_of(ws: WsClient, conv_id: str) -> list[int]:
    """The seqs of every event the socket received for the conversation, in order."""
    return [
        f["seq"] for f in ws.received if f["type"] == "event" and f["conversation_id"] == conv_id
    ]


async def test_customer_on_a_adviser_on_b_then_a_is_killed(two_nodes: TwoNodes) -> None:
    a, b, proxy = two_nodes.a, two_nodes.b, two_nodes.nginx
    a.add_adviser("anna@bank.example", PASSWORD, "Anna")
    a.add_adviser("ben@bank.example", PASSWORD, "Ben")
    a.add_adviser("boss@bank.example", PASSWORD, "Boss", role="supervisor")

    # Anna on B; the supervisor on A sees her in the overview (presence from B)
    anna, anna_id = await adviser_on(b, "anna@bank.example")
    # (away: offers go to Anna only)
    boss, _ = await adviser_on(a, "boss@bank.example", "away")
    await boss.wait_for(
        lambda f: (
            f["type"] == "overview.snapshot"
            and any(x["id"] == anna_id and x["status"] == "available" for x in f["advisers"])
        )
    )

    # the customer starts through nginx and waits on A: advisers on both nodes count
    conv_id, token = await new_conversation(
        proxy.base_url, customer_name="Bob", message={"client_id": cid(), "text": "Hallo"}
    )
    customer = await WsClient.connect(a.ws_url, token=token)
    pos = await customer.expect("queue.position")
    assert pos["position"] == 1 and pos["advisers_available"] == 1, pos
    sub = await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    assert sub["type"] == "subscribed"
    snap = await anna.wait_for(lambda f: f["type"] == "queue.snapshot" and f["entries"])
    assert snap["entries"][0]["conversation_id"] == conv_id
    offered = await anna.expect("conversation.offered", conversation_id=conv_id)
    assert offered["customer_name"] == "Bob"

    # Anna (B) accepts; the customer and the supervisor (A) hear it
    assert (await anna.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    await anna.expect("conversation.assigned")
    accepted = await customer.wait_for(kind_is("conversation.accepted"))
    assert accepted["body"]["adviser_name"] == "Anna"
    await boss.wait_for(
        lambda f: (
            f["type"] == "overview.snapshot"
            and any(c["id"] == conv_id for c in f["conversations"])
            and any(x["id"] == anna_id and x["active"] == 1 for x in f["advisers"])
        )
    )

    # chat, typing and receipts across the nodes, both ways
    await anna.send("typing", conversation_id=conv_id, active=True)
    typing = await customer.expect("typing")
    assert typing["author"]["role"] == "adviser"
    ack = await anna.request("chat.send", conversation_id=conv_id, client_id=cid(), text="Gern!")
    got = await customer.wait_for(lambda f: kind_is("chat.message")(f) and f["seq"] == ack["seq"])
    await customer.send(
        "receipt", conversation_id=conv_id, delivered_seq=got["seq"], read_seq=got["seq"]
    )
    receipt = await anna.expect("receipt", role="customer")
    assert receipt["read_seq"] == got["seq"]
    await customer.send("typing", conversation_id=conv_id, active=True)
    assert (await anna.expect("typing"))["author"]["role"] == "customer"
    ack = await customer.request("chat.send", conversation_id=conv_id, client_id=cid(), text="Ok")
    await anna.wait_for(lambda f: kind_is("chat.message")(f) and f["seq"] == ack["seq"])
    # node B measured how long the bus took to bring it A's messages
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"{b.base_url}/metrics")).text
    assert 0 < sample(metrics, "visavis_bus_lag_seconds") < 60

    # a call: asked on A, answered on B, signalling both ways
    assert (await customer.request("call.request", conversation_id=conv_id, media="video"))[
        "type"
    ] == "ack"
    call_id = (await anna.wait_for(kind_is("call.requested")))["body"]["call_id"]
    answer = await anna.request(
        "call.answer", conversation_id=conv_id, call_id=call_id, accept=True
    )
    assert answer["type"] == "ack", answer
    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
    await customer.send("rtc.signal", conversation_id=conv_id, call_id=call_id, description=offer)
    assert (await anna.expect("rtc.signal"))["description"] == offer
    reply = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}
    await anna.send("rtc.signal", conversation_id=conv_id, call_id=call_id, description=reply)
    assert (await customer.expect("rtc.signal"))["description"] == reply
    # the customer's second tab, on node B, knows that the tab on A holds the call
    tab_b = await WsClient.connect(b.ws_url, token=token)
    await tab_b.request("subscribe", conversation_id=conv_id, after_seq=0)
    err = await tab_b.request(
        "rtc.signal", conversation_id=conv_id, call_id=call_id, description=offer
    )
    assert err["type"] == "error" and err["code"] == "call_elsewhere", err
    # ... until it takes the call over: the tab on A is told, B gets the signals
    take = await tab_b.request("call.take", conversation_id=conv_id, call_id=call_id)
    assert take["type"] == "ack", take
    await customer.expect("call.moved", call_id=call_id)
    cand = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0"}
    await anna.send("rtc.signal", conversation_id=conv_id, call_id=call_id, candidate=cand)
    assert (await tab_b.expect("rtc.signal"))["candidate"]["candidate"] == cand["candidate"]
    await tab_b.close()
    hangup = await anna.request("call.hangup", conversation_id=conv_id, call_id=call_id)
    assert hangup["type"] == "ack"
    await customer.wait_for(kind_is("call.ended"))

    # a blind transfer from Anna (B) to Ben (A); the supervisor (A) sees the load move
    ben, ben_id = await adviser_on(a, "ben@bank.example")
    ack = await anna.request(
        "transfer.start", conversation_id=conv_id, mode="blind", to_adviser_id=ben_id
    )
    assert ack["type"] == "ack", ack
    assigned = await ben.expect("conversation.assigned")
    assert assigned["conversation"]["id"] == conv_id
    moved = await customer.wait_for(kind_is("conversation.transferred"))
    assert moved["body"]["to_adviser_name"] == "Ben"
    await boss.wait_for(
        lambda f: (
            f["type"] == "overview.snapshot"
            and any(x["id"] == ben_id and x["active"] == 1 for x in f["advisers"])
        )
    )
    ack = await ben.request("chat.send", conversation_id=conv_id, client_id=cid(), text="Ben hier")
    await customer.wait_for(lambda f: kind_is("chat.message")(f) and f["seq"] == ack["seq"])

    # the customer sends a message; whether it arrived is what a client cannot know
    # when its node dies, so it sends it again after reconnecting (same client id)
    last_words = cid()
    sent = await customer.request(
        "chat.send", conversation_id=conv_id, client_id=last_words, text="Noch da?"
    )
    assert sent["type"] == "ack"

    # node A dies: the customer's, Ben's and the supervisor's sockets drop
    two_nodes.kill_a()
    for ws in (customer, ben, boss):
        await ws.wait_closed(timeout=10)
    before = events_of(customer, conv_id)

    # they reconnect through nginx, which now only reaches B
    customer2 = await WsClient.connect(proxy.ws_url, token=token)
    sub = await customer2.request("subscribe", conversation_id=conv_id, after_seq=max(before))
    assert sub["type"] == "subscribed", sub
    again = await customer2.request(
        "chat.send", conversation_id=conv_id, client_id=last_words, text="Noch da?"
    )
    assert again["type"] == "ack" and again["seq"] == sent["seq"], (again, sent)
    ben2, _ = await adviser_on(proxy, "ben@bank.example")
    await ben2.request("subscribe", conversation_id=conv_id, after_seq=0)
    ack = await ben2.request("chat.send", conversation_id=conv_id, client_id=cid(), text="Ja!")
    await customer2.wait_for(lambda f: kind_is("chat.message")(f) and f["seq"] == ack["seq"])

    # Ben's replay: every seq once; the message sent twice is stored once
    log = [f for f in ben2.received if f["type"] == "event" and f["conversation_id"] == conv_id]
    assert [e["seq"] for e in log] == list(range(1, ack["seq"] + 1))
    assert [e["seq"] for e in log if e.get("client_id") == last_words] == [sent["seq"]]
    # the customer, across both sockets: nothing twice, and every message
    seen = before + events_of(customer2, conv_id)
    assert seen == sorted(set(seen)), seen
    messages = {e["seq"] for e in log if e["kind"] == "chat.message"}
    assert messages <= set(seen), (messages, seen)

    # the supervisor comes back through nginx too and sees Ben, now served by B
    boss2, _ = await adviser_on(proxy, "boss@bank.example", "away")
    await boss2.wait_for(
        lambda f: (
            f["type"] == "overview.snapshot"
            and any(x["id"] == ben_id and x["status"] == "available" for x in f["advisers"])
        )
    )
    await asyncio.gather(*(ws.close() for ws in (anna, customer2, ben2, boss2)))


async def test_sigterm_drains_node_a_into_node_b(two_nodes: TwoNodes) -> None:
    """SIGTERM: node A tells its sockets to reconnect (1012), and exits once they went;
    they carry on through nginx on node B."""
    a, b, proxy = two_nodes.a, two_nodes.b, two_nodes.nginx
    a.add_adviser("anna@bank.example", PASSWORD, "Anna")
    anna, _ = await adviser_on(b, "anna@bank.example")
    conv_id, token = await new_conversation(proxy.base_url, customer_name="Bob")
    assert (await anna.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
    customer = await WsClient.connect(a.ws_url, token=token)
    await customer.request("subscribe", conversation_id=conv_id, after_seq=0)

    assert a.proc is not None
    a.proc.send_signal(signal.SIGTERM)
    assert await customer.wait_closed(timeout=20) == DRAIN_CLOSE
    # the node exits by itself once its one socket is gone (uvicorn ends by raising
    # the SIGTERM it caught again, after its shutdown: -15)
    assert await asyncio.to_thread(a.proc.wait, 20) == -signal.SIGTERM
    log = a.log()
    assert "draining: 1 sockets" in log and "still open" not in log, log

    again = await WsClient.connect(proxy.ws_url, token=token)
    before = events_of(customer, conv_id)
    await again.request("subscribe", conversation_id=conv_id, after_seq=max(before))
    ack = await anna.request("chat.send", conversation_id=conv_id, client_id=cid(), text="Hallo")
    await again.wait_for(lambda f: kind_is("chat.message")(f) and f["seq"] == ack["seq"])
    seen = before + events_of(again, conv_id)
    assert seen == list(range(1, ack["seq"] + 1)), seen
    await asyncio.gather(anna.close(), again.close())


def listening_sockets(port: int) -> int:
    """How many sockets listen on the IPv4 TCP port (the kernel's table: each line
    is a socket, state 0A is LISTEN)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local = [line.split()[1:4:2] for line in lines]  # local address, state
    return sum(
        1 for address, state in local if int(address.split(":")[1], 16) == port and state == "0A"
    )


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
async def test_two_worker_processes_on_one_port(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    """`visavis serve --workers 2`: two processes accept on one port over Redis,
    each about half of the sockets (SO_REUSEPORT; on one shared socket one worker
    took most); a customer and an adviser chat whichever process each landed on;
    SIGTERM to the parent drains both. On SQLite the two share one file, taking
    turns at its write lock."""
    # the database first: without PostgreSQL this skips, before a Redis is left running
    url = request.getfixturevalue("pg_database_url") if database == "postgresql" else None
    redis = RedisServer(free_port(), tmp_path / "redis")
    redis.start()
    server = make_server(tmp_path, url, VISAVIS_REDIS_URL=redis.url)
    server.env["VISAVIS_WORKERS"] = "2"
    try:
        server.start(timeout_s=START_TIMEOUT_S)
        assert listening_sockets(server.port) == 2  # one per worker, not one shared
        server.add_adviser("anna@bank.example", PASSWORD, "Anna")
        conv_id, token = await new_conversation(server.base_url, customer_name="Bob")
        advisers = [await adviser_on(server, "anna@bank.example") for _ in range(4)]
        customers = [await WsClient.connect(server.ws_url, token=token) for _ in range(60)]
        anna = advisers[0][0]
        assert (await anna.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
        for ws in customers:
            await ws.request("subscribe", conversation_id=conv_id, after_seq=0)
        ack = await anna.request("chat.send", conversation_id=conv_id, client_id=cid(), text="Hi")
        for ws in customers:
            await ws.wait_for(lambda f: kind_is("chat.message")(f) and f["seq"] == ack["seq"])
        for ws, _ in advisers[1:]:  # every console tab, on either process, hears it
            await ws.wait_for(lambda f: kind_is("chat.message")(f) and f["seq"] == ack["seq"])
        # both processes write at once (8 sockets on one of two: 1 run in 128): each
        # message stored once, the seqs one after the other, every tab hears them all
        acks = await asyncio.gather(
            *(
                ws.request("chat.send", conversation_id=conv_id, client_id=cid(), text=f"Q{i}")
                for i, ws in enumerate(customers[:8])
            )
        )
        seqs = sorted(a["seq"] for a in acks)
        assert seqs == list(range(ack["seq"] + 1, ack["seq"] + 9)), acks
        for ws, _ in advisers:
            for seq in seqs:
                await ws.wait_for(lambda f, s=seq: kind_is("chat.message")(f) and f["seq"] == s)
        log = server.log()
        assert log.count("bus and presence on Redis") == 2, log

        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        for ws in [*customers, *(w for w, _ in advisers)]:
            assert await ws.wait_closed(timeout=20) == DRAIN_CLOSE
        # 64 sockets, spread by a hash of each connection's ports: a worker with
        # fewer than 12 of them happens by chance once in 10 million runs
        drained = [int(n) for n in re.findall(r"draining: (\d+) sockets", server.log())]
        assert len(drained) == 2 and sum(drained) == 64, drained
        assert min(drained) >= 12, drained
        # an upper bound: at load 10+ one worker's shutdown took over 60 s
        assert await asyncio.to_thread(server.proc.wait, 180) == 0
    except BaseException:
        print(server.log())
        raise
    finally:
        server.stop()
        redis.stop()
