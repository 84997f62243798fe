"""Teams: topic routing to team queues, per-team positions and estimates, business
hours (closed -> offline queue), who may take whom."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest
from conftest import ALWAYS_OPEN, LiveServer
from helpers import PASSWORD, adviser_socket
from wsclient import WsClient, cid, new_conversation


@pytest.fixture
def teams_server(live_server: LiveServer) -> LiveServer:
    live_server.cli(
        "team",
        "set",
        "baufi",
        "--name",
        "Baufinanzierung",
        "--topics",
        "kredit",
        "--hours",
        ALWAYS_OPEN,
    )
    live_server.cli(
        "team",
        "set",
        "technik",
        "--name",
        "Technik-Hotline",
        "--topics",
        "konto",
        "--hours",
        ALWAYS_OPEN,
    )
    live_server.cli(
        "team",
        "set",
        "nachts",
        "--name",
        "Allgemeine Beratung",
        "--topics",
        "beratung",
        "--hours",
        "{}",
    )
    # a running server picks up CLI changes within 30 s; restarting makes it immediate
    live_server.restart()
    return live_server


async def test_topic_routes_to_the_matching_team_queue(teams_server: LiveServer) -> None:
    server = teams_server
    anna = await adviser_socket(server, "anna@bank.example", "Anna")
    ben = await adviser_socket(server, "ben@bank.example", "Ben")
    server.cli("team", "member", "baufi", "anna@bank.example")
    server.cli("team", "member", "technik", "ben@bank.example")
    await asyncio.sleep(0.1)
    # the running server reloads teams periodically; a restart picks them up at once
    await asyncio.gather(anna.close(), ben.close())
    server.restart()
    anna = await adviser_socket_again(server, "anna@bank.example")
    ben = await adviser_socket_again(server, "ben@bank.example")

    k1, k1_token = await new_conversation(server.base_url, topic="kredit", customer_name="K1")
    k2, k2_token = await new_conversation(server.base_url, topic="kredit", customer_name="K2")
    t1, t1_token = await new_conversation(server.base_url, topic="konto", customer_name="T1")
    snap = await anna.wait_for(lambda f: f["type"] == "queue.snapshot" and len(f["entries"]) == 2)
    assert [e["conversation_id"] for e in snap["entries"]] == [k1, k2]
    assert {e["team_id"] for e in snap["entries"]} == {"baufi"}
    snap = await ben.wait_for(lambda f: f["type"] == "queue.snapshot" and len(f["entries"]) == 1)
    assert snap["entries"][0]["conversation_id"] == t1

    # positions count within the team's queue, with an estimate while someone serves it
    tech_customer = await WsClient.connect(server.ws_url, token=t1_token)
    pos = await tech_customer.expect("queue.position")
    assert (pos["position"], pos["waiting"], pos["advisers_available"]) == (1, 1, 1)
    assert pos["estimate_s"] is not None and pos["estimate_s"] >= 0
    k2_customer = await WsClient.connect(server.ws_url, token=k2_token)
    pos = await k2_customer.expect("queue.position")
    assert (pos["position"], pos["waiting"]) == (2, 2)

    # Ben may not take a Baufinanzierung customer; "next" gives him his own team's
    err = await ben.request("conversation.accept", conversation_id=k1)
    assert err["code"] == "forbidden"
    assert (await ben.request("queue.next"))["conversation_id"] == t1
    assert (await ben.request("queue.next"))["code"] == "not_found"
    assert (await anna.request("queue.next"))["conversation_id"] == k1
    await k2_customer.wait_for(lambda f: f["type"] == "queue.position" and f["position"] == 1)

    async with httpx.AsyncClient(base_url=server.base_url) as c:
        kredit = (await c.get("/api/v1/availability", params={"topic": "kredit"})).json()
        assert (
            kredit["open"] is True and kredit["waiting"] == 1 and kredit["advisers_available"] == 1
        )
        teams = (await c.get("/api/v1/teams")).json()["teams"]
        assert {t["id"]: t["open"] for t in teams} == {
            "baufi": True,
            "technik": True,
            "nachts": False,
        }
    for ws in (anna, ben, tech_customer, k2_customer):
        await ws.close()
    assert k1_token and k2


async def adviser_socket_again(server: LiveServer, email: str) -> WsClient:
    from helpers import PASSWORD
    from wsclient import login

    cookie, _ = await login(server.base_url, email, PASSWORD)
    ws = await WsClient.connect(server.ws_url, cookie=cookie)
    assert (await ws.request("status.set", status="available"))["type"] == "ack"
    return ws


async def test_closed_team_offers_message_and_callback(teams_server: LiveServer) -> None:
    server = teams_server
    boss = await adviser_socket(server, "boss@bank.example", "Boss", role="supervisor")
    async with httpx.AsyncClient(base_url=server.base_url) as c:
        state = (await c.get("/api/v1/availability", params={"topic": "beratung"})).json()
        assert (
            state["open"] is False and state["available"] is False and state["estimate_s"] is None
        )
        r = await c.post("/api/v1/conversations", json={"topic": "beratung"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "closed"
        # the offline way needs something to say and a way back
        for body in (
            {"topic": "beratung", "kind": "message", "contact": "erika@example.org"},
            {"topic": "beratung", "kind": "callback", "contact": "not a phone",
             "message": {"client_id": cid(), "text": "Bitte zurückrufen"}},
            {"topic": "beratung", "kind": "message", "contact": "nope",
             "message": {"client_id": cid(), "text": "x"}},
        ):  # fmt: skip
            r = await c.post("/api/v1/conversations", json=body)
            assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", body
        r = await c.post(
            "/api/v1/conversations",
            json={"topic": "beratung", "kind": "callback", "contact": "+49 30 1234567",
                  "customer_name": "Erika", "message": {"client_id": cid(), "text": "Bitte morgen anrufen"}},
        )  # fmt: skip
        assert r.status_code == 201
        conv = r.json()["conversation"]
        assert (conv["status"], conv["kind"], conv["team_id"]) == ("offline", "callback", "nachts")

    snap = await boss.wait_for(lambda f: f["type"] == "queue.snapshot" and f["offline"])
    entry = snap["offline"][0]
    assert entry["contact"] == "+49 30 1234567" and entry["preview"] == "Bitte morgen anrufen"
    assert snap["entries"] == []
    # an adviser works it later: takes it, and it is an ordinary conversation from there
    assert (await boss.request("conversation.accept", conversation_id=conv["id"]))["type"] == "ack"
    assert (await boss.request("conversation.end", conversation_id=conv["id"]))["type"] == "ack"
    await boss.close()


async def _stream(
    c: httpx.AsyncClient, params: dict[str, str], into: list[dict[str, object]]
) -> None:
    async with c.stream("GET", "/api/v1/availability/stream", params=params) as resp:
        assert resp.status_code == 200
        async for line in resp.aiter_lines():
            if line.startswith("data: "):
                into.append(json.loads(line[6:]))


async def _until(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_availability_and_its_stream_are_per_team(teams_server: LiveServer) -> None:
    """Only an adviser of team A is available: A's availability (JSON and event stream,
    by team and by topic) says so, B's does not move — the widget's proactive
    invitation for B must not appear."""
    server = teams_server
    server.add_adviser("anna@bank.example", PASSWORD, "Anna")
    server.cli("team", "member", "baufi", "anna@bank.example")
    server.restart()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as c:
        for path in ("/api/v1/availability", "/api/v1/availability/stream"):
            for params in ({"team": "nope"}, {"topic": "astrologie"}):
                r = await c.get(path, params=params)
                assert r.status_code == 404, (path, params, r.text)
                assert r.json()["error"]["code"] == "not_found"

        baufi: list[dict[str, object]] = []
        kredit: list[dict[str, object]] = []
        technik: list[dict[str, object]] = []
        everyone: list[dict[str, object]] = []
        readers = [
            asyncio.create_task(_stream(c, params, into))
            for params, into in (
                ({"team": "baufi"}, baufi),
                ({"topic": "kredit"}, kredit),
                ({"team": "technik"}, technik),
                ({}, everyone),
            )
        ]
        try:
            await _until(lambda: all((baufi, kredit, technik, everyone)))
            assert [s["available"] for s in (baufi[0], technik[0], everyone[0])] == [False] * 3

            anna = await adviser_socket_again(server, "anna@bank.example")
            await _until(lambda: len(baufi) == 2 and len(kredit) == 2 and len(everyone) == 2)
            assert baufi[-1]["available"] is True and baufi[-1]["advisers_available"] == 1
            assert kredit[-1] == baufi[-1]
            assert everyone[-1]["available"] is True

            # JSON agrees: team A available, team B (and its topic) not
            get = c.get
            assert (await get("/api/v1/availability", params={"team": "baufi"})).json()[
                "available"
            ] is True
            for params in ({"team": "technik"}, {"topic": "konto"}):
                state = (await get("/api/v1/availability", params=params)).json()
                assert (state["available"], state["advisers_available"]) == (False, 0)

            # a customer of team B waits: B's stream changes, A's does not
            await new_conversation(server.base_url, topic="konto", customer_name="T1")
            await _until(lambda: len(technik) == 2)
            assert technik[-1]["waiting"] == 1 and technik[-1]["available"] is False

            assert (await anna.request("status.set", status="away"))["type"] == "ack"
            await _until(lambda: len(baufi) == 3)
            assert baufi[-1]["available"] is False
            await asyncio.sleep(0.3)
            assert len(technik) == 2, technik  # Anna's status is none of B's business
            assert len(baufi) == 3
            await anna.close()
        finally:
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
