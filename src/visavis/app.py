"""Application factory: the one place that reads settings and wires everything."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from visavis.audit.log import AuditLog
from visavis.auth.profiles import ProfileService
from visavis.auth.ratelimit import MakeLimiter, RedisLimiters, local_limiter
from visavis.auth.service import AuthService
from visavis.auth.tokens import CustomerTokens
from visavis.bus import Bus, MemoryBus
from visavis.collab.access import DocumentAccess
from visavis.collab.cobrowse import CobrowseService
from visavis.collab.documents import DocumentService
from visavis.collab.library import LibraryService
from visavis.collab.recording import RecordingService
from visavis.collab.signing import SealSettings, SigningService
from visavis.config import Settings
from visavis.conversations.announcer import Announcer
from visavis.conversations.calls import CallService
from visavis.conversations.commits import check_linger_us
from visavis.conversations.roster import Roster
from visavis.conversations.service import ConversationService
from visavis.conversations.transfers import TransferService
from visavis.documents.checks import UploadLimits
from visavis.documents.render import PageRenderer
from visavis.errors import VisavisError
from visavis.forms.catalogue import TemplateCatalogue
from visavis.forms.service import FormService
from visavis.media.ice import IceConfig
from visavis.notify.mail import Mailer, SmtpConfig
from visavis.privacy.page import Controller
from visavis.privacy.profiles import policy_for
from visavis.privacy.retention import FileCleanup, Retention, run_periodically
from visavis.privacy.subject import SubjectService
from visavis.recording.janus import janus_available
from visavis.recording.recorder import Recorder
from visavis.recording.sealed_file import key_from
from visavis.routing.presence import Presence
from visavis.routing.teams import TeamService
from visavis.storage.engine import Database
from visavis.storage.files import FileStore
from visavis.storage.keys import FileKeys
from visavis.storage.migrate import schema_problem
from visavis.ways_in.appointments import AppointmentService
from visavis.ways_in.joins import JoinService
from visavis.web import handoff
from visavis.web.appointments import AppointmentRoutes
from visavis.web.cobrowse_host import CobrowseHostRoutes
from visavis.web.demo_mail import DemoMailbox
from visavis.web.documents import DocumentRoutes
from visavis.web.forms import FormRoutes
from visavis.web.front import FrontApp
from visavis.web.heap import settled_heap
from visavis.web.http import Api
from visavis.web.hub import Hub
from visavis.web.joins import JoinRoutes
from visavis.web.leanws import write_corked
from visavis.web.metrics import (
    Operations,
    observe_bus_lag,
    observe_chat_group,
    observe_write,
)
from visavis.web.openapi import openapi_json
from visavis.web.privacy import PrivacyRoutes
from visavis.web.recordings import RecordingRoutes
from visavis.web.security import SecurityHeaders, mirror_page
from visavis.web.shutdown import do_cancel, do_step
from visavis.web.signing import SigningRoutes
from visavis.web.verify import VerifyRoutes
from visavis.web.ws import Gateway

if TYPE_CHECKING:
    from visavis.bus.redis import RedisBus
    from visavis.web.cluster import Cluster, RedisClaims, RedisHolders

log = logging.getLogger(__name__)


def error_response(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _visavis_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VisavisError)
    return JSONResponse({"error": exc.as_dict()}, status_code=exc.http_status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "bad_request"}.get(exc.status_code, "bad_request")
    return error_response(code, str(exc.detail), exc.status_code)


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client went away (or was cut off by a request deadline) while its body was
    # read: nothing to answer, and no traceback for it.
    log.debug("%s %s: the client left before its body was read", request.method, request.url.path)
    return error_response("bad_request", "client disconnected", 400)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response("internal", "internal error", 500)


def upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(max_bytes=settings.upload_max_bytes, max_pages=settings.upload_max_pages)


def file_keys(settings: Settings) -> FileKeys:
    """The key ring of files at rest: VISAVIS_FILE_KEY, else `<data_dir>/keys/files.key`."""
    return FileKeys(settings.file_key, settings.keys_dir / "files.key")


def controller(settings: Settings) -> Controller:
    return Controller(settings.controller_name, settings.controller_address, settings.dpo_email)


def make_recorder(settings: Settings, recording_allowed: bool) -> Recorder | None:
    """The recorder, or None: where the profile forbids recording (medical) no recorder
    ever runs; without VISAVIS_RECORDER it is Janus when Janus is installed (the
    post-processing runs in this process: `recording/mjr_webm.py`)."""
    choice = settings.recorder or ("janus" if janus_available() else "none")
    if choice not in ("janus", "none"):
        raise ValueError(f"VISAVIS_RECORDER must be janus or none, not {choice!r}")
    if not recording_allowed or choice == "none":
        return None
    data_dir = Path(settings.data_dir)
    key = key_from(settings.recording_key, data_dir / "keys" / "recordings.key")
    return Recorder(data_dir, key)


def existing_recording_key(settings: Settings) -> bytes | None:
    """The recordings' key for reading them back (an export) where one exists: given
    by the setting or made earlier by the recorder. Never made here: a server without a
    recorder has no recordings to read."""
    key_file = Path(settings.data_dir) / "keys" / "recordings.key"
    if not settings.recording_key and not key_file.exists():
        return None
    return key_from(settings.recording_key, key_file)


def create_app(settings: Settings | None = None, demo_mail_dir: Path | None = None) -> FrontApp:
    """`demo_mail_dir`: `visavis demo`'s mail catcher keeps its mails there, and
    /demo/mail shows them (without it, /demo/mail says it is a demo-only page)."""
    settings = settings or Settings.from_env()
    # a profile's limits broken by the settings (medical: metadata > 92 days) refuse
    # the start with the setting named
    policy = policy_for(settings.profile, settings.retention_overrides())
    database = Database(settings.database_url, checkpoints=True)
    audit = AuditLog(database.writer)
    # One process: the bus in memory. Several (--workers, or nodes behind a proxy):
    # Redis carries the bus, presence and node liveness (docs/architecture.md).
    redis_bus: RedisBus | None = None
    claims: RedisClaims | None = None
    holders: RedisHolders | None = None
    if settings.redis_url:
        # imported here, not at the top: redis-py costs every one-process start ~0.3 s
        from visavis.bus import redis as bus_redis
        from visavis.web import cluster as web_cluster

        redis_bus = bus_redis.RedisBus(settings.redis_url)
        claims, holders = web_cluster.RedisClaims(redis_bus), web_cluster.RedisHolders(redis_bus)
        handoff.use_redis(redis_bus.redis)  # the workers' homes (web/homes.py)
    bus: Bus = redis_bus if redis_bus is not None else MemoryBus()
    presence = Presence()
    # rate limits: per process, or shared by all nodes through Redis
    limiter: MakeLimiter = RedisLimiters(redis_bus.redis) if redis_bus else local_limiter
    auth = AuthService(
        database,
        settings.max_chats,
        settings.session_ttl_s,
        settings.login_attempts_per_minute,
        limiter,
    )

    async def max_chats(adviser_id: str) -> int:
        return (await auth.get_adviser(adviser_id)).max_chats

    announcer = Announcer(bus, presence, max_chats)
    store = FileStore(settings.files_dir, file_keys(settings))
    cleanup = FileCleanup(store, settings.page_cache_dir, Path(settings.data_dir) / "recordings")

    async def release_files(digests: set[str]) -> None:
        await cleanup.do_delete_files(database, digests)

    conversations = ConversationService(
        database,
        announcer,
        erase_at_end=policy.erase_at_end,
        chat_queue_max=settings.chat_queue_max,
        chat_linger_s=check_linger_us(settings.chat_linger_us),
        release_files=release_files,
    )
    tokens = CustomerTokens(settings.secret_key, settings.customer_token_ttl_s)
    teams = TeamService(database)
    hub = Hub(
        bus,
        announcer,
        conversations,
        presence,
        teams,
        Roster(auth, conversations, presence, teams),
        settings.heartbeat_s,
        settings.requested_adviser_fallback_s,
        settings.offer_timeout_s,
        claims,
        holders,
    )
    limits = upload_limits(settings)
    library = LibraryService(database, store, limits)
    documents = DocumentService(database, conversations, store, library, limits)
    recorder = make_recorder(settings, policy.recording_allowed)
    recording = RecordingService(database, conversations, recorder, settings.profile)
    catalogue = TemplateCatalogue(database)
    forms = FormService(database, conversations, catalogue)
    signing = SigningService(
        database,
        conversations,
        documents,
        SealSettings(
            keys_dir=settings.seal_keys_dir,
            organisation=settings.organisation,
            adviser_signs=settings.sign_adviser,
            timestamp_url=settings.timestamp_url or None,
            p12_path=Path(settings.seal_p12) if settings.seal_p12 else None,
            p12_password=(
                settings.seal_p12_password.encode() if settings.seal_p12_password else None
            ),
        ),
    )
    gateway = Gateway(
        hub,
        auth,
        tokens,
        conversations,
        settings.origin,
        settings.ws_frames_per_second,
        settings.ws_frame_burst,
        CallService(conversations),
        TransferService(conversations),
        teams,
        IceConfig.parse(
            settings.ice_urls,
            settings.turn_secret,
            settings.turn_ttl_s,
            settings.ice_transport_policy,
        ),
        documents,
        CobrowseService(database, conversations),
        forms,
        recording,
        signing,
    )
    profiles = ProfileService(database)
    api = Api(settings, auth, tokens, conversations, hub, teams, profiles, audit, limiter)
    retention = Retention(database, cleanup, policy)
    privacy = PrivacyRoutes(
        api,
        database,
        SubjectService(
            database,
            conversations,
            cleanup,
            policy,
            recorder.key if recorder is not None else existing_recording_key(settings),
        ),
        policy,
        controller(settings),
    )
    mailer = Mailer(
        SmtpConfig(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_user,
            settings.smtp_password,
            settings.smtp_from,
            settings.smtp_security,
        )
    )
    join_service = JoinService(
        database,
        conversations,
        settings.secret_key,
        settings.invitation_ttl_s,
        settings.code_ttl_s,
        settings.code_guesses_per_minute,
        limiter,
    )
    appointment_service = AppointmentService(database, conversations)
    joins = JoinRoutes(
        api, join_service, conversations, tokens, mailer, settings.origin, appointment_service
    )
    document_routes = DocumentRoutes(
        api,
        tokens,
        documents,
        library,
        DocumentAccess(settings.secret_key),
        PageRenderer(store, settings.page_cache_dir),
    )
    form_routes = FormRoutes(api, tokens, forms, catalogue)
    recording_routes = RecordingRoutes(api, conversations, recording)
    signing_routes = SigningRoutes(signing)
    appointments = AppointmentRoutes(
        api, appointment_service, join_service, teams, mailer, settings.origin, settings.timezone
    )

    cluster: Cluster | None = None
    if redis_bus is not None:
        from visavis.web import cluster as web_cluster

        cluster = web_cluster.Cluster(redis_bus, presence, hub.recompute_here)
        redis_bus.resumed.append(hub.recompute_here)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database.start_checkpoints()
        await teams.load()
        if redis_bus is not None and cluster is not None:
            await redis_bus.start()
            await cluster.start()
            log.info("node %s: bus and presence on Redis", redis_bus.node_id)
        hub.start()
        # requests left fully signed but unsealed by a stop while sealing: sealed now
        # (or failed with the reason), in the background — pyHanko loads slowly
        resumer = asyncio.create_task(signing.do_resume_unsealed())
        sweeper = (
            asyncio.create_task(run_periodically(retention, settings.retention_interval_s))
            if settings.retention_interval_s > 0
            else None
        )
        try:
            with settled_heap():  # web/heap.py: start-up frozen, full collections rare
                yield
        finally:
            # Each step bounded (web/shutdown.py): one that waits on a Redis or a
            # database that no longer answers is left behind with one log line, and
            # the node still exits. An interrupted seal is resumed at the next start.
            bound = settings.shutdown_step_timeout_s
            await do_step("resuming unsealed signatures", do_cancel(resumer), bound)
            await do_step("retention", do_cancel(sweeper), bound)
            await do_step("recording", recording.do_shutdown, bound)
            await do_step("hub", hub.stop, bound)
            if cluster is not None:
                await do_step("cluster sign-off", cluster.stop, bound)
            await do_step("bus", bus.close, bound)
            await do_step("database", database.dispose, bound)

    database.on_write = observe_write
    conversations.chats.on_group = observe_chat_group
    conversations.chats.after_answers = write_corked

    async def queue_length() -> int:
        return len(await conversations.queue())

    operations = Operations(
        settings.metrics_token,
        queue_length,
        lambda: schema_problem(database),
        # the in-memory bus is always connected; Redis: while it listens
        redis_bus.problem if redis_bus is not None else lambda: None,
    )
    if redis_bus is not None:
        redis_bus.on_lag = observe_bus_lag  # each batch from another node
    else:
        observe_bus_lag(0.0)  # the in-memory bus has none
    mailbox = DemoMailbox(demo_mail_dir, settings.timezone)
    verify = VerifyRoutes(settings, limiter)
    static_dir = Path(settings.static_dir)
    app_dir = static_dir / "app"
    app_dir.mkdir(parents=True, exist_ok=True)
    cobrowse_host = CobrowseHostRoutes(app_dir, settings.cobrowse_mask)
    routes = [
        Route("/", lambda r: RedirectResponse("/demo", status_code=302)),
        Route("/demo", api.page("demo.html")),
        Route("/demo/konto", api.page("demo-konto.html")),
        Route("/demo/mail", mailbox.page),
        Route("/demo/mail.css", mailbox.css),
        Route("/verify", verify.page, methods=["GET"]),
        Route("/verify", verify.submit, methods=["POST"]),
        Route("/verify.css", verify.css),
        Route("/api/v1/verify", verify.api, methods=["POST"]),
        Route("/chat", api.page("chat.html")),
        Route("/console", api.page("console.html")),
        Route("/console/mirror", mirror_page),
        Route("/widget.js", api.page("widget.js")),
        Route("/cobrowse.js", cobrowse_host.script),
        Route("/api/v1/cobrowse/config", cobrowse_host.config),
        Route("/privacy", privacy.page),
        Route("/privacy.css", privacy.css),
        Route("/api/v1/privacy/policy", privacy.policy_json),
        Route("/api/v1/privacy/export", privacy.export, methods=["POST"]),
        Route("/api/v1/privacy/erase", privacy.erase, methods=["POST"]),
        Route("/api/v1/audit", privacy.audit_list),
        Route("/api/v1/audit/verify", privacy.audit_verify),
        Route("/healthz", operations.healthz),
        Route("/readyz", operations.readyz),
        Route("/metrics", operations.metrics),
        Route("/api/v1/openapi.json", openapi_json),
        Route("/api/v1/availability", api.availability),
        Route("/api/v1/availability/stream", api.availability_stream),
        Route("/api/v1/topics", api.topics),
        Route("/api/v1/teams", api.list_teams),
        Route("/api/v1/advisers", api.list_advisers),
        Route("/api/v1/portal", api.portal),
        Route("/api/v1/proactive-rules", api.proactive_rules),
        Route("/api/v1/portal/{adviser_id}/photo", api.portal_photo),
        Route("/api/v1/me/profile", api.my_profile, methods=["GET"]),
        Route("/api/v1/me/profile", api.set_my_profile, methods=["PUT"]),
        Route("/api/v1/me/photo", api.my_photo, methods=["GET"]),
        Route("/api/v1/me/photo", api.set_my_photo, methods=["PUT"]),
        Route("/advisers", api.page("advisers.html")),
        Route("/code", api.page("code.html")),
        Route("/book", api.page("book.html")),
        Route("/api/v1/conversations", api.create_conversation, methods=["POST"]),
        Route("/api/v1/conversations", api.list_conversations, methods=["GET"]),
        Route("/api/v1/conversations/{conversation_id}", api.get_conversation),
        Route("/api/v1/invitations", joins.create_invitation, methods=["POST"]),
        Route("/api/v1/invitations/redeem", joins.redeem_invitation, methods=["POST"]),
        Route("/join/{invite}", joins.open_link),
        Route("/api/v1/codes", joins.create_code, methods=["POST"]),
        Route("/api/v1/codes/redeem", joins.redeem_code, methods=["POST"]),
        Route("/api/v1/slots", appointments.free_slots, methods=["GET"]),
        Route("/api/v1/slots", appointments.add_slot, methods=["POST"]),
        Route("/api/v1/slots/{slot_id}", appointments.remove_slot, methods=["DELETE"]),
        Route("/api/v1/me/slots", appointments.my_slots),
        Route("/api/v1/appointments", appointments.book, methods=["POST"]),
        Route("/api/v1/appointments/{appointment_id}", appointments.appointment),
        Route("/api/v1/appointments/{appointment_id}", appointments.cancel, methods=["DELETE"]),
        Route(
            "/api/v1/appointments/{appointment_id}/rebook", appointments.rebook, methods=["POST"]
        ),
        Route(
            "/api/v1/conversations/{conversation_id}/documents",
            document_routes.upload,
            methods=["POST"],
        ),
        Route(
            "/api/v1/documents/{document_id}/access", document_routes.grant_access, methods=["POST"]
        ),
        Route("/api/v1/documents/{document_id}/pages/{page}", document_routes.page),
        Route("/api/v1/documents/{document_id}/file", document_routes.file),
        Route("/api/v1/library", document_routes.library_list, methods=["GET"]),
        Route("/api/v1/library", document_routes.library_add, methods=["POST"]),
        Route("/api/v1/library/{library_id}", document_routes.library_remove, methods=["DELETE"]),
        Route("/api/v1/form-templates", form_routes.templates, methods=["GET"]),
        Route("/api/v1/form-templates", form_routes.add_template, methods=["POST"]),
        Route("/api/v1/form-templates/{template_id}", form_routes.template, methods=["GET"]),
        Route(
            "/api/v1/form-templates/{template_id}",
            form_routes.remove_template,
            methods=["DELETE"],
        ),
        Route("/api/v1/forms/{form_id}", form_routes.export_json),
        Route(
            "/api/v1/conversations/{conversation_id}/recordings",
            recording_routes.list,
        ),
        Route(
            "/api/v1/conversations/{conversation_id}/recordings/{recording_id}/{participant}",
            recording_routes.file,
        ),
        Route("/api/v1/forms/{form_id}/pdf", form_routes.export_pdf),
        Route("/api/v1/signing/consent", signing_routes.consent),
        Route("/api/v1/signing/certificate", signing_routes.certificate),
        Route("/api/v1/session", api.login, methods=["POST"]),
        Route("/api/v1/session", api.session, methods=["GET"]),
        Route("/api/v1/session", api.logout, methods=["DELETE"]),
        Mount("/static/app", StaticFiles(directory=app_dir, check_dir=False)),
    ]
    # /ws goes to the gateway without Starlette's stack (web/front.py)
    app = FrontApp(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(
                SecurityHeaders,
                frame_ancestors=settings.frame_ancestors,
                cobrowse_origins=settings.cobrowse_origin_list(),
            ),
            # the widget and app bundles shrink ~3x; SSE streams are left alone
            # (documents are served with HTTP Range: never re-encoded on the way)
            Middleware(
                GZipMiddleware,
                minimum_size=500,
                exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf"),
            ),
        ],
        exception_handlers={
            VisavisError: _visavis_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _internal_error,
        },
    )
    app.ws_endpoint = gateway.endpoint
    app.state.settings = settings
    app.state.hub = hub
    app.state.auth = auth
    app.state.policy = policy
    return app
