"""HTTP routes for appointment slots and bookings (R5.6)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal, TypedDict
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from visavis.auth.service import EMAIL_RE
from visavis.errors import VisavisError
from visavis.notify.mail import Attachment, Mailer
from visavis.routing.teams import TeamService
from visavis.ways_in.appointments import AppointmentService, Booking
from visavis.ways_in.joins import JoinService
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


class RebookBody(_Body):
    token: Annotated[str, Field(min_length=16, max_length=64)]
    slot_id: Annotated[str, Field(min_length=4, max_length=32)]


TEXT = {
    "de": {
        "booked": "Ihr Termin am {when} mit {adviser}",
        "cancelled": "Abgesagt: Ihr Termin am {when}",
        "moved": "Verschoben auf {when}: Ihr Termin",
        "adviser_moved": "Verschoben auf {when}: Termin mit {name}",
        "body": "Guten Tag {name},\n\nIhr Beratungstermin mit {adviser} ist am {when}.\n"
        "Zur Beratung öffnen Sie zur Terminzeit diesen Link (ab 15 Minuten vorher):\n\n"
        "{link}\n\nTermin verschieben oder absagen: {manage}\n",
        "moved_body": "Guten Tag {name},\n\nIhr Beratungstermin mit {adviser} ist verschoben "
        "vom {old_when} auf den {when}.\nIhr Link zur Beratung gilt weiter (auch der aus der "
        "ersten E-Mail); öffnen Sie ihn zur neuen Terminzeit (ab 15 Minuten vorher):\n\n"
        "{link}\n\nTermin verschieben oder absagen: {manage}\n",
        "cancel_body": "Guten Tag {name},\n\nIhr Termin am {when} mit {adviser} wurde abgesagt.\n",
        "adviser_body": "Neuer Termin am {when} mit {name} ({email}).\n\nLink: {link}\n",
        "adviser_moved_body": "{name} ({email}) hat den Termin vom {old_when} auf den {when} "
        "verschoben.\n\nLink: {link}\n",
        "adviser_cancel_body": "{name} ({email}) hat den Termin am {when} abgesagt.\n",
    },
    "en": {
        "booked": "Your appointment on {when} with {adviser}",
        "cancelled": "Cancelled: your appointment on {when}",
        "moved": "Moved to {when}: your appointment",
        "adviser_moved": "Moved to {when}: appointment with {name}",
        "body": "Hello {name},\n\nyour consultation with {adviser} is on {when}.\n"
        "At that time, open this link (from 15 minutes before):\n\n{link}\n\n"
        "Move or cancel the appointment: {manage}\n",
        "moved_body": "Hello {name},\n\nyour consultation with {adviser} has moved from "
        "{old_when} to {when}.\nYour link to it keeps working (the one in the first e-mail, "
        "too); open it at the new time (from 15 minutes before):\n\n{link}\n\n"
        "Move or cancel the appointment: {manage}\n",
        "cancel_body": "Hello {name},\n\nyour appointment on {when} with {adviser} "
        "was cancelled.\n",
        "adviser_body": "New appointment on {when} with {name} ({email}).\n\nLink: {link}\n",
        "adviser_moved_body": "{name} ({email}) moved the appointment from {old_when} to "
        "{when}.\n\nLink: {link}\n",
        "adviser_cancel_body": "{name} ({email}) cancelled the appointment on {when}.\n",
    },
}


class BookingInfo(TypedDict):
    """A booking as its customer sees it (after booking or moving it)."""

    id: str
    slot_id: str
    start: str
    end: str
    adviser_id: str
    adviser_name: str | None


def _lang(language: str | None) -> str:
    # mails about a booking speak the language it was made in, as its confirmation did
    return "en" if language == "en" else "de"


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
        if not await self.api.create_limit.allow(client_ip(request)):
            raise VisavisError("rate_limited", "too many bookings from your address")
        body = await read_json(request, BookBody)
        email = body.email.strip()
        if not EMAIL_RE.match(email):
            raise VisavisError("bad_request", f"email: not an e-mail address: {email!r}")
        if not self.mailer.config.configured:
            raise VisavisError("invalid_state", "e-mail is not configured (VISAVIS_SMTP_HOST)")
        booking, manage = await self.appointments.do_book(
            body.slot_id, body.customer_name, body.language, body.topic, email
        )
        slot = booking.slot
        link = self._link(booking)
        manage_url = self._manage_url(booking.id, manage)
        t = TEXT[body.language]
        when = self._when(slot["start"])
        fields = {"name": body.customer_name, "adviser": slot["adviser_name"], "when": when,
                  "link": link, "manage": manage_url, "email": email}  # fmt: skip
        ics = self._ics(booking, link, body.customer_name, cancel=False)
        try:
            await self.mailer.do_send(
                email, t["booked"].format(**fields), t["body"].format(**fields), (ics,)
            )
            await self.mailer.do_send(
                booking.adviser_email, t["booked"].format(**fields),
                t["adviser_body"].format(**fields), (ics,),
            )  # fmt: skip
        except VisavisError:
            # without the mail the customer has no link: give the slot back
            await self.appointments.do_cancel(booking.id, manage)
            raise
        log.info("appointment %s booked for %s", booking.id, slot["start"])
        return JSONResponse(
            {"appointment": self._public(booking), "manage_url": manage_url}, status_code=201
        )

    async def appointment(self, request: Request) -> Response:
        """The manage page: what the link's appointment is now (time, state)."""
        view = await self.appointments.appointment(
            request.path_params["appointment_id"], request.query_params.get("token", "")
        )
        return JSONResponse({"appointment": view})

    async def rebook(self, request: Request) -> Response:
        # moving takes a free slot like booking does: the same limit per address
        if not await self.api.create_limit.allow(client_ip(request)):
            raise VisavisError("rate_limited", "too many bookings from your address")
        body = await read_json(request, RebookBody)
        booking, old = await self.appointments.do_rebook(
            request.path_params["appointment_id"], body.token, body.slot_id
        )
        slot = booking.slot
        link = self._link(booking)
        manage_url = self._manage_url(booking.id, body.token)
        t = TEXT[_lang(booking.language)]
        name = booking.customer_name or ""
        fields = {"name": name, "adviser": slot["adviser_name"], "when": self._when(slot["start"]),
                  "old_when": self._when(old["start"]), "link": link, "manage": manage_url,
                  "email": booking.email}  # fmt: skip
        # an update of the same event: same UID, higher SEQUENCE, METHOD:REQUEST
        ics = self._ics(booking, link, name, cancel=False)
        mailed = True
        for to, subject, text in (
            (booking.email, "moved", "moved_body"),
            (booking.adviser_email, "adviser_moved", "adviser_moved_body"),
        ):
            try:
                await self.mailer.do_send(
                    to, t[subject].format(**fields), t[text].format(**fields), (ics,)
                )
            except VisavisError:
                # The move is done and shown to the customer, whose link is unchanged;
                # undoing it could fail too (the old slot may be gone). Say so instead.
                log.warning("rebooking mail to %s failed; the appointment moved anyway", to)
                mailed = False
        log.info("appointment %s moved from %s to %s", booking.id, old["start"], slot["start"])
        return JSONResponse(
            {"appointment": self._public(booking), "manage_url": manage_url, "mailed": mailed}
        )

    async def cancel(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        done = await self.appointments.do_cancel(request.path_params["appointment_id"], token)
        slot, email = done.slot, done.email
        when = self._when(slot["start"])
        lang_text = TEXT[_lang(done.language)]
        name = done.customer_name or ""
        fields = {"name": name, "adviser": slot["adviser_name"], "when": when, "email": email}
        ics = self._ics(done, self.origin, name, cancel=True)
        for to, body in ((email, "cancel_body"), (done.adviser_email, "adviser_cancel_body")):
            try:
                await self.mailer.do_send(
                    to, lang_text["cancelled"].format(**fields),
                    lang_text[body].format(**fields), (ics,),
                )  # fmt: skip
            except VisavisError:
                log.warning("cancellation mail to %s failed; the slot is free anyway", to)
        return JSONResponse({"ok": True})

    def _link(self, booking: Booking) -> str:
        # The link names the conversation, not the slot: after a move, links from
        # earlier mails open at the new time.
        return f"{self.origin}/join/{quote(self.joins.appointment_link(booking.conversation_id))}"

    def _manage_url(self, appointment_id: str, token: str) -> str:
        return f"{self.origin}/book?appointment={quote(appointment_id)}&token={quote(token)}"

    @staticmethod
    def _public(booking: Booking) -> BookingInfo:
        s = booking.slot
        return {"id": booking.id, "slot_id": s["id"], "start": s["start"], "end": s["end"],
                "adviser_id": s["adviser_id"], "adviser_name": s["adviser_name"]}  # fmt: skip

    def _ics(self, booking: Booking, link: str, name: str, cancel: bool) -> Attachment:
        slot = booking.slot
        start = datetime.fromisoformat(slot["start"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(slot["end"].replace("Z", "+00:00"))
        host = self.origin.split("://", 1)[-1].split("/")[0].split(":")[0]
        from visavis.ways_in.ics import appointment_ics  # on first use: icalendar is heavy

        data = appointment_ics(
            # the appointment's id, not the slot's: it survives a move (RFC 5545 updates
            # match on UID and take the highest SEQUENCE)
            uid=f"{booking.id}@{host}",
            start=start,
            end=end,
            summary=f"Beratung / Consultation: {slot['adviser_name']}",
            description=f"Videoberatung / video consultation: {link}",
            url=link,
            # a booking's slot always names its adviser (AppointmentService._booking)
            organizer=(slot["adviser_name"] or "", booking.adviser_email),
            attendee=(name or booking.email, booking.email),
            cancel=cancel,
            sequence=booking.sequence,
        )
        method = "CANCEL" if cancel else "REQUEST"
        return Attachment("invite.ics", f"text/calendar; method={method}", data)
