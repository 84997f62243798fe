"""HTTP routes of forms: the template catalogue (advisers read it, admins add and
remove) and a conversation's forms as JSON and PDF. Reference: docs/protocol.md,
"HTTP API".

A form is read by its conversation's participants: the customer with `Authorization:
Bearer <customer token>` (never a cookie), an adviser of the conversation with the
session cookie, and supervisors and admins (they read every conversation). GETs have
no effect, so they take no CSRF token; the catalogue's changes do.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from visavis.auth.tokens import CustomerTokens
from visavis.errors import VisavisError
from visavis.forms.catalogue import TemplateCatalogue, template_frame
from visavis.forms.service import FormService, record_of
from visavis.forms.templates import MAX_TEMPLATE_BYTES, parse_template
from visavis.storage.models import Form
from visavis.web.http import Api
from visavis.web.permissions import check_admin, check_adviser_of

if TYPE_CHECKING:
    from visavis.forms.pdf import Lang

log = logging.getLogger(__name__)

# what an exported file may do when a browser opens it: nothing
EXPORT_CSP = "sandbox; default-src 'none'"


class FormRoutes:
    def __init__(
        self, api: Api, tokens: CustomerTokens, forms: FormService, catalogue: TemplateCatalogue
    ) -> None:
        self.api = api
        self.tokens = tokens
        self.forms = forms
        self.catalogue = catalogue

    # ------------------------------------------------------------ templates
    async def templates(self, request: Request) -> Response:
        await self.api.adviser(request)
        return JSONResponse({"templates": await self.catalogue.list()})

    async def template(self, request: Request) -> Response:
        await self.api.adviser(request)
        row = await self.catalogue.latest(request.path_params["template_id"])
        return JSONResponse({"template": template_frame(row)})

    async def add_template(self, request: Request) -> Response:
        me = check_admin(await self.api.adviser(request, csrf=True))
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_TEMPLATE_BYTES:
                raise VisavisError(
                    "template_invalid", f"the template is over {MAX_TEMPLATE_BYTES} bytes"
                )
        template = parse_template(bytes(body))
        info, created = await self.catalogue.do_add(template, me.id)
        return JSONResponse({"template": info, "created": created}, status_code=201)

    async def remove_template(self, request: Request) -> Response:
        check_admin(await self.api.adviser(request, csrf=True))
        await self.catalogue.do_remove(request.path_params["template_id"])
        return Response(status_code=204)

    # ------------------------------------------------------------ forms
    async def readable(self, request: Request, export: str) -> Form:
        """The form, if the asker takes part in its conversation (or sees all); the
        export is in the audit log."""
        form = await self.forms.get(request.path_params["form_id"])
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            if self.tokens.check(header[7:].strip()) != form.conversation_id:
                raise VisavisError("forbidden", "your token does not grant this conversation")
            actor = f"customer:{form.conversation_id}"
        else:
            adviser = await self.api.adviser(request)
            if not adviser.sees_all:
                check_adviser_of(adviser, await self.api.conversations.get(form.conversation_id))
            actor = f"adviser:{adviser.id}"
        await self.api.audit.do_record(
            actor=actor,
            action=f"form.export.{export}",
            subject=f"form:{form.id}",
            detail={"conversation_id": form.conversation_id},
        )
        return form

    async def export_json(self, request: Request) -> Response:
        form = await self.readable(request, "json")
        record = record_of(form, await self.forms.template(form))
        return JSONResponse(
            record,
            headers={
                "Content-Disposition": f'attachment; filename="form-{form.id}.json"',
                "Content-Security-Policy": EXPORT_CSP,
                "Cache-Control": "private, no-store",
            },
        )

    async def export_pdf(self, request: Request) -> Response:
        lang = request.query_params.get("lang", "de")
        if lang not in ("de", "en"):
            raise VisavisError("bad_request", "lang: expected de or en")
        form = await self.readable(request, "pdf")
        template = await self.forms.template(form)
        record = record_of(form, template)
        from visavis.forms.pdf import form_pdf  # on first use: reportlab costs server starts

        pdf = await asyncio.to_thread(form_pdf, record, template, cast("Lang", lang))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="form-{form.id}.pdf"',
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": EXPORT_CSP,
                "Cache-Control": "private, no-store",
            },
        )
