"""HTTP routes for e-mail invitations (R5.1) and phone codes (R5.5)."""

from __future__ import annotations

import logging
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from visavis.auth.service import EMAIL_RE, AdviserView
from visavis.auth.tokens import CustomerTokens
from visavis.conversations.service import ConversationService
from visavis.conversations.writes import Author
from visavis.errors import VisavisError
from visavis.notify.mail import Mailer
from visavis.ways_in.appointments import AppointmentService
from visavis.ways_in.joins import JoinService
from visavis.web.http import Api, _Body, client_ip, read_json

log = logging.getLogger(__name__)


class CreateInvitation(_Body):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    customer_name: Annotated[str, Field(max_length=80)] | None = None
    language: Literal["de", "en"] = "de"


class CreateCode(_Body):
    customer_name: Annotated[str, Field(max_length=80)] | None = None
    language: Literal["de", "en"] = "de"


class RedeemInvitation(_Body):
    invite: Annotated[str, Field(min_length=10, max_length=512)]


class RedeemCode(_Body):
    code: Annotated[str, Field(min_length=1, max_length=20)]


MAIL = {
    "de": (
        "Ihre Videoberatung mit {adviser}",
        "Guten Tag{name},\n\n{adviser} lädt Sie zu einer Beratung ein. Öffnen Sie einfach "
        "diesen Link im Browser (auch am Smartphone) – ohne Anmeldung, ohne Installation:\n\n"
        "{link}\n\nDer Link gilt {days} Tage und nur für Ihr Gespräch.\n",
    ),
    "en": (
        "Your consultation with {adviser}",
        "Hello{name},\n\n{adviser} invites you to a consultation. Just open this link in "
        "your browser (on your phone too) – no sign-up, nothing to install:\n\n{link}\n\n"
        "The link is valid for {days} days and only for your conversation.\n",
    ),
}


class JoinRoutes:
    def __init__(
        self,
        api: Api,
        joins: JoinService,
        conversations: ConversationService,
        tokens: CustomerTokens,
        mailer: Mailer,
        origin: str,
        appointments: AppointmentService,
    ) -> None:
        self.appointments = appointments
        self.api = api
        self.joins = joins
        self.conversations = conversations
        self.tokens = tokens
        self.mailer = mailer
        self.origin = origin

    def _link(self, invite: str) -> str:
        return f"{self.origin}/join/{quote(invite)}"

    async def create_invitation(self, request: Request) -> Response:
        me: AdviserView = await self.api.adviser(request, csrf=True)
        body = await read_json(request, CreateInvitation)
        email = body.email.strip()
        if not EMAIL_RE.match(email):
            raise VisavisError("bad_request", f"email: not an e-mail address: {email!r}")
        if not self.mailer.config.configured:
            raise VisavisError("invalid_state", "e-mail is not configured (VISAVIS_SMTP_HOST)")
        conv, _events, invite = await self.joins.do_create_link(
            me, body.customer_name, body.language
        )
        subject, text = MAIL[body.language]
        link = self._link(invite)
        try:
            await self.mailer.do_send(
                email,
                subject.format(adviser=me.name),
                text.format(
                    adviser=me.name,
                    name=f" {body.customer_name}" if body.customer_name else "",
                    link=link,
                    days=max(1, self.joins.link_ttl_s // 86400),
                ),
            )
        except VisavisError:
            # No one can ever open it: end it, so it does not hold a chat slot.
            await self.conversations.do_end(conv["id"], Author("system"))
            raise
        log.info("adviser %s invited a customer by e-mail (conversation %s)", me.id, conv["id"])
        return JSONResponse(
            {"conversation": conv, "link": link, "expires_in_s": self.joins.link_ttl_s},
            status_code=201,
        )

    async def open_link(self, request: Request) -> Response:
        invite = request.path_params["invite"]
        try:
            self.joins.check_link(invite)
        except VisavisError as err:
            return PlainTextResponse(
                "Dieser Einladungslink ist ungültig oder abgelaufen. Bitte fragen Sie nach einem "
                "neuen Link.\n\nThis invitation link is invalid or has expired. Please ask for a "
                f"new one.\n\n({err.code})",
                status_code=err.http_status,
            )
        # The fragment never reaches a server log; the app exchanges it for a token.
        return RedirectResponse(f"/chat#invite={quote(invite)}", status_code=303)

    async def redeem_invitation(self, request: Request) -> Response:
        body = await read_json(request, RedeemInvitation)
        cid = self.joins.check_link(body.invite)
        # an appointment, and it is time: it becomes active with its adviser
        await self.appointments.do_join(cid)
        conv = await self.conversations.get(cid)
        if conv["status"] == "ended":
            raise VisavisError("invalid_state", "this conversation has already ended")
        return JSONResponse({"conversation": conv, "token": self.tokens.issue(cid)})

    async def create_code(self, request: Request) -> Response:
        me = await self.api.adviser(request, csrf=True)
        body = await read_json(request, CreateCode)
        conv, _events, code, expires = await self.joins.do_create_code(
            me, body.customer_name, body.language
        )
        return JSONResponse(
            {"conversation": conv, "code": code, "expires_at": expires.isoformat()},
            status_code=201,
        )

    async def redeem_code(self, request: Request) -> Response:
        body = await read_json(request, RedeemCode)
        try:
            cid = await self.joins.do_redeem_code(body.code, client_ip(request))
        except VisavisError as err:
            log.info("code refused from %s: %s", client_ip(request), err.code)
            raise
        conv = await self.conversations.get(cid)
        if conv["status"] == "ended":
            raise VisavisError("invalid_state", "this conversation has already ended")
        return JSONResponse({"conversation": conv, "token": self.tokens.issue(cid)})
