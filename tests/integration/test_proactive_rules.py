"""Proactive invitation rules: added from the command line, served to any site, shown
only while an adviser of the rule's team is available."""

from __future__ import annotations

import httpx
from conftest import ALWAYS_OPEN, LiveServer
from helpers import adviser_socket


async def test_proactive_rules_and_team_availability(live_server: LiveServer) -> None:
    live_server.cli(
        "team",
        "set",
        "baufi",
        "--topics",
        "kredit",
        "--hours",
        ALWAYS_OPEN,
    )
    out = live_server.cli(
        "rule",
        "add",
        "/kredit/*",
        "--seconds",
        "20",
        "--campaign",
        "herbst",
        "--team",
        "baufi",
        "--de",
        "Fragen zur Finanzierung?",
        "--en",
        "Questions about financing?",
    )
    assert "herbst" in out
    bad = None
    try:
        live_server.cli("rule", "add", "no-slash", "--de", "x", "--en", "y")
    except RuntimeError as exc:
        bad = str(exc)
    assert bad and "url_pattern" in bad
    live_server.restart()
    async with httpx.AsyncClient(base_url=live_server.base_url) as c:
        r = await c.get("/api/v1/proactive-rules", headers={"Origin": "https://shop.example"})
        assert r.headers["access-control-allow-origin"] == "*"
        rules = r.json()["rules"]
        assert rules[0]["url_pattern"] == "/kredit/*" and rules[0]["team_id"] == "baufi"
        assert (await c.get("/api/v1/availability", params={"team": "baufi"})).json()[
            "available"
        ] is False
        assert (await c.get("/api/v1/availability", params={"team": "nope"})).json()["error"][
            "code"
        ] == "not_found"
        ws = await adviser_socket(live_server)
        assert (await c.get("/api/v1/availability", params={"team": "baufi"})).json()[
            "available"
        ] is True
        await ws.close()
