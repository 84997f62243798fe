"""Adviser portal (R5.4), appointments with ICS (R5.6), proactive rules (R5.3)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from conftest import LiveServer, Smtp, make_server, smtp_env
from helpers import PASSWORD, adviser_socket
from invitations import invitation_of
from wsclient import WsClient, login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def session(server: LiveServer, email: str) -> httpx.AsyncClient:
    cookie, csrf = await login(server.base_url, email, PASSWORD)
    return httpx.AsyncClient(
        base_url=server.base_url,
        cookies={"visavis_session": cookie},
        headers={"X-CSRF-Token": csrf},
    )


async def test_portal_lists_advisers_and_a_picked_adviser_gets_the_customer(tmp_path) -> None:  # type: ignore[no-untyped-def]
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


ANNA = "Berger, Anna: Beratung"
ERIKA = 'Müller, Jürgen: "Weiß";\r\nSohn'


def _slot(minutes_from_now: int, length: int = 30) -> dict[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes_from_now)
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=length)).isoformat()}


async def test_booking_an_appointment_sends_ics_and_the_link_opens_at_the_time(
    tmp_path, smtp_server: Smtp
) -> None:  # type: ignore[no-untyped-def]
    server = make_server(tmp_path, **smtp_env(smtp_server))
    server.start()
    try:
        # names with what iCalendar must quote or escape
        anna_ws = await adviser_socket(server, "anna@bank.example", ANNA)
        a = await session(server, "anna@bank.example")
        soon = (await a.post("/api/v1/slots", json=_slot(5))).json()["slot"]
        later = (await a.post("/api/v1/slots", json=_slot(24 * 60))).json()["slot"]
        assert (await a.post("/api/v1/slots", json=_slot(10))).json()["error"][
            "code"
        ] == "invalid_state"  # overlaps
        past = await a.post("/api/v1/slots", json=_slot(-60))
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

        for _ in range(100):
            if len(smtp_server.messages) >= 2:
                break
            await asyncio.sleep(0.05)
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
        link = re.search(
            r"http://127\.0\.0\.1:\d+/join/\S+", mail.get_body(("plain",)).get_content()
        ).group(0)
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
            slot_id = re.search(r"appointment=([^&]+)", manage_url).group(1)
            token = re.search(r"token=([^&]+)", manage_url).group(1)
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
        await asyncio.sleep(0.5)
        last = [
            m
            for m in smtp_server.messages
            if m["To"] == "erika@example.org" and "Abgesagt" not in m["Subject"]
        ][-1]
        soon_link = re.search(r"/join/(\S+)", last.get_body(("plain",)).get_content()).group(1)
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


async def test_proactive_rules_and_team_availability(live_server: LiveServer) -> None:
    live_server.cli(
        "team",
        "set",
        "baufi",
        "--topics",
        "kredit",
        "--hours",
        '{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}',
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


async def test_cancellation_mails_speak_the_language_of_the_booking(
    tmp_path, smtp_server: Smtp
) -> None:  # type: ignore[no-untyped-def]
    server = make_server(tmp_path, **smtp_env(smtp_server))
    server.start()
    try:
        server.add_adviser("anna@bank.example", PASSWORD, "Anna")
        a = await session(server, "anna@bank.example")
        slots = [(await a.post("/api/v1/slots", json=_slot(m))).json()["slot"] for m in (60, 120)]
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
                slot_id = re.search(r"appointment=([^&]+)", manage[who]).group(1)
                token = re.search(r"token=([^&]+)", manage[who]).group(1)
                r = await anon.delete(f"/api/v1/appointments/{slot_id}", params={"token": token})
                assert r.status_code == 200, r.text
        for _ in range(100):  # 2 bookings and 2 cancellations, each to both sides
            if len(smtp_server.messages) >= 8:
                break
            await asyncio.sleep(0.05)
        cancelled = [m for m in smtp_server.messages if invitation_of(m).method == "CANCEL"]
        assert len(cancelled) == 4, [m["Subject"] for m in smtp_server.messages]

        def body(m: object) -> str:
            return str(m.get_body(("plain",)).get_content())  # type: ignore[attr-defined]

        jane = next(m for m in cancelled if m["To"] == "jane@example.org")
        assert jane["Subject"].startswith("Cancelled: your appointment on")
        assert body(jane).startswith("Hello Jane,") and "was cancelled" in body(jane)
        erika = next(m for m in cancelled if m["To"] == "erika@example.org")
        assert erika["Subject"].startswith("Abgesagt: Ihr Termin am")
        assert body(erika).startswith("Guten Tag Erika,") and "abgesagt" in body(erika)
        # the adviser hears it in the same language, with who cancelled
        to_anna = [m for m in cancelled if m["To"] == "anna@bank.example"]
        assert [m["Subject"].split(":")[0] for m in to_anna] == ["Cancelled", "Abgesagt"]
        assert "Jane (jane@example.org) cancelled" in body(to_anna[0])
        assert "Erika (erika@example.org) hat den Termin" in body(to_anna[1])
        await a.aclose()
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


# ---------------------------------------------------------------- rebooking
def _manage_of(response: httpx.Response) -> tuple[str, str]:
    """Appointment id and token of the manage link in a booking's answer."""
    url = response.json()["manage_url"]
    found = re.search(r"appointment=([^&]+)&token=([^&]+)", url)
    assert found, url
    return found.group(1), found.group(2)


