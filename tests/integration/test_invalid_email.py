"""Invalid e-mail addresses (bad input): an e-mail invitation and an
appointment booking with a bad address are refused with `bad_request` naming the
field, nothing is sent, and what was already accepted stays as it was: the adviser's
running conversations, an earlier booking, the free slot."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, Smtp, make_server, smtp_env
from helpers import PASSWORD, adviser_socket
from wsclient import WsClient, cid, login, new_conversation

BAD_ADDRESSES = [
    "not-an-address",
    "erika@",
    "erika @example.org",
    "erika@example..org",
    # read by the mail headers as a list or a name: the mail would go elsewhere
    "erika,max@example.org",
    "Erika <erika@example.org>",
]


@pytest.fixture
def server(tmp_path: Path, smtp_server: Smtp) -> Iterator[LiveServer]:
    """Like `live_server`, with e-mail through the loopback SMTP server; bookings
    share the per-IP limit of new conversations, so that is raised."""
    s = make_server(tmp_path, VISAVIS_CONVERSATIONS_PER_MINUTE="100", **smtp_env(smtp_server))
    s.start()
    yield s
    s.stop()


@pytest.fixture
async def anna(server: LiveServer) -> AsyncIterator[tuple[httpx.AsyncClient, WsClient]]:
    ws = await adviser_socket(server)
    cookie, csrf = await login(server.base_url, "anna@bank.example", PASSWORD)
    client = httpx.AsyncClient(
        base_url=server.base_url,
        cookies={"visavis_session": cookie},
        headers={"X-CSRF-Token": csrf},
    )
    yield client, ws
    await client.aclose()
    await ws.close()


async def mails(smtp: Smtp, count: int) -> list[str]:
    for _ in range(100):
        if len(smtp.messages) >= count:
            break
        await asyncio.sleep(0.05)
    return sorted(str(m["To"]) for m in smtp.messages)


def refused_for_the_address(r: httpx.Response, address: str) -> None:
    assert r.status_code == 400, (address, r.text)
    error = r.json()["error"]
    assert error["code"] == "bad_request", (address, error)
    assert error["message"].startswith("email: not an e-mail address"), (address, error)


async def test_bad_address_on_an_invitation_loses_nothing(
    server: LiveServer, smtp_server: Smtp, anna: tuple[httpx.AsyncClient, WsClient]
) -> None:
    client, ws = anna
    # Anna already serves a customer from the queue and one she invited
    waiting_id, token = await new_conversation(
        server.base_url, customer_name="Bob", message={"client_id": cid(), "text": "Hallo"}
    )
    assert (await ws.request("conversation.accept", conversation_id=waiting_id))["type"] == "ack"
    r = await client.post(
        "/api/v1/invitations", json={"email": "erika@example.org", "customer_name": "Erika"}
    )
    assert r.status_code == 201, r.text
    invited_id = r.json()["conversation"]["id"]
    assert await mails(smtp_server, 1) == ["erika@example.org"]

    for address in BAD_ADDRESSES:
        r = await client.post(
            "/api/v1/invitations", json={"email": address, "customer_name": "Max"}
        )
        refused_for_the_address(r, address)

    # no new conversation, no mail; both conversations are still hers and running
    active = (await client.get("/api/v1/conversations", params={"status": "active"})).json()
    assert sorted(c["id"] for c in active["conversations"]) == sorted([waiting_id, invited_id])
    assert all(c["adviser"]["name"] == "Anna Berger" for c in active["conversations"])
    await asyncio.sleep(0.3)
    assert [str(m["To"]) for m in smtp_server.messages] == ["erika@example.org"]
    # and the customer from the queue is still connected to her, history intact
    bob = await WsClient.connect(server.ws_url, token=token)
    await bob.request("subscribe", conversation_id=waiting_id, after_seq=0)
    assert [e["kind"] for e in bob.events(waiting_id)] == [
        "conversation.created",
        "chat.message",
        "conversation.accepted",
    ]
    ack = await bob.request("chat.send", conversation_id=waiting_id, client_id=cid(), text="Da?")
    got = await ws.wait_for(lambda f: f["type"] == "event" and f["seq"] == ack["seq"])
    assert got["body"]["text"] == "Da?"
    await bob.close()


def _slot(days: int) -> dict[str, str]:
    start = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=30)).isoformat()}


async def test_bad_address_on_a_booking_keeps_the_slot_free_and_the_earlier_booking(
    server: LiveServer, smtp_server: Smtp, anna: tuple[httpx.AsyncClient, WsClient]
) -> None:
    client, _ws = anna
    booked = (await client.post("/api/v1/slots", json=_slot(1))).json()["slot"]
    free = (await client.post("/api/v1/slots", json=_slot(2))).json()["slot"]
    async with httpx.AsyncClient(base_url=server.base_url) as anon:
        r = await anon.post(
            "/api/v1/appointments",
            json={"slot_id": booked["id"], "customer_name": "Erika", "email": "erika@example.org"},
        )
        assert r.status_code == 201, r.text
        assert await mails(smtp_server, 2) == ["anna@bank.example", "erika@example.org"]
        erika_mail = next(m for m in smtp_server.messages if m["To"] == "erika@example.org")
        body = erika_mail.get_body(("plain",)).get_content()
        invite = re.search(r"/join/(\S+)", body).group(1)  # type: ignore[union-attr]

        for address in BAD_ADDRESSES:
            for slot in (free, booked):  # the address is refused before the slot counts
                r = await anon.post(
                    "/api/v1/appointments",
                    json={"slot_id": slot["id"], "customer_name": "Max", "email": address},
                )
                refused_for_the_address(r, address)

        # the free slot is still free, nothing was sent
        assert [s["id"] for s in (await anon.get("/api/v1/slots")).json()["slots"]] == [free["id"]]
        await asyncio.sleep(0.3)
        assert len(smtp_server.messages) == 2
        # Erika's appointment is untouched: her link still waits for its time
        early = await anon.post("/api/v1/invitations/redeem", json={"invite": invite})
        assert early.status_code == 409 and early.json()["error"]["code"] == "too_early"
    mine = (await client.get("/api/v1/me/slots")).json()["slots"]
    assert {s["id"]: s["booked"] for s in mine} == {booked["id"]: True, free["id"]: False}
