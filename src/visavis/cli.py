"""Command line: `visavis serve | migrate | demo | adviser … | team … | rule … | library …
| form … | verify FILE | seal-cert | protocol-ts | protocol-py`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import logging.config
import os
import secrets
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visavis import cli_privacy
from visavis.config import LOG_FORMAT, SETTING_NAMES, Settings
from visavis.errors import VisavisError

if TYPE_CHECKING:
    from visavis.collab.library import LibraryService
    from visavis.routing.teams import TeamChanges
    from visavis.storage.engine import Database

DEMO_EMAIL = "berater@demo.visavis"
# The commands that read or write the database (serve and demo migrate themselves).
SCHEMA_COMMANDS = ("adviser", "team", "rule", "form")
# WebSocket messages the transport takes in whole, so that the gateway can answer one
# over its limit (32/64 KiB) with `frame_too_large` before closing (1009); beyond
# this the transport closes with 1009 at once, a bound on memory per socket.
MAX_TRANSPORT_BYTES = 1024 * 1024


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    if getattr(args, "workers", None):
        overrides["workers"] = args.workers
    settings = Settings.from_env(**overrides)
    if "VISAVIS_PUBLIC_URL" not in os.environ and (args_port := overrides.get("port")):
        settings = Settings.from_env(**overrides, public_url=f"http://{settings.host}:{args_port}")
    return settings


def _ws_impl() -> str | type[asyncio.Protocol]:
    # bench/chat_latency.py --compare-ws-at 50: websockets-sansio p99 80 ms at 6.5 ms
    # server CPU per message, wsproto 141 ms / 6.6 ms, legacy websockets ~4 s / 7.8 ms.
    # The lean variant of websockets-sansio keeps less per socket (web/leanws.py).
    try:
        from visavis.web.leanws import LeanWebSocketProtocol
    except ImportError:  # an uvicorn without websockets-sansio
        return "websockets"
    return LeanWebSocketProtocol


def do_serve(settings: Settings, demo_mail_dir: Path | None = None) -> None:
    from visavis.web.heap import do_quiet_start

    do_quiet_start()  # before the imports below (web/heap.py)
    from uvicorn.config import LOGGING_CONFIG

    from visavis.storage.migrate import migrate_sync
    from visavis.web.deadlines import DeadlineProtocol
    from visavis.web.logjson import log_config
    from visavis.web.serving import DrainingServer, run_workers

    migrate_sync(settings.database_url)
    options: dict[str, Any] = {
        "ws": _ws_impl(),
        # no protocol pings: the app's heartbeat finds silent sockets (docs/protocol.md),
        # and no ping timer per socket
        "ws_ping_interval": None,
        # slow or half-sent requests are answered 408 and closed (web/deadlines.py)
        "http": DeadlineProtocol,
        # json: uvicorn's own logs too (else uvicorn's default colourless text)
        "log_config": (
            log_config(settings.log_level) if settings.log_format == "json" else LOGGING_CONFIG
        ),
        # frames up to this size are read and answered `frame_too_large` when over
        # their type's limit; only larger ones get a bare close (1009)
        "ws_max_size": MAX_TRANSPORT_BYTES,
        "ws_per_message_deflate": False,
        "log_level": settings.log_level,
        "proxy_headers": True,
        "server_header": False,
        # uvicorn's own wait (HTTP requests still running) after our drain
        "timeout_graceful_shutdown": settings.drain_timeout_s,
    }
    if settings.workers > 1:
        if not settings.redis_url:
            raise VisavisError(
                "bad_request",
                f"--workers {settings.workers}: the worker processes share their state "
                "through Redis; set VISAVIS_REDIS_URL",
            )
        _export(settings)
        run_workers(
            options,
            settings.host,
            settings.port,
            settings.workers,
            settings.drain_timeout_s,
            settings.shutdown_step_timeout_s,
        )
        return
    import uvicorn

    from visavis.app import create_app

    config = uvicorn.Config(
        create_app(settings, demo_mail_dir), host=settings.host, port=settings.port, **options
    )
    DrainingServer(config, settings.drain_timeout_s, settings.shutdown_step_timeout_s).run()


def _export(settings: Settings) -> None:
    """Every setting into the environment, for worker processes (which read it there)."""
    for name in SETTING_NAMES:
        value = getattr(settings, name)
        if isinstance(value, bool):
            value = "1" if value else "0"
        os.environ["VISAVIS_" + name.upper()] = str(value)


async def _add_adviser(
    settings: Settings, email: str, password: str, name: str, role: str, max_chats: int | None
) -> None:
    from visavis.auth.service import AuthService
    from visavis.storage.engine import Database

    db = Database(settings.database_url)
    try:
        auth = AuthService(db, settings.max_chats, settings.session_ttl_s, 5)
        await auth.do_add_adviser(email, password, name, role, max_chats)
    finally:
        await db.dispose()


async def _set_password(settings: Settings, email: str, password: str) -> None:
    from visavis.auth.service import AuthService
    from visavis.storage.engine import Database

    db = Database(settings.database_url)
    try:
        await AuthService(db, settings.max_chats, settings.session_ttl_s, 5).do_set_password(
            email, password
        )
    finally:
        await db.dispose()


async def _list_advisers(settings: Settings) -> None:
    from visavis.auth.service import AuthService
    from visavis.storage.engine import Database

    db = Database(settings.database_url)
    try:
        for a in await AuthService(db, settings.max_chats, 3600, 5).list_advisers():
            print(f"{a.email}\t{a.name}\t{a.role}\tmax_chats={a.max_chats}")
    finally:
        await db.dispose()


async def _team(settings: Settings, args: argparse.Namespace) -> None:
    from visavis.routing.teams import TeamService
    from visavis.storage.engine import Database

    db = Database(settings.database_url)
    try:
        teams = TeamService(db)
        await teams.load()
        if args.team_cmd == "set":
            team = await teams.do_save(args.id, _team_changes(args))
            print(f"team {team.id} saved: {json.dumps(team.as_dict())}")
        elif args.team_cmd == "member":
            if args.remove:
                await teams.do_remove_member(args.id, args.email)
            else:
                await teams.do_add_member(args.id, args.email)
            print(f"{args.email} {'removed from' if args.remove else 'added to'} team {args.id}")
        else:
            for t in teams.all():
                print(json.dumps({**t.as_dict(), "members": len(t.members)}))
    finally:
        await db.dispose()


async def _rule(settings: Settings, args: argparse.Namespace) -> None:
    from visavis.storage.engine import Database
    from visavis.ways_in.proactive import ProactiveService

    db = Database(settings.database_url)
    try:
        rules = ProactiveService(db)
        if args.rule_cmd == "add":
            returning = None if args.returning is None else args.returning == "yes"
            rule = await rules.do_add(
                args.url_pattern, args.seconds, returning, args.campaign, args.team,
                args.de, args.en,
            )  # fmt: skip
            print(json.dumps(rule))
        elif args.rule_cmd == "remove":
            await rules.do_remove(args.id)
            print(f"rule {args.id} removed")
        else:
            for r in await rules.rules():
                print(json.dumps(r))
    finally:
        await db.dispose()


def _csv(text: str | None) -> list[str] | None:
    """None for an option not given; "" gives an empty list."""
    if text is None:
        return None
    return [x.strip() for x in text.split(",") if x.strip()]


def _team_changes(args: argparse.Namespace) -> TeamChanges:
    """`team set`: only the options given change the team."""
    from visavis.routing.teams import DEFAULT_HOURS, Keep, TeamChanges

    hours = None
    if args.reset_hours:
        hours = DEFAULT_HOURS
    elif args.hours is not None:
        try:
            hours = json.loads(args.hours)
        except ValueError:
            raise VisavisError("bad_request", "--hours is not JSON") from None
        if not isinstance(hours, dict):
            raise VisavisError("bad_request", '--hours: a JSON object like {"mon": [...]}')
    chat_limit: int | Keep | None = Keep.KEEP
    if args.no_chat_limit:
        chat_limit = None
    elif args.chat_limit is not None:
        chat_limit = args.chat_limit
    return TeamChanges(
        name=args.name,
        topics=_csv(args.topics),
        languages=_csv(args.languages),
        timezone=args.timezone,
        hours=hours,
        holidays=_csv(args.holidays),
        chat_limit=chat_limit,
    )


async def _list_demo_adviser(settings: Settings, created: bool) -> None:
    """The demo adviser appears in the adviser portal (/advisers). A new one gets a
    profile; one seeded before keeps what was changed in it since."""
    from sqlalchemy import select

    from visavis.auth.profiles import ProfileService
    from visavis.storage.engine import Database
    from visavis.storage.models import Adviser

    db = Database(settings.database_url)
    try:
        async with db.sessions() as s:
            adviser_id = await s.scalar(select(Adviser.id).where(Adviser.email == DEMO_EMAIL))
        assert adviser_id is not None
        profiles = ProfileService(db)
        if not created:
            await profiles.do_set_profile(adviser_id, listed=True)
            return
        await profiles.do_set_profile(
            adviser_id,
            ["de", "en"],
            [t.id for t in settings.topic_list()],
            "Beraterin für Konto, Karte und Finanzierung.",
            True,
        )
    finally:
        await db.dispose()


def _library_service(settings: Settings) -> tuple[Database, LibraryService]:
    from visavis.app import upload_limits
    from visavis.collab.library import LibraryService
    from visavis.storage.engine import Database
    from visavis.storage.files import FileStore

    db = Database(settings.database_url)
    return db, LibraryService(db, FileStore(settings.files_dir), upload_limits(settings))


async def _library(settings: Settings, args: argparse.Namespace) -> None:
    db, library = _library_service(settings)
    try:
        if args.lib_cmd == "add":
            data = await asyncio.to_thread(Path(args.file).read_bytes)
            item = await library.do_add(
                data, args.name or Path(args.file).name, args.downloadable, None
            )
            print(json.dumps(item))
        elif args.lib_cmd == "list":
            for item in await library.list():
                print(json.dumps(item))
        else:
            await library.do_remove(args.id)
            print(f"removed {args.id}")
    finally:
        await db.dispose()


async def _seed_demo_library(settings: Settings) -> None:
    """The demo's library has the product sheet and the product video (each once)."""
    from visavis.collab.samples import (
        PRODUCT_SHEET_NAME,
        PRODUCT_VIDEO_NAME,
        product_sheet_pdf,
        product_video_webm,
    )

    db, library = _library_service(settings)
    try:
        names = {item["name"] for item in await library.list()}
        if PRODUCT_SHEET_NAME not in names:
            await library.do_add(product_sheet_pdf(), PRODUCT_SHEET_NAME, True, None)
        if PRODUCT_VIDEO_NAME not in names:
            # watched together in the room; customers stream it but get no download
            video = await asyncio.to_thread(product_video_webm)
            await library.do_add(video, PRODUCT_VIDEO_NAME, False, None)
    finally:
        await db.dispose()


