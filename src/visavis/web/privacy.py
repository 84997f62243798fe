"""Data protection over HTTP: the customers' privacy page (`/privacy`, made from the
configuration), and the admins' tools — one customer's export and erasure, the
policy in force, the audit log and its verification (the console's "Datenschutz"
panel). Reference: docs/protocol.md, "HTTP API".

The page is plain server-rendered HTML: no script, its CSS from /privacy.css, every
configured value escaped, the strict CSP of every page and no framing.
"""

from __future__ import annotations

from html import escape
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from visavis.audit.log import check_chain, entries
from visavis.errors import VisavisError
from visavis.privacy.page import Controller, Lang, privacy_text
from visavis.privacy.profiles import KINDS, Policy
from visavis.privacy.subject import Subject, SubjectService
from visavis.storage.engine import Database
from visavis.web.http import Api
from visavis.web.permissions import check_admin

MAX_BODY = 16 * 1024

CSS = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1c2430;background:#f6f7f9}
main{max-width:42rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.6rem;margin:0 0 .5rem}h2{font-size:1.15rem;margin:1.8rem 0 .5rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid #dde1e6;vertical-align:top}
address{font-style:normal}a{color:#0b5cad}.lang{float:right}
"""


class SubjectQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    conversation_ids: list[str] = Field(default_factory=list, max_length=100)

    def subject(self) -> Subject:
        return Subject(
            (self.email or "").strip() or None,
            (self.phone or "").strip() or None,
            tuple(i.strip() for i in self.conversation_ids if i.strip()),
        )


def choose_lang(request: Request) -> Lang:
    asked = request.query_params.get("lang")
    if asked in ("de", "en"):
        return asked  # type: ignore[return-value]
    accept = request.headers.get("accept-language", "de").lower()
    return "en" if accept.startswith("en") else "de"


def render_page(policy: Policy, controller: Controller, lang: Lang) -> str:
    t = privacy_text(policy, controller, lang)
    other = "en" if lang == "de" else "de"
    rows = "".join(
        f"<tr><td>{escape(r.what)}</td><td>{escape(r.how_long)}</td></tr>" for r in t.rows
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in t.notes)
    address = "<br>".join(escape(line) for line in t.controller_lines)
    dpo = f"<p>{escape(t.dpo_line)}</p>" if t.dpo_line else ""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(t.title)}</title><link rel="stylesheet" href="/privacy.css"></head>'
        f'<body><main><a class="lang" href="/privacy?lang={other}" hreflang="{other}">'
        f"{escape(t.other_language)}</a><h1>{escape(t.title)}</h1><p>{escape(t.intro)}</p>"
        f"<h2>{escape(t.controller_heading)}</h2><address>{address}</address>{dpo}"
        f"<h2>{escape(t.table_heading)}</h2><table><thead><tr>"
        f'<th scope="col">{escape(t.table_what)}</th>'
        f'<th scope="col">{escape(t.table_how_long)}</th></tr></thead>'
        f"<tbody>{rows}</tbody></table><ul>{notes}</ul>"
        f"<h2>{escape(t.rights_heading)}</h2><p>{escape(t.rights)}</p></main></body></html>"
    )


def policy_view(policy: Policy) -> dict[str, Any]:
    return {
        "profile": policy.profile,
        "retention_days": {k: policy.days(k) for k in KINDS},
        "recording_allowed": policy.recording_allowed,
        "keep_message_content_after_end": policy.keep_message_content_after_end,
        "waiting_room": policy.waiting_room,
        "media_peer_to_peer_only": policy.media_peer_to_peer_only,
        "legal_holds": dict(policy.legal_holds),
    }


class PrivacyRoutes:
    def __init__(
        self,
        api: Api,
        database: Database,
        subjects: SubjectService,
        policy: Policy,
        controller: Controller,
    ) -> None:
        self.api = api
        self._database = database
        self.subjects = subjects
        self.policy = policy
        self.controller = controller

    # ------------------------------------------------------------ customers
    async def page(self, request: Request) -> Response:
        lang = choose_lang(request)
        return HTMLResponse(
            render_page(self.policy, self.controller, lang),
            headers={"Cache-Control": "no-cache", "Content-Language": lang},
        )

    async def css(self, request: Request) -> Response:
        return Response(CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    # ------------------------------------------------------------ admins
    async def _query(self, request: Request) -> Subject:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise VisavisError("bad_request", f"the body is over {MAX_BODY} bytes")
        try:
            return SubjectQuery.model_validate_json(raw or b"{}").subject()
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise VisavisError("bad_request", f"{where}: {first['msg']}") from None

    async def policy_json(self, request: Request) -> Response:
        check_admin(await self.api.adviser(request))
        return JSONResponse({"policy": policy_view(self.policy)})

    async def export(self, request: Request) -> Response:
        me = check_admin(await self.api.adviser(request, csrf=True))
        subject = await self._query(request)
        export = await self.subjects.do_export(subject, f"adviser:{me.id}")
        return StreamingResponse(
            export.stream.chunks(),
            media_type="application/zip",
            headers={
                "Content-Disposition": 'attachment; filename="visavis-export.zip"',
                "X-Conversations": str(export.count),
                "Cache-Control": "private, no-store",
            },
        )

    async def erase(self, request: Request) -> Response:
        me = check_admin(await self.api.adviser(request, csrf=True))
        subject = await self._query(request)
        report = await self.subjects.do_erase(subject, f"adviser:{me.id}")
        return JSONResponse({"report": report.as_dict()})

    async def audit_list(self, request: Request) -> Response:
        check_admin(await self.api.adviser(request))
        raw = request.query_params.get("limit", "50")
        if not raw.isdigit():
            raise VisavisError("bad_request", "limit: expected a whole number")
        async with self._database.sessions() as db:
            rows = await entries(
                db, subject=request.query_params.get("subject") or None, limit=min(int(raw), 500)
            )
        return JSONResponse(
            {
                "entries": [
                    {
                        "id": e.id,
                        "at": e.at.isoformat(),
                        "actor": e.actor,
                        "action": e.action,
                        "subject": e.subject,
                        "detail": e.detail,
                    }
                    for e in rows
                ]
            }
        )

    async def audit_verify(self, request: Request) -> Response:
        check_admin(await self.api.adviser(request))
        async with self._database.sessions() as db:
            result = await check_chain(db)
        body: dict[str, Any] = {
            "ok": result.ok,
            "count": result.count,
            "head": f"{result.head_id}:{result.head_hash}",
            "problems": [{"id": p.id, "what": p.what} for p in result.problems],
        }
        return JSONResponse(body)