async def _mails(smtp: Smtp, count: int) -> list[Any]:
    for _ in range(200):
        if len(smtp.messages) >= count:
            break
        await asyncio.sleep(0.05)
    assert len(smtp.messages) >= count, [m["Subject"] for m in smtp.messages]
    return list(smtp.messages)


def _time(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


async def test_rebooking_moves_the_appointment_in_one_transaction(
    tmp_path, smtp_server: Smtp, database_url: str
) -> None:  # type: ignore[no-untyped-def]
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
            (await a.post("/api/v1/slots", json=_slot(m))).json()["slot"] for m in (60, 120, 180)
        ]
        bens = (await b.post("/api/v1/slots", json=_slot(240))).json()["slot"]
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
            appointment_id, token = _manage_of(booked)
            assert appointment_id != first["id"]  # the booking's own id, not the slot's
            assert (await view(appointment_id, token))["state"] == "booked"
            wrong = await anon.get(
                f"/api/v1/appointments/{appointment_id}", params={"token": "x" * 32}
            )
            assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "not_found"
            first_mail = (await _mails(smtp_server, 2))[0]
            old_link = re.search(r"/join/(\S+)", first_mail.get_body(("plain",)).get_content())
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
            max_id, max_token = _manage_of(max_booked)
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
        mails = await _mails(smtp_server, 10)
        to_jane = [m for m in mails if m["To"] == "jane@example.org"]
        to_anna = [m for m in mails if m["To"] == "anna@bank.example"]
        jane = [invitation_of(m) for m in to_jane]
        moves = 2 if jane_won else 1
        assert [i.method for i in jane] == ["REQUEST"] * (1 + moves) + ["CANCEL"]
        assert [i.status for i in jane] == ["CONFIRMED"] * (1 + moves) + ["CANCELLED"]
        assert [i.sequence for i in jane] == list(range(moves + 2))
        assert len({i.uid for i in jane}) == 1
        assert jane[0].uid.startswith(f"{appointment_id}@")
        assert jane[0].start == _time(first["start"])
        assert (jane[1].start, jane[1].end) == (_time(second["start"]), _time(second["end"]))
        assert jane[-2].start == _time(jane_now["start"])
        for i in jane:  # the same people in every update and the cancellation
            assert (i.organizer.name, i.organizer.email) == ("Anna", "anna@bank.example")
            assert [(a.name, a.email) for a in i.attendees] == [("Jane", "jane@example.org")]
        assert re.fullmatch(r"Moved to .+: your appointment", str(to_jane[1]["Subject"]))
        body = to_jane[1].get_body(("plain",)).get_content()
        assert body.startswith("Hello Jane,") and "has moved from" in body
        assert old_link[1].split(".")[0] in body  # the same conversation's link
        # the adviser's copy of the update: the same event and SEQUENCE, in English
        anna_moved = [m for m in to_anna if str(m["Subject"]).strip().startswith("Moved to ")]
        assert len(anna_moved) == 2, [m["Subject"] for m in to_anna]
        assert invitation_of(anna_moved[0]).uid == jane[0].uid
        assert invitation_of(anna_moved[0]).sequence == 1
        assert "Jane (jane@example.org) moved the appointment from" in str(
            anna_moved[0].get_body(("plain",)).get_content()
        )
        # Max's booking is another event, never Jane's UID
        to_max = [invitation_of(m) for m in mails if m["To"] == "max@example.org"]
        assert to_max and all(i.uid != jane[0].uid for i in to_max)
        await a.aclose()
        await b.aclose()
    finally:
        server.stop()


async def test_an_appointment_that_has_begun_cannot_be_moved(tmp_path, smtp_server: Smtp) -> None:  # type: ignore[no-untyped-def]
    server = make_server(tmp_path, VISAVIS_CONVERSATIONS_PER_MINUTE="4", **smtp_env(smtp_server))
    server.start()
    try:
        server.add_adviser("anna@bank.example", PASSWORD, "Anna")
        a = await session(server, "anna@bank.example")
        soon = (await a.post("/api/v1/slots", json=_slot(5))).json()["slot"]
        later = (await a.post("/api/v1/slots", json=_slot(120))).json()["slot"]
        async with httpx.AsyncClient(base_url=server.base_url) as anon:
            r = await anon.post(
                "/api/v1/appointments",
                json={"slot_id": soon["id"], "customer_name": "Erika", "email": "e@example.org"},
            )
            assert r.status_code == 201, r.text
            appointment_id, token = _manage_of(r)
            link = re.search(
                r"/join/(\S+)", (await _mails(smtp_server, 1))[0].get_body(("plain",)).get_content()
            )
            assert link
            # the customer comes in (15 minutes early is allowed): it has begun
            joined = await anon.post("/api/v1/invitations/redeem", json={"invite": link[1]})
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
