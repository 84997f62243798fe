"""HTTP routes for appointment slots and bookings (R5.6)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from visavis.auth.service import EMAIL_RE
from visavis.errors import VisavisError
from visavis.notify.mail import Attachment, Mailer
from visavis.routing.appointments import AppointmentService
from visavis.routing.ics import appointment_ics
from visavis.routing.joins import JoinService
from visavis.routing.teams import TeamService
from visavis.web.http import Api, _Body, client_ip, read_json

log = logging.getLogger(__name__)


class SlotBody(_Body):
    start: datetime
    end: datetime


class BookBody(_Body):
    slot_id: Annotated[str, Field(min_length=4, max_length=32)]
    customer_name: Annotated[str, Field(min_length=1, max_length=80)]
    email: Annotated[str, Field(min_length=3, max_length=254)]
    topic: Annotated[str, Field(max_length=64)] | None = None
    language: Literal["de", "en"] = "de"


TEXT = {
    "de": {
        "booked": "Ihr Termin am {when} mit {adviser}",
        "cancelled": "Abgesagt: Ihr Termin am {when}",
        "body": "Guten Tag {name},\n\nIhr Beratungstermin mit {adviser} ist am {when}.\n"
        "Zur Beratung öffnen Sie zur Terminzeit diesen Link (ab 15 Minuten vorher):\n\n"
        "{link}\n\nTermin absagen: {manage}\n",
        "cancel_body": "Guten Tag {name},\n\nIhr Termin am {when} mit {adviser} wurde abgesagt.\n",
        "adviser_body": "Neuer Termin am {when} mit {name} ({email}).\n\nLink: {link}\n",
        "adviser_cancel_body": "{name} ({email}) hat den Termin am {when} abgesagt.\n",
    },
    "en": {
        "booked": "Your appointment on {when} with {adviser}",
        "cancelled": "Cancelled: your appointment on {when}",
        "body": "Hello {name},\n\nyour consultation with {adviser} is on {when}.\n"
        "At that time, open this link (from 15 minutes before):\n\n{link}\n\n"
        "Cancel the appointment: {manage}\n",
        "cancel_body": "Hello {name},\n\nyour appointment on {when} with {adviser} "
        "was cancelled.\n",
        "adviser_body": "New appointment on {when} with {name} ({email}).\n\nLink: {link}\n",
        "adviser_cancel_body": "{name} ({email}) cancelled the appointment on {when}.\n",
    },
}


class AppointmentRoutes:
    def __init__(
        self,
        api: Api,
        appointments: AppointmentService,
        joins: JoinService,
        teams: TeamService,
        mailer: Mailer,
        origin: str,
        display_tz: str,
    ) -> None:
        self.api = api
        self.appointments = appointments
        self.joins = joins
        self.teams = teams
        self.mailer = mailer
        self.origin = origin
        self.tz = ZoneInfo(display_tz)

    def _when(self, start_iso: str) -> str:
        start = datetime.fromisoformat(start_iso.replace("Z", "+00:00")).astimezone(self.tz)
        return start.strftime("%d.%m.%Y %H:%M") + f" ({self.tz.key})"

    # ------------------------------------------------------------ adviser
    async def add_slot(self, request: Request) -> Response:
        me = await self.api.adviser(request, csrf=True)
        body = await read_json(request, SlotBody)
        slot = await self.appointments.do_add_slot(me.id, body.start, body.end)
        return JSONResponse({"slot": {**slot, "adviser_name": me.name}}, status_code=201)

    async def remove_slot(self, request: Request) -> Response:
        me = await self.api.adviser(request, csrf=True)
        await self.appointments.do_remove_slot(me.id, request.path_params["slot_id"])
        return JSONResponse({"ok": True})

    async def my_slots(self, request: Request) -> Response:
        me = await self.api.adviser(request)
        return JSONResponse(
            {"slots": await self.appointments.slots(None, only_free=False, adviser_id=me.id)}
        )

    # ------------------------------------------------------------ customers
    async def free_slots(self, request: Request) -> Response:
        params = request.query_params
        members: set[str] | None = None
        if topic := params.get("topic"):
            team = self.teams.for_topic(topic)
            members = set(team.members) if team and team.members else None
        slots = await self.appointments.slots(
            members, only_free=True, adviser_id=params.get("adviser_id") or None
        )
        return JSONResponse({"slots": slots})

    async def book(self, request: Request) -> Response:
        if not self.api.create_limit.allow(client_ip(request)):
            raise VisavisError("rate_limited", "too many bookings from your address")
        body = await read_json(request, BookBody)
        email = body.email.strip()
        if not EMAIL_RE.match(email):
            raise VisavisError("bad_request", f"email: not an e-mail address: {email!r}")
        if not self.mailer.config.configured:
            raise VisavisError("invalid_state", "e-mail is not configured (VISAVIS_SMTP_HOST)")
        slot, conv, manage, adviser_email = await self.appointments.do_book(
            body.slot_id, body.customer_name, body.language, body.topic, email
        )
        link = f"{self.origin}/join/{quote(self.joins.appointment_link(conv['id']))}"
        manage_url = f"{self.origin}/book?appointment={slot['id']}&token={quote(manage)}"
        t = TEXT[body.language]
        when = self._when(slot["start"])
        fields = {"name": body.customer_name, "adviser": slot["adviser_name"], "when": when,
                  "link": link, "manage": manage_url, "email": email}  # fmt: skip
        ics = self._ics(slot, link, body.customer_name, email, adviser_email, cancel=False)
        try:
            await self.mailer.do_send(
                email, t["booked"].format(**fields), t["body"].format(**fields), (ics,)
            )
            await self.mailer.do_send(
                adviser_email, t["booked"].format(**fields), t["adviser_body"].format(**fields),
                (ics,),
            )  # fmt: skip
        except VisavisError:
            # without the mail the customer has no link: give the slot back
            await self.appointments.do_cancel(slot["id"], manage)
            raise
        log.info("appointment %s booked for %s", slot["id"], slot["start"])
        return JSONResponse(
            {
                "appointment": {
                    "id": slot["id"],
                    "start": slot["start"],
                    "end": slot["end"],
                    "adviser_name": slot["adviser_name"],
                },
                "manage_url": manage_url,
            },
            status_code=201,
        )

    async def cancel(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        done = await self.appointments.do_cancel(request.path_params["slot_id"], token)
        slot, email, adviser_email = done.slot, done.email, done.adviser_email
        when = self._when(slot["start"])
        # in the language the booking was made in, as its confirmation was (both sides)
        lang_text = TEXT["en" if done.language == "en" else "de"]
        name = done.customer_name or ""
        fields = {"name": name, "adviser": slot["adviser_name"], "when": when, "email": email}
        ics = self._ics(slot, self.origin, name, email, adviser_email, cancel=True)
        for to, body in ((email, "cancel_body"), (adviser_email, "adviser_cancel_body")):
            try:
                await self.mailer.do_send(
                    to, lang_text["cancelled"].format(**fields),
                    lang_text[body].format(**fields), (ics,),
                )  # fmt: skip
            except VisavisError:
                log.warning("cancellation mail to %s failed; the slot is free anyway", to)
        return JSONResponse({"ok": True})

    def _ics(
        self, slot: dict[str, str], link: str, name: str, email: str, adviser_email: str,
        cancel: bool,
    ) -> Attachment:  # fmt: skip
        start = datetime.fromisoformat(slot["start"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(slot["end"].replace("Z", "+00:00"))
        host = self.origin.split("://", 1)[-1].split("/")[0].split(":")[0]
        data = appointment_ics(
            uid=f"{slot['id']}@{host}",
            start=start,
            end=end,
            summary=f"Beratung / Consultation: {slot['adviser_name']}",
            description=f"Videoberatung / video consultation: {link}",
            url=link,
            organizer=(slot["adviser_name"], adviser_email),
            attendee=(name or email, email),
            cancel=cancel,
            sequence=1 if cancel else 0,
        )
        method = "CANCEL" if cancel else "REQUEST"
        return Attachment("invite.ics", f"text/calendar; method={method}", data)
