"""Ways in with the adviser set: e-mail invitation links (through a real SMTP server)
and phone codes; expired, forged and guessed ones are refused."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from conftest import LiveServer, Smtp, make_server, smtp_env
from helpers import PASSWORD
from wsclient import WsClient, cid, login


async def adviser_session(
    server: LiveServer, email: str = "anna@bank.example"
) -> tuple[httpx.AsyncClient, WsClient]:
    server.add_adviser(email, PASSWORD, "Anna Berger")
    cookie, csrf = await login(server.base_url, email, PASSWORD)
    client = httpx.AsyncClient(
        base_url=server.base_url,
        cookies={"visavis_session": cookie},
        headers={"X-CSRF-Token": csrf},
    )
    ws = await WsClient.connect(server.ws_url, cookie=cookie)
    return client, ws


async def test_email_invitation_link_opens_the_conversation(
    tmp_path: Path, smtp_server: Smtp
) -> None:
    server = make_server(tmp_path, **smtp_env(smtp_server))
    server.start()
    try:
        client, adviser = await adviser_session(server)
        r = await client.post(
            "/api/v1/invitations",
            json={"email": "erika@example.org", "customer_name": "Erika", "language": "de"},
        )
        assert r.status_code == 201, r.text
        conv_id = r.json()["conversation"]["id"]
        assigned = await adviser.expect("conversation.assigned")
        assert (
            assigned["conversation"]["id"] == conv_id
            and assigned["conversation"]["status"] == "active"
        )

        for _ in range(50):
            if smtp_server.messages:
                break
            await asyncio.sleep(0.05)
        mail = smtp_server.messages[0]
        assert mail["To"] == "erika@example.org" and "Anna Berger" in mail["Subject"]
        body = mail.get_content()
        link = re.search(r"http://127\.0\.0\.1:\d+/join/\S+", body)
        assert link, body
        assert "Erika" in body

        async with httpx.AsyncClient() as anon:
            r = await anon.get(link.group(0), follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/chat#invite=")
            invite = r.headers["location"].split("#invite=", 1)[1]
            r = await anon.post(
                server.base_url + "/api/v1/invitations/redeem", json={"invite": invite}
            )
            assert r.status_code == 200, r.text
            token = r.json()["token"]
        customer = await WsClient.connect(server.ws_url, token=token)
        await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
        ack = await customer.request(
            "chat.send", conversation_id=conv_id, client_id=cid(), text="Da bin ich"
        )
        got = await adviser.wait_for(lambda f: f["type"] == "event" and f["seq"] == ack["seq"])
        assert got["body"]["text"] == "Da bin ich"

        # forged and tampered links are refused with a clear page / code
        async with httpx.AsyncClient(base_url=server.base_url) as anon:
            r = await anon.get("/join/" + invite[:-3] + "abc")
            assert r.status_code == 401 and "ungültig" in r.text
            r = await anon.post("/api/v1/invitations/redeem", json={"invite": invite[:-3] + "abc"})
            assert r.json()["error"]["code"] == "unauthorized"
        # invalid address: nothing sent, nothing created
        r = await client.post("/api/v1/invitations", json={"email": "not-an-address"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
        # without CSRF token: refused
        r = await client.post(
            "/api/v1/invitations", json={"email": "x@example.org"}, headers={"X-CSRF-Token": "no"}
        )
        assert r.json()["error"]["code"] == "csrf_failed"
        assert len(smtp_server.messages) == 1
        await client.aclose()
        await asyncio.gather(adviser.close(), customer.close())
    finally:
        server.stop()


async def test_expired_invitation_link(tmp_path: Path, smtp_server: Smtp) -> None:
    server = make_server(tmp_path, VISAVIS_INVITATION_TTL_S="1", **smtp_env(smtp_server))
    server.start()
    try:
        client, adviser = await adviser_session(server)
        r = await client.post("/api/v1/invitations", json={"email": "erika@example.org"})
        link = r.json()["link"]
        await asyncio.sleep(2.2)
        async with httpx.AsyncClient() as anon:
            r = await anon.get(link)
            assert r.status_code == 410 and "abgelaufen" in r.text
        await client.aclose()
        await adviser.close()
    finally:
        server.stop()


async def test_mail_server_down_gives_a_clear_error_and_frees_the_slot(tmp_path: Path) -> None:
    from conftest import free_port

    server = make_server(tmp_path, VISAVIS_SMTP_HOST="127.0.0.1", VISAVIS_SMTP_PORT=str(free_port()),
                         VISAVIS_SMTP_FROM="b@bank.example", VISAVIS_SMTP_SECURITY="none")  # fmt: skip
    server.start()
    try:
        client, adviser = await adviser_session(server)
        r = await client.post("/api/v1/invitations", json={"email": "erika@example.org"})
        assert r.status_code == 502 and r.json()["error"]["code"] == "mail_failed"
        listing = (await client.get("/api/v1/conversations", params={"status": "active"})).json()
        assert listing["conversations"] == []
        await client.aclose()
        await adviser.close()
    finally:
        server.stop()


async def test_phone_code_lands_in_the_advisers_conversation(live_server: LiveServer) -> None:
    client, adviser = await adviser_session(live_server)
    r = await client.post("/api/v1/codes", json={"customer_name": "Herr Meier"})
    assert r.status_code == 201
    code, conv_id = r.json()["code"], r.json()["conversation"]["id"]
    assert re.fullmatch(r"\d{6}", code)
    await adviser.expect("conversation.assigned")
    async with httpx.AsyncClient(base_url=live_server.base_url) as anon:
        # typed with a space, as people read codes out
        r = await anon.post("/api/v1/codes/redeem", json={"code": f"{code[:3]} {code[3:]}"})
        assert r.status_code == 200, r.text
        assert r.json()["conversation"]["id"] == conv_id
        token = r.json()["token"]
        # a code works once
        r = await anon.post("/api/v1/codes/redeem", json={"code": code})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    customer = await WsClient.connect(live_server.ws_url, token=token)
    welcome_conv = (await customer.request("subscribe", conversation_id=conv_id, after_seq=0))[
        "conversation"
    ]
    assert welcome_conv["adviser"]["name"] == "Anna Berger"
    await client.aclose()
    await asyncio.gather(adviser.close(), customer.close())


async def test_codes_expire_and_guessing_is_rate_limited(tmp_path: Path) -> None:
    server = make_server(tmp_path, VISAVIS_CODE_TTL_S="1", VISAVIS_CODE_GUESSES_PER_MINUTE="5")
    server.start()
    try:
        client, adviser = await adviser_session(server)
        code = (await client.post("/api/v1/codes", json={})).json()["code"]
        await asyncio.sleep(1.5)
        async with httpx.AsyncClient(base_url=server.base_url) as anon:
            r = await anon.post("/api/v1/codes/redeem", json={"code": code})
            assert r.status_code == 410 and r.json()["error"]["code"] == "expired"
            r = await anon.post("/api/v1/codes/redeem", json={"code": "12"})
            assert r.json()["error"]["code"] == "bad_request"
            codes = []
            for guess in range(10):
                r = await anon.post("/api/v1/codes/redeem", json={"code": f"{guess:06d}"})
                codes.append(r.json()["error"]["code"])
            assert codes[-1] == "rate_limited" and codes.count("rate_limited") >= 5
        await client.aclose()
        await adviser.close()
    finally:
        server.stop()
