"""`visavis serve --workers 2` on Redis: every socket of an adviser and of the
customers whose conversations the adviser took ends on the adviser's home worker
(web/handoff.py), whichever worker the kernel gave it; chat goes both ways with
nothing lost or doubled, a `subscribe` pipelined right behind `hello` is answered
after the move, and a customer whose conversation is still queued stays where the
kernel put it. Which worker holds how many sockets, and how many were moved, is
read where operators read it: /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import uuid
from pathlib import Path

import httpx
import redis.asyncio as aioredis
import websockets
from conftest import LiveServer, free_port, make_server
from helpers import PASSWORD
from nodes import START_TIMEOUT_S
from redis_server import RedisServer
from test_two_nodes import adviser_on, kind_is
from wsclient import WsClient, cid, new_conversation

from visavis.web.fdpass import channel_address

CUSTOMERS = 8
ROUNDS = 3  # each customer connects this often: ~50 sockets, the kernel puts some away


async def home_of(redis: RedisServer, adviser_id: str) -> int:
    """The adviser's home worker as the workers keep it (web/homes.py): assigned at
    the adviser's first hello."""
    client = aioredis.Redis.from_url(redis.url)
    try:
        home = await client.hget("visavis:homes:2", adviser_id)
    finally:
        await client.aclose()
    assert home is not None, f"adviser {adviser_id} has no home yet"
    return int(home)


def metric(text: str, name: str, label: str, value: str) -> float:
    found = re.search(rf'^{name}{{{label}="{value}"}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def metrics(server: LiveServer) -> str:
    async with httpx.AsyncClient() as client:
        r = await client.get(server.base_url + "/metrics")
        r.raise_for_status()
        return r.text


async def sockets_per_worker(server: LiveServer) -> tuple[float, float]:
    text = await metrics(server)
    return tuple(  # type: ignore[return-value]
        metric(text, "visavis_worker_websockets", "worker", str(i)) for i in range(2)
    )


async def handoffs(server: LiveServer, result: str) -> float:
    return metric(await metrics(server), "visavis_ws_handoffs_total", "result", result)


async def until_sockets(server: LiveServer, expected: tuple[float, float]) -> None:
    """Until /metrics counts these sockets per worker (a closed socket's worker counts
    it off a moment after the client saw it close)."""
    last: list[tuple[float, float]] = []

    async def counted() -> bool:
        last.append(await sockets_per_worker(server))
        return last[-1] == expected

    try:
        async with asyncio.timeout(30):
            while not await counted():  # noqa: ASYNC110 (a state read over HTTP)
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"sockets per worker {last[-1]}, expected {expected}") from None


async def customer_with_pipelined_subscribe(server: LiveServer, token: str, conv: str) -> WsClient:
    """A reconnecting client's way in: `hello` and `subscribe` in one write, before
    any answer."""
    ws = await WsClient.connect(server.ws_url, token=token, hello=False)
    hello_id, sub_id = uuid.uuid4().hex[:12], uuid.uuid4().hex[:12]
    proto = ws.ws.protocol
    proto.send_text(json.dumps({"v": 1, "type": "hello", "id": hello_id, "token": token}).encode())
    sub = {"v": 1, "type": "subscribe", "id": sub_id, "conversation_id": conv, "after_seq": 0}
    proto.send_text(json.dumps(sub).encode())
    ws.ws.transport.write(b"".join(proto.data_to_send()))
    welcome = await ws.wait_for(lambda f: f.get("id") == hello_id, timeout=10)
    assert welcome["type"] == "welcome", welcome
    subscribed = await ws.wait_for(lambda f: f.get("id") == sub_id, timeout=10)
    assert subscribed["type"] == "subscribed", subscribed
    return ws


def two_workers(tmp_path: Path, database_url: str) -> tuple[LiveServer, RedisServer]:
    """`visavis serve --workers 2` on Redis, with /metrics adding the workers up."""
    redis = RedisServer(free_port(), tmp_path / "redis")
    redis.start()
    server = make_server(tmp_path, database_url, VISAVIS_REDIS_URL=redis.url)
    server.env["VISAVIS_WORKERS"] = "2"
    (tmp_path / "metrics").mkdir()
    server.env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    return server, redis


