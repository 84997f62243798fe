"""What data protection costs: files encrypted at rest, the encrypted page cache, the
audit log's appends, a retention run.

Each row has its baseline beside it in the same run:

- `file get` — `FileStore.get` of a 25 MB and a 1 MB file: encrypted (AES-256-GCM,
  whole file) vs plaintext (the store without keys, as before).
- `file put` — `FileStore.put` of the same, encrypted vs plaintext.
- `page cache hit` — `PageRenderer.page_jpeg` of a page already cached at 1600 px:
  encrypted cache vs plaintext cache; and a cache miss (render) for scale.
- `audit append` — one `do_audit` in its own transaction (SQLite), vs the same
  transaction inserting nothing (the writer lock and commit alone).
- `retention run` — one run over `--conversations` ended conversations with a message
  each, all expired (SQLite), and a run when nothing expired.

    python bench/privacy.py
    python bench/privacy.py --rounds 50 --conversations 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import emit_result, percentile, table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sqlalchemy import update

from visavis.audit.log import do_audit
from visavis.documents.render import PageRenderer
from visavis.privacy.profiles import policy_for
from visavis.privacy.retention import FileCleanup, Retention
from visavis.storage.engine import Database
from visavis.storage.files import FileStore
from visavis.storage.keys import FileKeys
from visavis.storage.migrate import do_migrate


async def timed(fn: Callable[[], Awaitable[object]], rounds: int) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99), "n": rounds}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=500)
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows: list[list[object]] = []
    result: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sealed = FileStore(root / "sealed", FileKeys(key_file=root / "files.key"))
        plain = FileStore(root / "plain")
        for mb in (1, 25):
            data = os.urandom(mb * 1024 * 1024)
            puts = {}
            for name, store in (("encrypted", sealed), ("plaintext", plain)):

                async def put(store: FileStore = store, data: bytes = data) -> None:
                    digest = await store.put(data)
                    await store.delete(digest)

                puts[name] = await timed(put, args.rounds)
            gets = {}
            for name, store in (("encrypted", sealed), ("plaintext", plain)):
                digest = await store.put(data)

                def get(st: FileStore = store, d: str = digest) -> Awaitable[bytes]:
                    return st.get(d)

                gets[name] = await timed(get, args.rounds)
            for what, got in (("file put", puts), ("file get", gets)):
                for name, st in got.items():
                    rows.append([f"{what} {mb} MB", name, st["n"], st["p50"], st["p99"]])
                result[f"{what.replace(' ', '_')}_{mb}mb"] = got

        import sample_files

        pdf = sample_files.pdf(pages=1)
        caches = {}
        for name, store in (("encrypted", sealed), ("plaintext", plain)):
            digest = await store.put(pdf)
            renderer = PageRenderer(store, root / f"cache-{name}")

            def page(r: PageRenderer = renderer, d: str = digest) -> Awaitable[bytes]:
                return r.page_jpeg(d, "pdf", 0, 1600)

            miss = await timed(page, 1)
            caches[name] = await timed(page, args.rounds)
            rows.append(["page cache hit 1600 px", name, caches[name]["n"],
                         caches[name]["p50"], caches[name]["p99"]])  # fmt: skip
        rows.append(["page render (miss)", "encrypted", 1, miss["p50"], miss["p99"]])
        result["page_cache_hit"] = caches

        url = f"sqlite+aiosqlite:///{root / 'bench.db'}"
        await do_migrate(url)
        db = Database(url)
        try:

            async def append() -> None:
                async with db.writer() as s:
                    await do_audit(s, actor="bench", action="document.download", subject="d:1")
                    await s.commit()

            async def empty() -> None:
                async with db.writer() as s:
                    await s.commit()

            audits = {"append": await timed(append, args.rounds * 5),
                      "empty transaction": await timed(empty, args.rounds * 5)}  # fmt: skip
            for name, st in audits.items():
                rows.append(["audit append", name, st["n"], st["p50"], st["p99"]])
            result["audit"] = audits

            from services import conversation_service

            from visavis.conversations.writes import Author
            from visavis.storage.models import Conversation

            svc = conversation_service(db)
            t0 = datetime(2026, 1, 1, tzinfo=UTC)
            for i in range(args.conversations):
                summary, _ = await svc.do_create("X", None, "de", (secrets.token_hex(8), f"m{i}"))
                await svc.do_end(summary["id"], Author("customer"))
            async with db.writer() as s:
                await s.execute(update(Conversation).values(ended_at=t0))
                await s.commit()
            retention = Retention(
                db,
                FileCleanup(sealed, root / "cache", root / "recordings"),
                policy_for("retail", {"messages": "10", "metadata": "20"}),
            )
            t = time.perf_counter()
            idle = await retention.do_run(t0 + timedelta(days=5))
            idle_ms = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            counts = await retention.do_run(t0 + timedelta(days=30))
            run_ms = (time.perf_counter() - t) * 1000
            assert counts["conversations_deleted"] == args.conversations, counts
            assert not any(idle.values())
            rows.append(
                [f"retention run, {args.conversations} expired", "delete", 1, run_ms, run_ms]
            )
            rows.append(["retention run, nothing expired", "baseline", 1, idle_ms, idle_ms])
            result["retention"] = {"conversations": args.conversations, "run_ms": run_ms,
                                   "idle_ms": idle_ms}  # fmt: skip
        finally:
            await db.dispose()
    print(table(["part", "variant", "n", "p50 ms", "p99 ms"], rows))
    load_after = os.getloadavg()
    print(f"\nload average (1, 5, 15 min) before {load_before}, after {load_after}; "
          f"{os.cpu_count()} cores")  # fmt: skip
    result["load_before"], result["load_after"] = load_before, load_after
    emit_result("privacy", result)


if __name__ == "__main__":
    asyncio.run(main())
