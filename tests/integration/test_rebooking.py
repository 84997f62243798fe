"""Moving a booked appointment to another slot: one transaction, the same calendar
event with a higher SEQUENCE, races and bad moves change nothing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
from bookings import manage_of, slot_in, time_of, wait_for_mails
from conftest import Smtp, mail_text, make_server, smtp_env
from helpers import PASSWORD, session
from invitations import invitation_of


async def test_rebooking_moves_the_appointment_in_one_transaction(
    tmp_path: Path, smtp_server: Smtp, database_url: str
) -> None:
    # every booking and move counts against the per-address limit; this test makes many
    env = {"VISAVIS_CONVERSATIONS_PER_MINUTE": "50", **smtp_env(smtp_server)}
    server = make_server(tmp_path, database_url, **env)
    server.start()
    try:
        server.add_adviser("anna@bank.example", PASSWORD, "Anna")
        server.add_adviser("ben@bank.example", PASSWORD, "Ben")
        a = await session(server, "anna@bank.example")
        b = await session(server, "ben@bank.example")
        first, second, third = [
            (await a.post("/api/v1/slots", json=slot_in(m))).json()["slot"] for m in (60, 120, 180)
        ]
        bens = (await b.post("/api/v1/slots", json=slot_in(240))).json()["slot"]
        async with httpx.AsyncClient(base_url=server.base_url) as anon:

            async def book(slot: dict[str, Any], who: str, lang: str) -> httpx.Response:
                r = await anon.post(
                    "/api/v1/appointments",
                    json={"slot_id": slot["id"], "customer_name": who.title(),
                          "email": f"{who}@example.org", "language": lang},
                )  # fmt: skip
                assert r.status_code == 201, r.text
                return r

            async def view(appointment_id: str, token: str) -> dict[str, Any]:
                r = await anon.get(
                    f"/api/v1/appointments/{appointment_id}", params={"token": token}
                )
                assert r.status_code == 200, r.text
                return dict(r.json()["appointment"])

            async def rebook(appointment_id: str, token: str, slot_id: str) -> httpx.Response:
                return await anon.post(
                    f"/api/v1/appointments/{appointment_id}/rebook",
                    json={"token": token, "slot_id": slot_id},
                )

            booked = await book(first, "jane", "en")
            appointment_id, token = manage_of(booked)
            assert appointment_id != first["id"]  # the booking's own id, not the slot's
            assert (await view(appointment_id, token))["state"] == "booked"
            wrong = await anon.get(
                f"/api/v1/appointments/{appointment_id}", params={"token": "x" * 32}
            )
            assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "not_found"
            first_mail = (await wait_for_mails(smtp_server, 2))[0]
            old_link = re.search(r"/join/(\S+)", mail_text(first_mail))
            assert old_link

            # moved: same appointment id and manage link, the new time, the old slot free
            moved = await rebook(appointment_id, token, second["id"])
            assert moved.status_code == 200, moved.text
            assert moved.json()["mailed"] is True
            assert moved.json()["manage_url"] == booked.json()["manage_url"]
            got = moved.json()["appointment"]
            assert (got["id"], got["slot_id"], got["start"]) == (
                appointment_id, second["id"], second["start"],
            )  # fmt: skip
            now = await view(appointment_id, token)
            assert (now["state"], now["start"], now["adviser_name"]) == (
                "booked", second["start"], "Anna",
            )  # fmt: skip
            free = [s["id"] for s in (await anon.get("/api/v1/slots")).json()["slots"]]
            assert free == [first["id"], third["id"], bens["id"]]

            # the link from the first mail opens at the new time
            early = await anon.post("/api/v1/invitations/redeem", json={"invite": old_link[1]})
            assert early.json()["error"]["code"] == "too_early"
            assert early.json()["error"]["starts_at"] == second["start"]

            # bad moves change nothing
            for slot_id, code in (
                (second["id"], "bad_request"),  # the time already booked
                (bens["id"], "bad_request"),  # another adviser's
                ("no-such-slot", "not_found"),
            ):
                r = await rebook(appointment_id, token, slot_id)
                assert r.json()["error"]["code"] == code, (slot_id, r.text)
            r = await rebook(appointment_id, "x" * 32, first["id"])
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
            r = await rebook(appointment_id, "short", first["id"])
            assert r.json()["error"]["code"] == "bad_request"

            # taken meanwhile: slot_taken, and the old booking is intact
            max_booked = await book(third, "max", "de")
            r = await rebook(appointment_id, token, third["id"])
            assert r.status_code == 409 and r.json()["error"]["code"] == "slot_taken"
            assert (await view(appointment_id, token))["start"] == second["start"]
            free = [s["id"] for s in (await anon.get("/api/v1/slots")).json()["slots"]]
            assert free == [first["id"], bens["id"]]

            # two customers move to the same free slot at once: one wins, the other
            # keeps the booking they had
            max_id, max_token = manage_of(max_booked)
            r1, r2 = await asyncio.gather(
                rebook(appointment_id, token, first["id"]), rebook(max_id, max_token, first["id"])
            )
            assert sorted([r1.status_code, r2.status_code]) == [200, 409], (r1.text, r2.text)
            jane_won = r1.status_code == 200
            loser = r2 if jane_won else r1
            assert loser.json()["error"]["code"] == "slot_taken"
            jane_now, max_now = await view(appointment_id, token), await view(max_id, max_token)
            assert jane_now["start"] == (first if jane_won else second)["start"]
            assert max_now["start"] == (third if jane_won else first)["start"]
            free = [s["id"] for s in (await anon.get("/api/v1/slots")).json()["slots"]]
            assert free == [(second if jane_won else third)["id"], bens["id"]]

            # cancelled: the link says so; moving or cancelling again is refused
            assert (
                await anon.delete(f"/api/v1/appointments/{appointment_id}", params={"token": token})
            ).status_code == 200
            assert (await view(appointment_id, token))["state"] == "cancelled"
            r = await rebook(appointment_id, token, bens["id"])
            assert r.status_code == 409, r.text
            assert r.json()["error"]["code"] == "invalid_state"
            assert r.json()["error"]["state"] == "cancelled"
            r = await anon.delete(f"/api/v1/appointments/{appointment_id}", params={"token": token})
            assert r.json()["error"]["code"] == "invalid_state"

        # Jane's mails: one calendar event (same UID), each mail a higher SEQUENCE.
        # 2 bookings, 2 moves (Jane's first, then the race's winner), 1 cancellation:
        # 10 mails, one to the customer and one to Anna each.
        mails = await wait_for_mails(smtp_server, 10)
        to_jane = [m for m in mails if m["To"] == "jane@example.org"]
        to_anna = [m for m in mails if m["To"] == "anna@bank.example"]
        jane = [invitation_of(m) for m in to_jane]
        moves = 2 if jane_won else 1
        assert [i.method for i in jane] == ["REQUEST"] * (1 + moves) + ["CANCEL"]
        assert [i.status for i in jane] == ["CONFIRMED"] * (1 + moves) + ["CANCELLED"]
        assert [i.sequence for i in jane] == list(range(moves + 2))
        assert len({i.uid for i in jane}) == 1
        assert jane[0].uid.startswith(f"{appointment_id}@")
        assert jane[0].start == time_of(first["start"])
        assert (jane[1].start, jane[1].end) == (time_of(second["start"]), time_of(second["end"]))
        assert jane[-2].start == time_of(jane_now["start"])
        for i in jane:  # the same people in every update and the cancellation
            assert (i.organizer.name, i.organizer.email) == ("Anna", "anna@bank.example")
            assert [(a.name, a.email) for a in i.attendees] == [("Jane", "jane@example.org")]
        assert re.fullmatch(r"Moved to .+: your appointment", str(to_jane[1]["Subject"]))
        body = mail_text(to_jane[1])
        assert body.startswith("Hello Jane,") and "has moved from" in body
        assert old_link[1].split(".")[0] in body  # the same conversation's link
        # the adviser's copy of each of Jane's moves: the same event and SEQUENCE, in
        # the language of Jane's booking (English); a move of Max's is in German
        anna_moved = [m for m in to_anna if str(m["Subject"]).strip().startswith("Moved to ")]
        assert len(anna_moved) == moves, [m["Subject"] for m in to_anna]
        max_moved = [m for m in to_anna if str(m["Subject"]).strip().startswith("Verschoben")]
        assert len(max_moved) == (0 if jane_won else 1), [m["Subject"] for m in to_anna]
        assert invitation_of(anna_moved[0]).uid == jane[0].uid
        assert invitation_of(anna_moved[0]).sequence == 1
        assert "Jane (jane@example.org) moved the appointment from" in mail_text(anna_moved[0])
        # Max's booking is another event, never Jane's UID
        to_max = [invitation_of(m) for m in mails if m["To"] == "max@example.org"]
        assert to_max and all(i.uid != jane[0].uid for i in to_max)
        await a.aclose()
        await b.aclose()
    finally:
        server.stop()