async def test_a_conversations_sockets_end_on_its_advisers_worker(
    tmp_path: Path, pg_database_url: str
) -> None:
    server, redis = two_workers(tmp_path, pg_database_url)
    open_sockets: list[WsClient] = []
    try:
        server.start(timeout_s=START_TIMEOUT_S)
        server.add_adviser("anna@bank.example", PASSWORD, "Anna", max_chats=CUSTOMERS + 2)
        # the adviser's console, opened several times: each tab lands on her home
        tabs = [await adviser_on(server, "anna@bank.example") for _ in range(ROUNDS)]
        anna, anna_id = tabs[0]
        for ws, _ in tabs[1:]:
            await ws.close()
        home = await home_of(redis, anna_id)
        expected = [0.0, 0.0]
        expected[home] = 1
        await until_sockets(server, (expected[0], expected[1]))

        convs = [
            await new_conversation(server.base_url, customer_name=f"Kunde {i}")
            for i in range(CUSTOMERS)
        ]
        for conv_id, _ in convs:
            ack = await anna.request("conversation.accept", conversation_id=conv_id)
            assert ack["type"] == "ack", ack

        # each customer reconnects: hello and subscribe pipelined, answered both
        customers: list[WsClient] = []
        for _round in range(ROUNDS):
            for ws in customers:
                await ws.close()
            customers = [
                await customer_with_pipelined_subscribe(server, token, conv_id)
                for conv_id, token in convs
            ]
        open_sockets = [anna, *customers]
        expected[home] = 1 + CUSTOMERS
        await until_sockets(server, (expected[0], expected[1]))
        moved = await handoffs(server, "sent")
        # 27 of the 30 sockets moved or stayed by the kernel's choice: none moved, 1 in 10^8
        assert moved >= 1, await metrics(server)
        assert await handoffs(server, "received") == moved
        assert await handoffs(server, "failed") == 0

        # chat both ways on the moved sockets: each message once, in order
        acks = await asyncio.gather(
            *(
                ws.request("chat.send", conversation_id=conv_id, client_id=cid(), text=f"Q{i}")
                for i, (ws, (conv_id, _)) in enumerate(zip(customers, convs, strict=True))
            )
        )
        for (conv_id, _), ack in zip(convs, acks, strict=True):
            assert ack["type"] == "ack", ack
            await anna.wait_for(
                lambda f, c=conv_id, s=ack["seq"]: (
                    kind_is("chat.message")(f) and f["conversation_id"] == c and f["seq"] == s
                )
            )
        answers = []
        for conv_id, _ in convs:
            answer = await anna.request(
                "chat.send", conversation_id=conv_id, client_id=cid(), text="A"
            )
            assert answer["type"] == "ack", answer
            answers.append(answer["seq"])
        for ws, seq in zip(customers, answers, strict=True):
            await ws.wait_for(lambda f, s=seq: kind_is("chat.message")(f) and f["seq"] == s)
            seqs = [f["seq"] for f in ws.received if f["type"] == "event"]
            assert seqs == sorted(set(seqs)), seqs  # nothing doubled, in order
            assert seqs == list(range(1, seq + 1)), seqs  # nothing lost
        for (conv_id, _), ack, seq in zip(convs, acks, answers, strict=True):
            # from the accept on: each event once, in order
            seqs = [
                f["seq"]
                for f in anna.received
                if f["type"] == "event" and f["conversation_id"] == conv_id
            ]
            assert seqs == sorted(set(seqs)), (conv_id, seqs)
            assert ack["seq"] in seqs and seq in seqs, (conv_id, seqs)

        # a queued conversation's customer stays where the kernel put it
        queued_id, queued_token = await new_conversation(server.base_url, customer_name="Wartend")
        before = await handoffs(server, "sent")
        waiting = [await WsClient.connect(server.ws_url, token=queued_token) for _ in range(16)]
        open_sockets += waiting
        for ws in waiting:
            sub = await ws.request("subscribe", conversation_id=queued_id, after_seq=0)
            assert sub["type"] == "subscribed", sub
        assert await handoffs(server, "sent") == before
        assert await handoffs(server, "failed") == 0
        per_worker = await sockets_per_worker(server)
        assert sum(per_worker) == 1 + CUSTOMERS + len(waiting), per_worker
        # all 16 on the home worker by chance: 1 in 65536
        away = int(per_worker[1 - home])
        assert away >= 1, per_worker

        # once Anna takes it, the sockets on the other worker are told to move (4010)
        # and the others stay; reconnected, their hello brings them to her worker
        ack = await anna.request("conversation.accept", conversation_id=queued_id)
        assert ack["type"] == "ack", ack
        expected[home] = 1 + CUSTOMERS + len(waiting) - away
        await until_sockets(server, (expected[0], expected[1]))

        async def moved_or_open(ws: WsClient) -> int | None:
            try:
                await ws.request("ping")
            except (ConnectionError, websockets.exceptions.ConnectionClosed):
                return await ws.wait_closed()
            return None

        codes = await asyncio.gather(*(moved_or_open(ws) for ws in waiting))
        assert sorted(codes, key=str) == [*([4010] * away), *([None] * (16 - away))], codes
        before = await handoffs(server, "sent")
        back = [
            await customer_with_pipelined_subscribe(server, queued_token, queued_id)
            for code in codes
            if code is not None
        ]
        open_sockets += back
        expected[home] = 1 + CUSTOMERS + len(waiting)
        await until_sockets(server, (expected[0], expected[1]))
        # each one that landed on the other worker again was handed over at its hello
        assert await handoffs(server, "sent") >= before
        assert await handoffs(server, "failed") == 0
    except BaseException:
        print(server.log())
        raise
    finally:
        for ws in open_sockets:
            await ws.close()
        server.stop()
        redis.stop()


