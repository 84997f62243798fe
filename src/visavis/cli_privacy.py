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

from visavis.config import Settings

COMMANDS = ("audit",)


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


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run one of `COMMANDS`; the exit status (1: the audit chain is broken)."""
    import asyncio

    from visavis.storage.migrate import migrate_sync

    migrate_sync(settings.database_url)
    if args.cmd == "audit":
        return asyncio.run(_audit(settings, args))
    raise ValueError(f"not a privacy command: {args.cmd}")
