"""Adviser portal: advisers' public profiles and photos, and a customer who picks one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from conftest import LiveServer, make_server
from helpers import PASSWORD, adviser_socket, session

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_portal_lists_advisers_and_a_picked_adviser_gets_the_customer(tmp_path: Path) -> None:
    server = make_server(tmp_path, VISAVIS_REQUESTED_ADVISER_FALLBACK_S="3")
    server.start()
    try:
        anna = await adviser_socket(server, "anna@bank.example", "Anna")
        ben = await adviser_socket(server, "ben@bank.example", "Ben")
        a = await session(server, "anna@bank.example")
        r = await a.put(
            "/api/v1/me/profile",
            json={
                "languages": ["de", "en"],
                "topics": ["kredit"],
                "bio": "Baufinanzierung seit 2010",
                "listed": True,
            },
        )
        assert r.status_code == 200, r.text
        assert (
            await a.put("/api/v1/me/photo", content=PNG, headers={"content-type": "image/png"})
        ).status_code == 200
        bad = await a.put(
            "/api/v1/me/photo", content=b"<svg/>", headers={"content-type": "image/png"}
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
        bad = await a.put(
            "/api/v1/me/profile",
            json={"languages": ["de"], "topics": ["astrology"], "listed": True},
        )
        assert bad.json()["error"]["code"] == "bad_request"

        async with httpx.AsyncClient(base_url=server.base_url) as anon:
            portal = (await anon.get("/api/v1/portal")).json()["advisers"]
            assert [p["name"] for p in portal] == ["Anna"]  # Ben is not listed
            assert portal[0]["status"] == "available" and portal[0]["languages"] == ["de", "en"]
            photo = await anon.get(portal[0]["photo_url"])
            assert photo.content == PNG and photo.headers["content-type"] == "image/png"
            r = await anon.post("/api/v1/conversations", json={"adviser_id": "nobody"})
            assert r.json()["error"]["code"] == "not_found"
            r = await anon.post(
                "/api/v1/conversations",
                json={"adviser_id": portal[0]["id"], "customer_name": "Picky"},
            )
            conv_id = r.json()["conversation"]["id"]

        # Anna sees the customer who picked her; Ben does not, until the fallback time
        snap = await anna.wait_for(lambda f: f["type"] == "queue.snapshot" and f["entries"])
        assert snap["entries"][0]["requested_adviser_id"] == portal[0]["id"]
        assert (await ben.request("conversation.accept", conversation_id=conv_id))[
            "code"
        ] == "forbidden"
        assert (await ben.request("queue.next"))["code"] == "not_found"
        await ben.wait_for(lambda f: f["type"] == "queue.snapshot" and f["entries"], timeout=15)
        assert (await ben.request("conversation.accept", conversation_id=conv_id))["type"] == "ack"
        await a.aclose()
        await asyncio.gather(anna.close(), ben.close())
    finally:
        server.stop()


async def test_advisers_fetch_their_own_photo_listed_or_not(live_server: LiveServer) -> None:
    server = live_server
    server.add_adviser("anna@bank.example", PASSWORD, "Anna")
    server.add_adviser("ben@bank.example", PASSWORD, "Ben")
    a = await session(server, "anna@bank.example")
    b = await session(server, "ben@bank.example")
    try:
        # no photo yet
        r = await a.get("/api/v1/me/photo")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        for client, data in ((a, PNG), (b, PNG + b"ben")):
            r = await client.put(
                "/api/v1/me/photo", content=data, headers={"content-type": "image/png"}
            )
            assert r.status_code == 200, r.text
        # unlisted: the portal does not show Anna's photo, but she sees it
        anna_url = (await a.get("/api/v1/me/profile")).json()["profile"]["photo_url"]
        async with httpx.AsyncClient(base_url=server.base_url) as anon:
            assert (await anon.get(anna_url)).status_code == 404
            # without a session: 401, and no one else's photo leaks
            r = await anon.get("/api/v1/me/photo")
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        async with httpx.AsyncClient(
            base_url=server.base_url, cookies={"visavis_session": "forged"}
        ) as forged:
            assert (await forged.get("/api/v1/me/photo")).status_code == 401
        r = await a.get("/api/v1/me/photo")
        assert r.status_code == 200 and r.content == PNG
        assert r.headers["content-type"] == "image/png"
        assert "private" in r.headers["cache-control"]
        # each adviser gets their own
        assert (await b.get("/api/v1/me/photo")).content == PNG + b"ben"
        # listed: the same from both URLs
        r = await a.put(
            "/api/v1/me/profile", json={"languages": ["de"], "topics": [], "listed": True}
        )
        assert r.status_code == 200, r.text
        async with httpx.AsyncClient(base_url=server.base_url) as anon:
            assert (await anon.get(anna_url)).content == PNG
        assert (await a.get("/api/v1/me/photo")).content == PNG
        # logged out: the old cookie no longer shows it
        assert (await a.delete("/api/v1/session")).status_code == 200
        assert (await a.get("/api/v1/me/photo")).status_code == 401
    finally:
        await a.aclose()
        await b.aclose()