def worker_pid(parent_pid: int, index: int) -> int:
    """The pid of worker `index`: the process holding its handoff channel's socket."""
    # the name's nonce is the server's: matched around it
    head, _, tail = channel_address(parent_pid, index, "*").replace("\0", "@").partition("*")
    lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    names = {line.split()[6]: line.split()[-1] for line in lines if len(line.split()) > 7}
    inodes = {i for i, name in names.items() if name.startswith(head) and name.endswith(tail)}
    children = Path(f"/proc/{parent_pid}/task/{parent_pid}/children").read_text().split()
    for pid in children:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in {f"socket:[{inode}]" for inode in inodes}:
                    return int(pid)
    raise AssertionError(f"no worker holds {head}…{tail} (children {children})")


async def test_a_socket_whose_home_worker_does_not_answer_stays_served(
    tmp_path: Path, pg_database_url: str
) -> None:
    """The home worker stopped (SIGSTOP): a customer's hello on the other worker waits
    for the handoff's deadline, then that worker serves the socket itself; once the
    home worker runs again and finds the late offer, it drops its copy of the fd
    without a word on the wire, and the customer chats on."""
    server, redis = two_workers(tmp_path, pg_database_url)
    open_sockets: list[WsClient] = []
    home_pid = 0
    try:
        server.start(timeout_s=START_TIMEOUT_S)
        server.add_adviser("anna@bank.example", PASSWORD, "Anna")
        anna, anna_id = await adviser_on(server, "anna@bank.example")
        open_sockets.append(anna)
        conv_id, token = await new_conversation(server.base_url, customer_name="Bob")
        assert (await anna.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
        home = await home_of(redis, anna_id)
        assert server.proc is not None
        home_pid = worker_pid(server.proc.pid, home)
        received = await handoffs(server, "received")  # Anna's socket, if it moved

        os.kill(home_pid, signal.SIGSTOP)
        customer: WsClient | None = None
        for _ in range(60):  # the kernel puts about half on the stopped worker: no answer
            try:
                raw = await websockets.connect(server.ws_url, open_timeout=1, max_size=2**22)
            except TimeoutError:
                continue
            customer = WsClient(raw)
            break
        assert customer is not None, "no connection reached the running worker"
        open_sockets.append(customer)
        welcome = await customer.request("hello", timeout=30, token=token)
        assert welcome["type"] == "welcome", welcome
        os.kill(home_pid, signal.SIGCONT)
        home_pid = 0

        sub = await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
        assert sub["type"] == "subscribed", sub
        ack = await customer.request(
            "chat.send", conversation_id=conv_id, client_id=cid(), text="noch da?"
        )
        assert ack["type"] == "ack", ack
        await anna.wait_for(lambda f: kind_is("chat.message")(f) and f["seq"] == ack["seq"])
        answer = await anna.request(
            "chat.send", conversation_id=conv_id, client_id=cid(), text="ja"
        )
        await customer.wait_for(lambda f: kind_is("chat.message")(f) and f["seq"] == answer["seq"])
        assert await handoffs(server, "failed") == 1
        assert await handoffs(server, "received") == received
        expected = [0.0, 0.0]
        expected[home] = 1
        expected[1 - home] = 1
        await until_sockets(server, (expected[0], expected[1]))
        assert "websocket not handed to worker" in server.log()
    except BaseException:
        print(server.log())
        raise
    finally:
        if home_pid:
            os.kill(home_pid, signal.SIGCONT)
        for ws in open_sockets:
            await ws.close()
        server.stop()
        redis.stop()
