"""Appointments: booking a slot mails both sides a calendar invitation (ICS) whose link
opens shortly before the time; cancelling; an appointment that has begun stays put."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from bookings import manage_of, slot_in, wait_for_mails
from conftest import Smtp, mail_text, make_server, smtp_env
from helpers import PASSWORD, adviser_socket, found, session
from invitations import invitation_of
from wsclient import WsClient

ANNA = "Berger, Anna: Beratung"
ERIKA = 'Müller, Jürgen: "Weiß";\r\nSohn'


async def test_booking_an_appointment_sends_ics_and_the_link_opens_at_the_time(
    tmp_path: Path, smtp_server: Smtp
) -> None:
    server = make_server(tmp_path, **smtp_env(smtp_server))
    server.start()
    try:
        # names with what iCalendar must quote or escape
        anna_ws = await adviser_socket(server, "anna@bank.example", ANNA)
        a = await session(server, "anna@bank.example")
        soon = (await a.post("/api/v1/slots", json=slot_in(5))).json()["slot"]
        later = (await a.post("/api/v1/slots", json=slot_in(24 * 60))).json()["slot"]
        assert (await a.post("/api/v1/slots", json=slot_in(10))).json()["error"][
            "code"
        ] == "invalid_state"  # overlaps
        past = await a.post("/api/v1/slots", json=slot_in(-60))
        assert past.json()["error"]["code"] == "bad_request"

        async with httpx.AsyncClient(base_url=server.base_url) as anon:
            free = (await anon.get("/api/v1/slots")).json()["slots"]
            assert [s["id"] for s in free] == [soon["id"], later["id"]]
            book = {
                "slot_id": later["id"],
                "customer_name": ERIKA,
                "email": "erika@example.org",
                "language": "de",
            }
            r1, r2 = await asyncio.gather(
                anon.post("/api/v1/appointments", json=book),
                anon.post("/api/v1/appointments", json={**book, "email": "max@example.org"}),
            )
            codes = sorted([r1.status_code, r2.status_code])
            assert codes == [201, 409], (r1.text, r2.text)  # the double booking loses
            loser = r1 if r1.status_code == 409 else r2
            assert loser.json()["error"]["code"] == "slot_taken"
            winner = r1 if r1.status_code == 201 else r2
            manage_url = winner.json()["manage_url"]
            assert [s["id"] for s in (await anon.get("/api/v1/slots")).json()["slots"]] == [
                soon["id"]
            ]

        await wait_for_mails(smtp_server, 2)
        winner_email = (
            "erika@example.org" if b"erika" in winner.request.content else "max@example.org"
        )
        assert sorted(m["To"] for m in smtp_server.messages) == sorted(
            ["anna@bank.example", winner_email]
        )
        mail = next(m for m in smtp_server.messages if m["To"] == winner_email)
        invitation = invitation_of(mail)
        assert (invitation.method, invitation.sequence) == ("REQUEST", 0)
        start = datetime.fromisoformat(later["start"].replace("Z", "+00:00"))
        assert (invitation.start, invitation.end) == (
            start, datetime.fromisoformat(later["end"].replace("Z", "+00:00")),
        )  # fmt: skip
        link = found(r"http://127\.0\.0\.1:\d+/join/\S+", mail_text(mail), 0)
        assert invitation.url == invitation.location == link
        assert link in invitation.description
        assert invitation.summary == f"Beratung / Consultation: {ANNA}"
        assert (invitation.organizer.name, invitation.organizer.email) == (
            ANNA, "anna@bank.example",
        )  # fmt: skip
        # a name is one line in the invitation
        assert [(a.name, a.email) for a in invitation.attendees] == [
            (ERIKA.replace("\r\n", " "), winner_email)
        ]
        # the adviser's copy is the same event
        to_anna = next(m for m in smtp_server.messages if m["To"] == "anna@bank.example")
        assert invitation_of(to_anna).uid == invitation.uid

        # a day early, the link does not let anyone in yet
        invite = link.rsplit("/", 1)[1]
        async with httpx.AsyncClient(base_url=server.base_url) as anon:
            early = await anon.post("/api/v1/invitations/redeem", json={"invite": invite})
            assert early.status_code == 409, early.text
            error = early.json()["error"]
            assert error["code"] == "too_early" and "starts at" in error["message"]
            starts = datetime.fromisoformat(error["starts_at"].replace("Z", "+00:00"))
            opens = datetime.fromisoformat(error["opens_at"].replace("Z", "+00:00"))
            assert starts == start and starts - opens == timedelta(minutes=15)
            # nothing changed: the appointment still waits for its time
            assert (await anon.post("/api/v1/invitations/redeem", json={"invite": invite})).json()[
                "error"
            ]["code"] == "too_early"
            # cancel (manage link) frees the slot; rebooking the soon slot works and opens now
            slot_id = found(r"appointment=([^&]+)", manage_url)
            token = found(r"token=([^&]+)", manage_url)
            assert (
                await anon.delete(f"/api/v1/appointments/{slot_id}", params={"token": "wrong"})
            ).status_code == 404
            assert (
                await anon.delete(f"/api/v1/appointments/{slot_id}", params={"token": token})
            ).status_code == 200
            assert len((await anon.get("/api/v1/slots")).json()["slots"]) == 2
            r = await anon.post(
                "/api/v1/appointments",
                json={
                    "slot_id": soon["id"],
                    "customer_name": "Erika",
                    "email": "erika@example.org",
                },
            )
            assert r.status_code == 201
        # the first booking's 2 mails, its cancellation's 2, and the new booking's 2
        last = [
            m
            for m in await wait_for_mails(smtp_server, 6)
            if m["To"] == "erika@example.org" and "Abgesagt" not in m["Subject"]
        ][-1]
        soon_link = found(r"/join/(\S+)", mail_text(last))
        async with httpx.AsyncClient(base_url=server.base_url) as anon:
            r = await anon.post("/api/v1/invitations/redeem", json={"invite": soon_link})
            assert r.status_code == 200, r.text
            conv = r.json()["conversation"]
            assert conv["status"] == "active" and conv["adviser"]["name"] == ANNA
        assigned = await anna_ws.expect("conversation.assigned")
        assert assigned["conversation"]["id"] == conv["id"]
        customer = await WsClient.connect(server.ws_url, token=r.json()["token"])
        await customer.close()
        await a.aclose()
        await anna_ws.close()
    finally:
        server.stop()


async def test_cancellation_mails_speak_the_language_of_the_booking(
    tmp_path: Path, smtp_server: Smtp
) -> None:
    server = make_server(tmp_path, **smtp_env(smtp_server))
    server.start()
    try:
        server.add_adviser("anna@bank.example", PASSWORD, "Anna")
        a = await session(server, "anna@bank.example")
        slots = [(await a.post("/api/v1/slots", json=slot_in(m))).json()["slot"] for m in (60, 120)]
        async with httpx.AsyncClient(base_url=server.base_url) as anon:
            manage = {}
            for slot, lang, who in ((slots[0], "en", "jane"), (slots[1], "de", "erika")):
                r = await anon.post(
                    "/api/v1/appointments",
                    json={
                        "slot_id": slot["id"],
                        "customer_name": who.title(),
                        "email": f"{who}@example.org",
                        "language": lang,
                    },
                )
                assert r.status_code == 201, r.text
                manage[who] = r.json()["manage_url"]
            for who in ("jane", "erika"):
                slot_id = found(r"appointment=([^&]+)", manage[who])
                token = found(r"token=([^&]+)", manage[who])
                r = await anon.delete(f"/api/v1/appointments/{slot_id}", params={"token": token})
                assert r.status_code == 200, r.text
        await wait_for_mails(smtp_server, 8)  # 2 bookings and 2 cancellations, to both sides
        cancelled = [m for m in smtp_server.messages if invitation_of(m).method == "CANCEL"]
        assert len(cancelled) == 4, [m["Subject"] for m in smtp_server.messages]

        jane = next(m for m in cancelled if m["To"] == "jane@example.org")
        assert jane["Subject"].startswith("Cancelled: your appointment on")
        assert mail_text(jane).startswith("Hello Jane,") and "was cancelled" in mail_text(jane)
        erika = next(m for m in cancelled if m["To"] == "erika@example.org")
        assert erika["Subject"].startswith("Abgesagt: Ihr Termin am")
        assert mail_text(erika).startswith("Guten Tag Erika,") and "abgesagt" in mail_text(erika)
        # the adviser hears it in the same language, with who cancelled
        to_anna = [m for m in cancelled if m["To"] == "anna@bank.example"]
        assert [m["Subject"].split(":")[0] for m in to_anna] == ["Cancelled", "Abgesagt"]
        assert "Jane (jane@example.org) cancelled" in mail_text(to_anna[0])
        assert "Erika (erika@example.org) hat den Termin" in mail_text(to_anna[1])
        await a.aclose()
    finally:
        server.stop()


async def test_an_appointment_that_has_begun_cannot_be_moved(
    tmp_path: Path, smtp_server: Smtp
) -> None:
    server = make_server(tmp_path, VISAVIS_CONVERSATIONS_PER_MINUTE="4", **smtp_env(smtp_server))
    server.start()
    try:
        server.add_adviser("anna@bank.example", PASSWORD, "Anna")
        a = await session(server, "anna@bank.example")
        soon = (await a.post("/api/v1/slots", json=slot_in(5))).json()["slot"]
        later = (await a.post("/api/v1/slots", json=slot_in(120))).json()["slot"]
        async with httpx.AsyncClient(base_url=server.base_url) as anon:
            r = await anon.post(
                "/api/v1/appointments",
                json={"slot_id": soon["id"], "customer_name": "Erika", "email": "e@example.org"},
            )
            assert r.status_code == 201, r.text
            appointment_id, token = manage_of(r)
            link = found(r"/join/(\S+)", mail_text((await wait_for_mails(smtp_server, 1))[0]))
            # the customer comes in (15 minutes early is allowed): it has begun
            joined = await anon.post("/api/v1/invitations/redeem", json={"invite": link})
            assert joined.status_code == 200, joined.text
            view = await anon.get(f"/api/v1/appointments/{appointment_id}", params={"token": token})
            assert view.json()["appointment"]["state"] == "begun"
            for _ in range(3):  # with the booking, 4 in this minute are allowed
                r = await anon.post(
                    f"/api/v1/appointments/{appointment_id}/rebook",
                    json={"token": token, "slot_id": later["id"]},
                )
                assert r.status_code == 409, r.text
                assert r.json()["error"]["code"] == "invalid_state"
                assert r.json()["error"]["state"] == "begun"
            r = await anon.post(
                f"/api/v1/appointments/{appointment_id}/rebook",
                json={"token": token, "slot_id": later["id"]},
            )
            assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
            # nothing moved: the later slot is still free
            free = [s["id"] for s in (await anon.get("/api/v1/slots")).json()["slots"]]
            assert free == [later["id"]]
        await a.aclose()
    finally:
        server.stop()
