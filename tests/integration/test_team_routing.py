"""Team languages and team chat limits at work: a customer's language picks among the
teams of their topic, waiting customers are offered first to an adviser who speaks
their language, and a team's per-adviser chat limit holds for its advisers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conftest import ALWAYS_OPEN, LiveServer
from helpers import PASSWORD
from wsclient import WsClient, login


async def available(server: LiveServer, email: str) -> WsClient:
    cookie, _ = await login(server.base_url, email, PASSWORD)
    ws = await WsClient.connect(server.ws_url, cookie=cookie)
    assert (await ws.request("status.set", status="available"))["type"] == "ack"
    return ws


async def start(server: LiveServer, name: str, **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url) as c:
        r = await c.post("/api/v1/conversations", json={"customer_name": name, **body})
        assert r.status_code == 201, r.text
        return dict(r.json())


@pytest.fixture
def mortgage_teams(live_server: LiveServer) -> LiveServer:
    """Mortgages in German (one chat at a time per adviser) and in English."""
    s = live_server
    s.cli("team", "set", "baufi-de", "--name", "Baufinanzierung", "--topics", "kredit",
          "--languages", "de", "--hours", ALWAYS_OPEN, "--chat-limit", "1")  # fmt: skip
    s.cli("team", "set", "baufi-en", "--name", "Mortgages", "--topics", "kredit",
          "--languages", "en", "--hours", ALWAYS_OPEN)  # fmt: skip
    s.add_adviser("anna@bank.example", PASSWORD, "Anna")  # her own limit: 3
    s.add_adviser("ben@bank.example", PASSWORD, "Ben")
    s.cli("team", "member", "baufi-de", "anna@bank.example")
    s.cli("team", "member", "baufi-en", "ben@bank.example")
    s.restart()  # a running server picks up CLI changes within 30 s; now at once
    return s


async def test_the_language_picks_among_the_teams_of_the_topic(mortgage_teams: LiveServer) -> None:
    s = mortgage_teams
    teams = {c: (await start(s, c, topic="kredit", language=lang))["conversation"]["team_id"]
             for c, lang in (("en", "en"), ("at", "de-AT"), ("it", "it"))}  # fmt: skip
    assert teams == {"en": "baufi-en", "at": "baufi-de", "it": "baufi-de"}  # nobody stranded
    no_language = await start(s, "x", topic="kredit")
    assert no_language["conversation"]["team_id"] == "baufi-de"

    async with httpx.AsyncClient(base_url=s.base_url) as c:
        # the availability a customer sees is that of the team they would wait for
        waiting = {
            lang: (
                await c.get("/api/v1/availability", params={"topic": "kredit", "lang": lang})
            ).json()["waiting"]
            for lang in ("en", "de")
        }
        assert waiting == {"en": 1, "de": 3}
        bad = await c.get("/api/v1/availability", params={"topic": "kredit", "lang": "<x>"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
        listed = (await c.get("/api/v1/teams")).json()["teams"]
        assert {t["id"]: t["chat_limit"] for t in listed} == {"baufi-de": 1, "baufi-en": None}


async def test_a_teams_chat_limit_holds_for_its_advisers(mortgage_teams: LiveServer) -> None:
    s = mortgage_teams
    anna = await available(s, "anna@bank.example")
    k1 = (await start(s, "K1", topic="kredit", language="de"))["conversation"]["id"]
    k2 = await start(s, "K2", topic="kredit", language="de")
    assert (await anna.request("conversation.accept", conversation_id=k1))["type"] == "ack"

    err = await anna.request("conversation.accept", conversation_id=k2["conversation"]["id"])
    assert err["code"] == "limit_reached", err
    assert "limit for baufi-de is 1" in err["message"]
    err = await anna.request("queue.next")
    assert err["code"] == "limit_reached", err

    # K2 is told a wait as long as a chat takes, not "an adviser is free"
    k2_socket = await WsClient.connect(s.ws_url, token=k2["token"])
    pos = await k2_socket.wait_for(
        lambda f: f["type"] == "queue.position" and f["position"] == 1, timeout=10
    )
    assert pos["estimate_s"] is not None and pos["estimate_s"] >= 300, pos
    await k2_socket.close()
    await anna.close()


async def test_waiting_customers_are_offered_first_to_who_speaks_their_language(
    live_server: LiveServer,
) -> None:
    s = live_server
    socks: dict[str, WsClient] = {}
    http: dict[str, httpx.AsyncClient] = {}
    for email, name, languages in (
        ("anna@bank.example", "Anna", ["de"]),
        ("ben@bank.example", "Ben", ["en"]),
    ):
        s.add_adviser(email, PASSWORD, name)
        cookie, csrf = await login(s.base_url, email, PASSWORD)
        http[name] = httpx.AsyncClient(
            base_url=s.base_url, cookies={"visavis_session": cookie}, headers={"X-CSRF-Token": csrf}
        )
        r = await http[name].put("/api/v1/me/profile", json={"languages": languages, "topics": []})
        assert r.status_code == 200, r.text
        socks[name] = await available(s, email)
    # Ben is busier (a customer from a phone call): by load alone Anna would be asked
    assert (await http["Ben"].post("/api/v1/codes", json={})).status_code == 201
    await socks["Ben"].wait_for(lambda f: f["type"] == "adviser.status" and f["active"] == 1)

    def offered(cid: str) -> Any:
        return lambda f: f["type"] == "conversation.offered" and f["conversation_id"] == cid

    english = (await start(s, "Eve", language="en-GB"))["conversation"]["id"]
    assert (await socks["Ben"].wait_for(offered(english)))["customer_name"] == "Eve"
    german = (await start(s, "Dora", language="de"))["conversation"]["id"]
    await socks["Anna"].wait_for(offered(german))
    assert not [f for f in socks["Anna"].frames if offered(english)(f)]
    for name in socks:
        await socks[name].close()
        await http[name].aclose()
