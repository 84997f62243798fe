"""Command line for data protection: `visavis audit verify|list`, `visavis retention
run`, `visavis subject export|erase`, `visavis keys rotate`, `visavis privacy show`.

Kept apart from `cli.py` (which registers these with `add_parsers` and hands them to
`run`); both sit on the command-line layer.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from visavis.config import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

COMMANDS = ("audit", "retention", "subject", "keys", "privacy")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="the hash-chained audit log of access")
    audit_sub = audit.add_subparsers(dest="audit_cmd", required=True)
    verify = audit_sub.add_parser(
        "verify", help="check the chain; names every changed, removed or inserted entry"
    )
    verify.add_argument(
        "--expect-head",
        metavar="ID:HASH",
        help="the head an earlier verify printed: also catches entries removed at the end",
    )
    lst = audit_sub.add_parser("list", help="newest entries first, as JSON lines")
    lst.add_argument("--subject")
    lst.add_argument("--action")
    lst.add_argument("--since", help="ISO time")
    lst.add_argument("--limit", type=int, default=100)
    retention = sub.add_parser("retention", help="delete what the retention policy expired")
    retention_sub = retention.add_subparsers(dest="retention_cmd", required=True)
    run = retention_sub.add_parser("run", help="one run now; prints the counts")
    run.add_argument("--now", help="ISO time to run as (default: the clock)")
    subject = sub.add_parser("subject", help="one customer's data: export or erase")
    subject_sub = subject.add_subparsers(dest="subject_cmd", required=True)
    for name, what in (("export", "a zip of JSON and files"), ("erase", "what the law allows")):
        p = subject_sub.add_parser(name, help=what)
        p.add_argument("--email")
        p.add_argument("--phone")
        p.add_argument("--conversation", action="append", default=[], help="repeatable")
        if name == "export":
            p.add_argument("--out", required=True, help="the zip file to write")
    keys = sub.add_parser("keys", help="the key of files at rest")
    keys_sub = keys.add_subparsers(dest="keys_cmd", required=True)
    keys_sub.add_parser(
        "rotate",
        help="a new key (or VISAVIS_FILE_KEY's first); re-encrypts every stored file with it",
    )
    privacy = sub.add_parser("privacy", help="the profile and retention in force")
    privacy.add_subparsers(dest="privacy_cmd", required=True).add_parser("show")


def _iso(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from visavis.audit.log import check_chain, entries
    from visavis.storage.engine import Database

    db = Database(settings.database_url)
    try:
        async with db.sessions() as session:
            if args.audit_cmd == "verify":
                head = None
                if args.expect_head:
                    raw_id, _, raw_hash = args.expect_head.partition(":")
                    if not raw_id.isdigit() or len(raw_hash) != 64:
                        print("--expect-head: expected ID:HASH (64 hex digits)", file=sys.stderr)
                        return 2
                    head = (int(raw_id), raw_hash)
                result = await check_chain(session, head)
                for problem in result.problems:
                    print(f"BROKEN {problem}")
                print(
                    f"{'ok' if result.ok else 'broken'}: {result.count} entries, "
                    f"head {result.head_id}:{result.head_hash}"
                )
                return 0 if result.ok else 1
            since = _iso(args.since) if args.since else None
            for e in await entries(
                session, subject=args.subject, action=args.action, since=since, limit=args.limit
            ):
                line = {
                    "id": e.id,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "subject": e.subject,
                    "detail": e.detail,
                }
                print(json.dumps(line, ensure_ascii=False))
            return 0
    finally:
        await db.dispose()


def _services(settings: Settings) -> tuple[Any, Any, Any, Any]:
    """Database, policy, file cleanup and the subject service, as the server wires them."""
    from pathlib import Path

    from visavis.app import existing_recording_key, file_keys
    from visavis.bus import MemoryBus
    from visavis.conversations.announcer import Announcer
    from visavis.conversations.service import ConversationService
    from visavis.privacy.profiles import policy_for
    from visavis.privacy.retention import FileCleanup
    from visavis.privacy.subject import SubjectService
    from visavis.routing.presence import Presence
    from visavis.storage.engine import Database
    from visavis.storage.files import FileStore

    policy = policy_for(settings.profile, settings.retention_overrides())
    db = Database(settings.database_url)

    async def max_chats(adviser_id: str) -> int:
        return settings.max_chats

    # the command line has no sockets: what it appends is announced to nobody, and a
    # console sees it on its next load
    store = FileStore(settings.files_dir, file_keys(settings))
    cleanup = FileCleanup(store, settings.page_cache_dir, Path(settings.data_dir) / "recordings")

    async def release_files(digests: set[str]) -> None:
        await cleanup.do_delete_files(db, digests)

    conversations = ConversationService(
        db,
        Announcer(MemoryBus(), Presence(), max_chats),
        erase_at_end=policy.erase_at_end,
        release_files=release_files,
    )
    subjects = SubjectService(db, conversations, cleanup, policy, existing_recording_key(settings))
    return db, policy, cleanup, subjects


async def _retention(settings: Settings, args: argparse.Namespace) -> int:
    from visavis.privacy.retention import Retention

    db, policy, cleanup, _ = _services(settings)
    try:
        now = _iso(args.now) if args.now else datetime.now(UTC)
        counts = await Retention(db, cleanup, policy).do_run(now, actor="cli")
        print(json.dumps({"profile": policy.profile, "now": now.isoformat(), **counts}))
        return 0
    finally:
        await db.dispose()


async def _save(chunks: AsyncIterator[bytes], out: Path) -> None:
    """Into `out` via `out.part`: a failed export leaves no zip that looks whole."""
    import asyncio

    part = out.with_name(out.name + ".part")
    f = await asyncio.to_thread(part.open, "wb")
    try:
        with f:
            async for chunk in chunks:
                await asyncio.to_thread(f.write, chunk)
        await asyncio.to_thread(part.replace, out)
    finally:
        await asyncio.to_thread(part.unlink, missing_ok=True)


async def _subject(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from visavis.privacy.subject import Subject

    db, _, _, subjects = _services(settings)
    try:
        subject = Subject(args.email, args.phone, tuple(args.conversation))
        if args.subject_cmd == "export":
            export = await subjects.do_export(subject, "cli")
            await _save(export.stream.chunks(), Path(args.out))
            print(f"{export.count} conversation(s) exported to {args.out}")
        else:
            report = await subjects.do_erase(subject, "cli")
            print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return 0
    finally:
        await db.dispose()


async def _rotate(settings: Settings) -> int:
    """With the key file: a new key goes first (the old ones still read), every file
    is re-encrypted, a second pass catches files a running server wrote meanwhile,
    then the old keys are dropped. With VISAVIS_FILE_KEY: re-encrypt with its first
    key; the operator removes the old ones from the setting afterwards."""
    from visavis.app import file_keys
    from visavis.storage.files import FileStore
    from visavis.storage.keys import new_key_text, parse_keys, write_key_file

    keys = file_keys(settings)
    store = FileStore(settings.files_dir, keys)
    if not keys.from_env:
        assert keys.key_file is not None
        old = keys.keys()
        write_key_file(keys.key_file, [*parse_keys(new_key_text(), "new key"), *old])
    first = await store.do_rotate()
    second = await store.do_rotate()
    if not keys.from_env and second.rewritten == 0:
        assert keys.key_file is not None
        write_key_file(keys.key_file, [keys.current])
        dropped = "old keys removed from " + str(keys.key_file)
    elif keys.from_env:
        dropped = "now remove the old keys from VISAVIS_FILE_KEY"
    else:
        dropped = "files were still being written under an old key: run it again"
    print(
        json.dumps(
            {
                "key_id": keys.current_id.hex(),
                "rewritten": first.rewritten + second.rewritten,
                "already_current": first.current,
            }
        )
    )
    print(dropped)
    return 0


def _show(settings: Settings) -> int:
    from visavis.privacy.profiles import policy_for, setting_name

    policy = policy_for(settings.profile, settings.retention_overrides())
    print(f"profile {policy.profile}")
    for kind, days in policy.retention_days.items():
        hold = f"  (kept by law: {policy.legal_holds[kind]})" if kind in policy.legal_holds else ""
        print(f"  {kind:<12} {days:>5} days after the end  [{setting_name(kind)}]{hold}")
    print(f"  recording allowed: {policy.recording_allowed}")
    print(f"  message content after the end: {policy.keep_message_content_after_end}")
    print(f"  waiting room: {policy.waiting_room}")
    print(f"  media browser-to-browser only: {policy.media_peer_to_peer_only}")
    return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run one of `COMMANDS`; the exit status (1: the audit chain is broken)."""
    import asyncio

    from visavis.storage.migrate import migrate_sync

    try:
        if args.cmd == "privacy":
            return _show(settings)
        if args.cmd == "keys":
            return asyncio.run(_rotate(settings))
        migrate_sync(settings.database_url)
        if args.cmd == "audit":
            return asyncio.run(_audit(settings, args))
        if args.cmd == "retention":
            return asyncio.run(_retention(settings, args))
        if args.cmd == "subject":
            return asyncio.run(_subject(settings, args))
    except ValueError as err:  # a profile's limits, a bad key setting or --now
        print(f"error: {err}", file=sys.stderr)
        return 2
    raise ValueError(f"not a privacy command: {args.cmd}")