async def _form(settings: Settings, args: argparse.Namespace) -> None:
    """`form add FILE.json` (a new version if the id exists with other content), `form
    list` (newest versions), `form remove ID` (running and submitted forms keep theirs)."""
    from visavis.forms.catalogue import TemplateCatalogue
    from visavis.forms.samples import sample_templates
    from visavis.forms.templates import parse_template
    from visavis.storage.engine import Database

    db = Database(settings.database_url)
    catalogue = TemplateCatalogue(db)
    try:
        if args.form_cmd == "add":
            text = await asyncio.to_thread(Path(args.file).read_bytes)
            info, created = await catalogue.do_add(parse_template(text), None)
            print(json.dumps({**info, "created": created}, ensure_ascii=False))
        elif args.form_cmd == "list":
            for info in await catalogue.list():
                print(json.dumps(info, ensure_ascii=False))
        elif args.form_cmd == "remove":
            await catalogue.do_remove(args.id)
            print(f"removed {args.id}")
        else:  # the demo's samples (`visavis demo` adds them; so does `form samples`)
            for template in sample_templates():
                await catalogue.do_add(template, None)
    finally:
        await db.dispose()


def do_demo(settings: Settings) -> None:
    """Migrate, (re)seed the demo adviser with a fresh password, print it, serve. Without
    a mail server of the operator's (VISAVIS_SMTP_HOST), a mail catcher on loopback
    takes the mails, and /demo/mail shows them: invitations and bookings work too."""
    from visavis.notify.catcher import SENDER, MailCatcher
    from visavis.storage.migrate import migrate_sync

    migrate_sync(settings.database_url)
    password = secrets.token_urlsafe(9)
    created = True
    try:
        asyncio.run(_add_adviser(settings, DEMO_EMAIL, password, "Anna Berger", "supervisor", 3))
    except VisavisError:
        created = False
        asyncio.run(_set_password(settings, DEMO_EMAIL, password))
    asyncio.run(_list_demo_adviser(settings, created))
    asyncio.run(_seed_demo_library(settings))
    asyncio.run(_form(settings, argparse.Namespace(form_cmd="samples")))
    catcher = None
    if not settings.smtp_host:
        catcher = MailCatcher(Path(settings.data_dir) / "demo-mail")
        catcher.start()
        settings = replace(
            settings,
            smtp_host="127.0.0.1",
            smtp_port=catcher.port,
            smtp_user="",
            smtp_password="",
            smtp_from=settings.smtp_from or SENDER,
            smtp_security="none",
        )
    base = settings.origin
    mail_line = (
        f"    Mails the demo sent:        {base}/demo/mail\n"
        if catcher
        else f"    Mail goes out through:      {settings.smtp_host}\n"
    )
    print(
        "\n"
        "  visavis demo is starting\n"
        f"    Demo shop with the widget:  {base}/demo\n"
        f"    Adviser console:            {base}/console\n"
        f"    Adviser login:              {DEMO_EMAIL}\n"
        f"    Password:                   {password}\n"
        f"{mail_line}"
        "  (a new password is set at every demo start)\n",
        flush=True,
    )
    try:
        do_serve(settings, catcher.directory if catcher else None)
    finally:
        if catcher:
            catcher.stop()


