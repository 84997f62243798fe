"""HTTP API (JSON) and page routes. Reference: docs/protocol.md, "HTTP API"."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from visavis.audit.log import AuditLog
from visavis.auth.profiles import MAX_PHOTO_BYTES, ProfileService
from visavis.auth.ratelimit import MakeLimiter, local_limiter
from visavis.auth.service import EMAIL_RE, AdviserView, AuthService
from visavis.auth.tokens import CustomerTokens
from visavis.config import Settings
from visavis.conversations.service import ConversationService
from visavis.errors import VisavisError
from visavis.protocol.messages import MAX_TEXT_CHARS, ClientId
from visavis.protocol.wire import loads
from visavis.routing.queueing import check_open
from visavis.routing.teams import TeamService
from visavis.ways_in.proactive import ProactiveService
from visavis.web.availability import Scope
from visavis.web.hub import Hub
from visavis.web.ws import SESSION_COOKIE
from visavis.web.ws_advisers import adviser_info

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
LANG_RE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()/-]{4,30}$")
T = TypeVar("T", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FirstMessage(_Body):
    client_id: ClientId
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]


class CreateConversation(_Body):
    customer_name: Annotated[str, Field(max_length=80)] | None = None
    topic: Annotated[str, Field(max_length=64)] | None = None
    language: Annotated[str, Field(max_length=16)] | None = None
    message: FirstMessage | None = None
    # chat: wait for an adviser now; message / callback: the offline queue
    kind: Literal["chat", "message", "callback"] = "chat"
    contact: Annotated[str, Field(max_length=254)] | None = None
    # picked in the adviser portal: wait for this adviser (with a fallback)
    adviser_id: Annotated[str, Field(max_length=32)] | None = None


class ProfileBody(_Body):
    languages: Annotated[list[Annotated[str, Field(max_length=16)]], Field(max_length=10)]
    topics: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=20)]
    bio: Annotated[str, Field(max_length=500)] = ""
    listed: bool = False


class Login(_Body):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


async def read_json(request: Request, model: type[T]) -> T:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise VisavisError("bad_request", "send the body as application/json")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise VisavisError("frame_too_large", f"body over {MAX_BODY_BYTES} bytes")
    data = loads(body or b"null", "body")  # bad_json: not JSON, or nested too deep
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise VisavisError("bad_request", f"{where}: {first['msg']}") from None


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Api:
    def __init__(
        self,
        settings: Settings,
        auth: AuthService,
        tokens: CustomerTokens,
        conversations: ConversationService,
        hub: Hub,
        teams: TeamService,
        profiles: ProfileService,
        audit: AuditLog,
        limiter: MakeLimiter = local_limiter,
    ) -> None:
        self.settings = settings
        self.audit = audit  # reads of stored data by those who do not take part
        self.auth = auth
        self.tokens = tokens
        self.conversations = conversations
        self.hub = hub
        self.teams = teams
        self.profiles = profiles
        self.proactive = ProactiveService(profiles.database)
        self.create_limit = limiter("create", settings.conversations_per_minute)
        self.app_dir = Path(settings.static_dir) / "app"

    # ------------------------------------------------------------ helpers
    async def adviser(self, request: Request, csrf: bool = False) -> AdviserView:
        adviser, token = await self.auth.check_session(request.cookies.get(SESSION_COOKIE))
        if csrf and request.headers.get("x-csrf-token") != token:
            raise VisavisError("csrf_failed", "missing or wrong X-CSRF-Token header")
        return adviser

    # ------------------------------------------------------------ public
    def check_availability_scope(self, request: Request) -> Scope:
        """`?topic=` / `?team=` (and `?lang=`) of the availability endpoints; an unknown
        team or topic is refused (a typo would otherwise silently show the availability
        of all teams)."""
        topic = request.query_params.get("topic") or None
        team_id = request.query_params.get("team") or None
        language = request.query_params.get("lang") or None
        if team_id is not None:
            self.teams.get(team_id)  # not_found for an unknown team
        if topic is not None and topic not in {t.id for t in self.settings.topic_list()}:
            raise VisavisError("not_found", f"no topic {topic[:64]!r}")
        if language is not None and not LANG_RE.match(language):
            raise VisavisError("bad_request", "lang: not a language tag")
        return topic, team_id, language

    async def availability(self, request: Request) -> Response:
        topic, team_id, language = self.check_availability_scope(request)
        return JSONResponse(
            await self.hub.availability.current(topic, team_id=team_id, language=language)
        )

    async def proactive_rules(self, request: Request) -> Response:
        return JSONResponse(
            {"rules": await self.proactive.rules()}, headers={"Cache-Control": "max-age=60"}
        )

    # ------------------------------------------------------------ portal (R5.4)
    async def portal(self, request: Request) -> Response:
        out = []
        for p in await self.profiles.listed():
            status = self.hub.presence.status(p["id"])
            if status == "available" and self.hub.presence.is_full(p["id"]):
                status = "busy"
            out.append({**p, "status": status})
        return JSONResponse({"advisers": out})

    async def portal_photo(self, request: Request) -> Response:
        content_type, data = await self.profiles.photo(request.path_params["adviser_id"])
        return Response(data, media_type=content_type, headers={"Cache-Control": "max-age=300"})

    async def my_photo(self, request: Request) -> Response:
        me = await self.adviser(request)
        content_type, data = await self.profiles.photo(me.id, listed_only=False)
        # private: it answers per session cookie, so no shared cache may keep it
        return Response(
            data, media_type=content_type, headers={"Cache-Control": "private, no-cache"}
        )

    async def my_profile(self, request: Request) -> Response:
        me = await self.adviser(request)
        return JSONResponse({"profile": await self.profiles.profile(me.id)})

    async def set_my_profile(self, request: Request) -> Response:
        me = await self.adviser(request, csrf=True)
        body = await read_json(request, ProfileBody)
        topics = {t.id for t in self.settings.topic_list()}
        unknown = [t for t in body.topics if t not in topics]
        if unknown:
            raise VisavisError("bad_request", f"topics: unknown {unknown}")
        if any(not LANG_RE.match(x) for x in body.languages):
            raise VisavisError("bad_request", "languages: not language tags")
        await self.profiles.do_set_profile(
            me.id, body.languages, body.topics, body.bio, body.listed
        )
        await self.teams.load()  # routing prefers advisers speaking the customer's language
        return JSONResponse({"profile": await self.profiles.profile(me.id)})

    async def set_my_photo(self, request: Request) -> Response:
        me = await self.adviser(request, csrf=True)
        data = b""
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_PHOTO_BYTES:
                raise VisavisError("frame_too_large", "photo: at most 512 KB")
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        await self.profiles.do_set_photo(me.id, content_type, data)
        return JSONResponse({"profile": await self.profiles.profile(me.id)})

    async def list_teams(self, request: Request) -> Response:
        return JSONResponse({"teams": [t.as_dict() for t in self.teams.all()]})

    async def availability_stream(self, request: Request) -> Response:
        scope = self.check_availability_scope(request)

        async def events() -> AsyncIterator[str]:
            yield "retry: 3000\n\n"
            async for state in self.hub.availability.stream(*scope):
                yield f"event: availability\ndata: {state}\n\n" if state else ": keep-alive\n\n"

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def topics(self, request: Request) -> Response:
        return JSONResponse(
            {
                "topics": [
                    {"id": t.id, "label_de": t.label_de, "label_en": t.label_en}
                    for t in self.settings.topic_list()
                ]
            }
        )

    async def create_conversation(self, request: Request) -> Response:
        if not await self.create_limit.allow(client_ip(request)):
            raise VisavisError("rate_limited", "too many new conversations from your address")
        body = await read_json(request, CreateConversation)
        topics = {t.id for t in self.settings.topic_list()}
        if body.topic is not None and body.topic not in topics:
            raise VisavisError("bad_request", f"topic: unknown topic {body.topic!r}")
        if body.language is not None and not LANG_RE.match(body.language):
            raise VisavisError("bad_request", "language: not a language tag")
        if body.kind == "callback" and not (body.contact and PHONE_RE.match(body.contact)):
            raise VisavisError("bad_request", "contact: a phone number is needed for a call-back")
        if body.kind == "message" and not (
            body.contact and (EMAIL_RE.match(body.contact) or PHONE_RE.match(body.contact))
        ):
            raise VisavisError("bad_request", "contact: an e-mail address or phone number")
        if body.kind != "chat" and body.message is None:
            raise VisavisError("bad_request", "message: say what it is about")
        if body.adviser_id is not None and not await self.profiles.is_listed(body.adviser_id):
            raise VisavisError("not_found", "adviser_id: no such adviser in the portal")
        team = self.teams.for_topic(body.topic, body.language)
        if body.kind == "chat":
            check_open(team, datetime.now(UTC))
        first = None
        if body.message is not None:
            text = body.message.text.strip()
            if not text:
                raise VisavisError("bad_request", "message.text: is blank")
            first = (body.message.client_id, text)
        conv, _events = await self.conversations.do_create(
            body.customer_name,
            body.topic,
            body.language,
            first,
            team.id if team else None,
            body.kind,
            body.contact,
            body.adviser_id,
        )
        log.info("conversation %s created (topic %s)", conv["id"], body.topic)
        return JSONResponse(
            {"conversation": conv, "token": self.tokens.issue(conv["id"])}, status_code=201
        )

    # ------------------------------------------------------------ advisers
    async def login(self, request: Request) -> Response:
        body = await read_json(request, Login)
        try:
            adviser, raw, csrf = await self.auth.do_login(
                body.email, body.password, client_ip(request)
            )
        except VisavisError as err:
            log.warning(
                "login refused for %r from %s: %s", body.email, client_ip(request), err.code
            )
            raise
        response = JSONResponse(
            {"adviser": adviser_info(adviser, adviser.status), "csrf_token": csrf}
        )
        response.set_cookie(
            SESSION_COOKIE,
            raw,
            max_age=self.settings.session_ttl_s,
            httponly=True,
            samesite="strict",
            secure=self.settings.cookie_secure,
            path="/",
        )
        return response

    async def session(self, request: Request) -> Response:
        adviser, csrf = await self.auth.check_session(request.cookies.get(SESSION_COOKIE))
        return JSONResponse({"adviser": adviser_info(adviser, adviser.status), "csrf_token": csrf})

    async def logout(self, request: Request) -> Response:
        await self.adviser(request, csrf=True)
        await self.auth.do_logout(request.cookies.get(SESSION_COOKIE, ""))
        response = JSONResponse({"ok": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def list_conversations(self, request: Request) -> Response:
        me = await self.adviser(request)
        params = request.query_params
        status = params.get("status") or None
        if status not in (None, "queued", "active", "ended"):
            raise VisavisError("bad_request", "status: must be queued, active or ended")
        try:
            limit = min(max(int(params.get("limit", "50")), 1), 200)
        except ValueError:
            raise VisavisError("bad_request", "limit: not a number") from None
        q = (params.get("q") or "").strip()[:100] or None
        rows = await self.conversations.search(
            None if me.sees_all else me.id, status, q, limit, params.get("before")
        )
        return JSONResponse({"conversations": rows})

    async def get_conversation(self, request: Request) -> Response:
        me = await self.adviser(request)
        cid = request.path_params["conversation_id"]
        conv = await self.conversations.get(cid)
        if not me.sees_all and (conv["adviser"] is None or conv["adviser"]["id"] != me.id):
            raise VisavisError("forbidden", "this conversation is not assigned to you")
        if conv["adviser"] is None or conv["adviser"]["id"] != me.id:
            # a supervisor or admin reads a colleague's conversation
            await self.audit.do_record(
                actor=f"adviser:{me.id}", action="conversation.read", subject=f"conversation:{cid}"
            )
        return JSONResponse(
            {"conversation": conv, "events": await self.conversations.full_history(cid)}
        )

    async def list_advisers(self, request: Request) -> Response:
        """Colleagues with live status and load: whom to hand a customer to (R4.3). The
        same list reaches supervisors' sockets in `overview.snapshot` (Roster)."""
        await self.adviser(request)
        return JSONResponse({"advisers": await self.hub.roster.advisers()})

    # ------------------------------------------------------------ pages
    def page(self, name: str) -> Any:
        async def endpoint(request: Request) -> Response:
            path = self.app_dir / name
            if not path.is_file():
                return Response(
                    f"{name} is not built: run the setup command (scripts/demo.sh) "
                    "or `npm run build` in frontend/",
                    status_code=503,
                    media_type="text/plain",
                )
            return FileResponse(path, headers={"Cache-Control": "no-cache"})

        return endpoint