def do_verify(settings: Settings, path: str, trust: list[str], as_json: bool) -> int:
    """`visavis verify`: 0 valid, 1 invalid (any reason), 2 file or trust unreadable."""
    from visavis.signing.verify import check_signed_pdf, numbered
    from visavis.web.verify import deployment_trust, report_json

    # pyHanko logs each trust failure with a traceback; the verdict below says it
    logging.getLogger("pyhanko").setLevel(logging.ERROR)

    try:
        data = Path(path).read_bytes()
        pems = [Path(t).read_bytes() for t in trust] if trust else deployment_trust(settings)
    except OSError as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    report = check_signed_pdf(data, pems)
    if as_json:
        print(json.dumps(report_json(report), ensure_ascii=False, indent=2))
        return 0 if report.valid else 1
    print(f"{'VALID' if report.valid else 'INVALID'} ({report.reason}): {path}")
    for i, sig in enumerate(report.signatures, start=1):
        when = sig.signed_at.isoformat() if sig.signed_at else "unknown time"
        print(
            f"signature {i}: {sig.signer}, {when} "
            f"({'timestamped' if sig.timestamped else 'signer clock'}, "
            f"{'intact' if sig.intact else 'NOT intact'}, "
            f"{'trusted' if sig.trusted else 'NOT trusted'})"
        )
    if report.audit:
        print("audit trail" + ("" if report.valid else " (not confirmed: the file is invalid)"))
        for key, value in report.audit.items():
            if not key.startswith(("signer.", "step.")):
                print(f"  {key}: {value}")
        for s in numbered(report.audit, "signer"):
            print(f"  signed: {s.get('name')} ({s.get('role')}) {s.get('signed_at')}")
        for s in numbered(report.audit, "step"):
            print(
                f"  step #{s.get('seq')} {s.get('at')}: {s.get('what')} - {s.get('who')} "
                f"({s.get('role')}), {s.get('ip')}, {s.get('user_agent')}"
            )
    return 0 if report.valid else 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="visavis", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("serve", "demo"):
        p = sub.add_parser(name)
        p.add_argument("--host")
        p.add_argument("--port", type=int)
    serve = sub.choices["serve"]
    serve.add_argument(
        "--workers",
        type=int,
        help="processes on this machine, over Redis (VISAVIS_WORKERS; default 1)",
    )
    sub.add_parser("migrate")
    sub.add_parser("protocol-ts", help="regenerate frontend/src/lib/protocol.gen.ts")
    sub.add_parser("protocol-py", help="regenerate src/visavis/protocol/frames.py")
    adv = sub.add_parser("adviser").add_subparsers(dest="adv_cmd", required=True)
    add = adv.add_parser("add")
    add.add_argument("email")
    add.add_argument("--name", default="")
    add.add_argument("--role", default="adviser", choices=["adviser", "supervisor", "admin"])
    add.add_argument("--max-chats", type=int)
    add.add_argument("--password", help="default: prompt (or VISAVIS_NEW_PASSWORD)")
    pw = adv.add_parser("password")
    pw.add_argument("email")
    pw.add_argument("--password")
    adv.add_parser("list")
    team = sub.add_parser("team", help="teams: topics, languages, business hours, members")
    team_sub = team.add_subparsers(dest="team_cmd", required=True)
    tset = team_sub.add_parser("set", help="create a team, or change only the given options of one")
    tset.add_argument("id")
    tset.add_argument("--name", help="default for a new team: its id")
    tset.add_argument(
        "--topics", help='comma-separated topic ids ("" or none for a new team: catch-all team)'
    )
    tset.add_argument("--languages", help="comma-separated (new team: de,en)")
    tset.add_argument("--timezone", help="of the hours and holidays (new team: Europe/Berlin)")
    hours = tset.add_mutually_exclusive_group()
    hours.add_argument("--hours", help='JSON, e.g. {"mon": [["08:00", "18:00"]]}')
    hours.add_argument(
        "--reset-hours",
        action="store_true",
        help="back to the default (a new team's): Mon-Fri 08-20, Sat 09-14",
    )
    tset.add_argument("--holidays", help='comma-separated YYYY-MM-DD ("": none)')
    limit = tset.add_mutually_exclusive_group()
    limit.add_argument(
        "--chat-limit",
        type=int,
        help="simultaneous text chats per adviser of this team (new team: each adviser's own)",
    )
    limit.add_argument(
        "--no-chat-limit", action="store_true", help="back to each adviser's own limit"
    )
    tmem = team_sub.add_parser("member", help="add (or --remove) an adviser")
    tmem.add_argument("id")
    tmem.add_argument("email")
    tmem.add_argument("--remove", action="store_true")
    team_sub.add_parser("list")
    rule = sub.add_parser("rule", help="proactive invitation rules")
    rule_sub = rule.add_subparsers(dest="rule_cmd", required=True)
    radd = rule_sub.add_parser("add")
    radd.add_argument("url_pattern", help="path with * wildcards, e.g. /kredit/*")
    radd.add_argument("--seconds", type=int, default=30, help="time on page before inviting")
    radd.add_argument("--returning", choices=["yes", "no"], help="only (not) returning visitors")
    radd.add_argument("--campaign", help="only with this utm_campaign")
    radd.add_argument("--team", help="invite only while an adviser of this team is free")
    radd.add_argument("--de", required=True, help="German invitation text")
    radd.add_argument("--en", required=True, help="English invitation text")
    rrm = rule_sub.add_parser("remove")
    rrm.add_argument("id")
    rule_sub.add_parser("list")
    lib = sub.add_parser("library", help="the document library advisers share from")
    lib_sub = lib.add_subparsers(dest="lib_cmd", required=True)
    ladd = lib_sub.add_parser("add", help="a PDF, PNG, JPEG, WebM or MP4")
    ladd.add_argument("file")
    ladd.add_argument("--name", help="shown name (default: the file name)")
    ladd.add_argument("--downloadable", action="store_true", help="customers may download it")
    lib_sub.add_parser("list")
    lrm = lib_sub.add_parser("remove")
    lrm.add_argument("id")
    form = sub.add_parser("form", help="form templates (JSON Schema + UI description)")
    form_sub = form.add_subparsers(dest="form_cmd", required=True)
    form_sub.add_parser("add", help="add a template file (or a new version of one)").add_argument(
        "file"
    )
    form_sub.add_parser("list")
    form_sub.add_parser("remove").add_argument("id")
    form_sub.add_parser("samples", help="add the demo's three templates")
    cli_privacy.add_parsers(sub)
    ver = sub.add_parser("verify", help="check a sealed PDF: exit 0 valid, 1 invalid, 2 unreadable")
    ver.add_argument("file")
    ver.add_argument(
        "--trust",
        action="append",
        default=[],
        help="a certificate (PEM/DER) to trust; repeatable. Default: this deployment's seal "
        "certificate, the local TSA's and VISAVIS_VERIFY_TRUST",
    )
    ver.add_argument("--json", action="store_true", help="the verdict as JSON")
    sub.add_parser("seal-cert", help="print the organisation's seal certificate (PEM)")
    args = parser.parse_args(argv)
    settings = _settings(args)
    if settings.log_format == "json":
        from visavis.web.logjson import log_config

        logging.config.dictConfig(log_config("info"))
    else:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)

    try:
        if args.cmd in SCHEMA_COMMANDS:
            # As `serve` does: a fresh data directory gets its tables first (migrating a
            # database at the newest schema changes nothing).
            from visavis.storage.migrate import migrate_sync

            migrate_sync(settings.database_url)
        if args.cmd in cli_privacy.COMMANDS:
            sys.exit(cli_privacy.run(settings, args))
        if args.cmd == "serve":
            do_serve(settings)
        elif args.cmd == "demo":
            do_demo(settings)
        elif args.cmd == "migrate":
            from visavis.storage.migrate import migrate_sync

            migrate_sync(settings.database_url)
            print("database is at the newest schema")
        elif args.cmd == "verify":
            sys.exit(do_verify(settings, args.file, args.trust, args.json))
        elif args.cmd == "seal-cert":
            from visavis.signing.keys import seal_certificate_pem
            from visavis.web.verify import seal_keys

            sys.stdout.write(seal_certificate_pem(seal_keys(settings)).decode())
        elif args.cmd == "protocol-ts":
            from visavis.protocol import typescript

            typescript.main()
        elif args.cmd == "protocol-py":
            from visavis.protocol import typeddicts

            typeddicts.main()
        elif args.cmd == "rule":
            asyncio.run(_rule(settings, args))
        elif args.cmd == "library":
            from visavis.storage.migrate import migrate_sync

            migrate_sync(settings.database_url)
            asyncio.run(_library(settings, args))
        elif args.cmd == "form":
            asyncio.run(_form(settings, args))
        elif args.cmd == "team":
            asyncio.run(_team(settings, args))
        elif args.cmd == "adviser":
            if args.adv_cmd == "list":
                asyncio.run(_list_advisers(settings))
                return
            password = (
                args.password
                or os.environ.get("VISAVIS_NEW_PASSWORD")
                or getpass.getpass("password: ")
            )
            if args.adv_cmd == "add":
                asyncio.run(
                    _add_adviser(
                        settings, args.email, password, args.name, args.role, args.max_chats
                    )
                )
                print(f"adviser {args.email} added")
            else:
                asyncio.run(_set_password(settings, args.email, password))
                print(f"password of {args.email} changed; their sessions were ended")
    except VisavisError as err:
        print(f"error ({err.code}): {err.message}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
