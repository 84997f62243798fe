"""Scaling out: the highest number of concurrent conversations held at chat p99 <=
`--p99-ms` (25) with nothing lost, for

- `1 process`: one `visavis serve` (the bus in memory), the baseline;
- `1redis`: one `visavis serve` on the Redis bus, not in the ratio: what the bus
  itself costs (its own batches go to Redis and come back);
- `2 workers`: `visavis serve --workers 2` on one port, over Redis;
- `2 nodes`: two `visavis serve` behind nginx (docs/nginx/visavis.conf), over Redis;

each step on a fresh database (PostgreSQL; with `--db sqlite` a fresh SQLite file that
all processes of the variant share), in the same run. The variants take turns
at each N (a variant drops out at its first step not held), so that the baseline and
two processes see the same moment of a shared machine. Each step is
bench/chat_latency.py's (customer and adviser sockets, both sides sending; latency =
send to arrival at the other side). The goal: 2 processes hold >= 1.8x the
conversations of one. The load generator runs on the same machine and takes CPU
from the servers: on a machine with few cores the ratio says more about the machine
than about visavis (see `load` and `other CPU%`). `--cpu-share 0.4` gives every
server process 0.4 of one core (a cgroup quota, bench/cpu_cap.py; needs root), so
that two processes get twice what one gets even where the machine has no core to
spare for the second: the ratio then measures visavis, not the machine.
`--cpu-period-ms` sets the quota's period (5 ms; at least 1 ms of quota in it).

Each step's row also shows each server process's CPU (`per process`: one worker at
its cap while the other idles is an uneven split), the chat messages per group
commit (`msgs/commit`, from the `visavis_chat_group_messages` metric), the load
client's CPU and loop lag (a load client that lags measures itself), and the CPU of
PostgreSQL's and Redis's processes (`PG/Redis CPU%`: on a machine with few cores the
database can be what runs out first; `other CPU%` is the rest, mostly the kernel).

Needs PostgreSQL (`--pg-url` or VISAVIS_TEST_PG_URL, e.g. from scripts/pg.sh) unless
`--db sqlite`, and Debian's redis-server and nginx (started here, on free ports).
On SQLite no database server takes CPU beside the capped processes; the processes
take turns at the file's write lock instead.

    python bench/scale_out.py --pg-url "$(bash scripts/pg.sh)"
    python bench/scale_out.py --n 50,100,200 --duration 10 --variants 1,workers2
    python bench/scale_out.py --n 300,400,500,600,700,800 --cpu-share 0.4
    python bench/scale_out.py --db sqlite --n 800,1000,1200 --cpu-share 0.4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import psutil
from _common import (
    ROOT,
    Groups,
    Server,
    emit_result,
    exit_on_sigterm,
    free_port,
    raise_nofile,
    table,
    tree_of,
)
from chat_latency import databases_cpu
from chat_latency import parse_args as chat_args
from chat_step import Step, measured_step
from cpu_cap import CpuCap

sys.path.insert(0, str(ROOT / "tests"))
from nginx import Nginx
from redis_server import RedisServer

BENCH = "scale_out"
# worker processes import everything afresh: slow on a loaded machine
START_TIMEOUT_S = 120.0
VARIANTS = {
    "1": "1 process",
    "1redis": "1 process, Redis bus",  # what the bus itself costs (not in the ratio)
    "workers2": "2 workers",
    "nodes2": "2 nodes + nginx",
}


def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


class Fresh:
    """A fresh database for one step: on PostgreSQL (`base`, its URL) or, with no
    `base`, a SQLite file of its own (shared by all processes of the step)."""

    def __init__(self, base: str | None) -> None:
        self.base = base
        if base is None:
            self.dir = Path(tempfile.mkdtemp(prefix="visavis-bench-db-"))
            self.url = f"sqlite+aiosqlite:///{self.dir / 'visavis.db'}"
            return
        self.name = "visavis_bench_" + secrets.token_hex(5)
        _pg_admin(base, f'CREATE DATABASE "{self.name}"')
        self.url = f"{base.rpartition('/')[0]}/{self.name}"

    def drop(self) -> None:
        if self.base is None:
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        _pg_admin(self.base, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _rss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


class OnFreshDb(Server):
    """`visavis serve` (with its worker processes, if any) on a fresh database; CPU
    and memory are the whole process tree's."""

    def __init__(
        self, env: dict[str, str], db_base: str | None, extra: dict[str, str], cap: CpuCap | None
    ) -> None:
        self.db = Fresh(db_base)
        self.cap = cap
        super().__init__(
            ws=None,
            env={**env, "VISAVIS_DATABASE_URL": self.db.url, **extra},
            start_timeout_s=START_TIMEOUT_S,
        )
        if "VISAVIS_WORKERS" in extra:
            # as docs/operations.md asks: /metrics then adds up all workers, whichever
            # answers (else each scrape would count one worker's groups only)
            metrics_dir = self.dir / "metrics"
            metrics_dir.mkdir()
            self.env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

    def start(self) -> Server:
        super().start()
        if self.cap is not None:
            workers = int(self.env.get("VISAVIS_WORKERS", "1"))
            try:
                self.cap.apply_to_tree(self.pid, workers if workers > 1 else 0)
            except BaseException:
                self.stop()  # no server left behind
                raise
        return self

    def stop(self) -> None:
        super().stop()
        if self.cap is not None:
            self.cap.release()
        self.db.drop()

    def cpu_seconds(self) -> float:
        return sum(self.cpu_by_process().values())

    def rss(self) -> int:
        return _rss(tree_of(self.process()))


class TwoNodes(Server):
    """Two `visavis serve` behind nginx; this object's port is nginx's."""

    def __init__(
        self, env: dict[str, str], db_base: str | None, redis_url: str, cap: CpuCap | None
    ) -> None:
        self.db = Fresh(db_base)
        self.cap = cap
        super().__init__(ws=None, env={**env, "VISAVIS_DATABASE_URL": self.db.url})
        shared = {
            **env,
            "VISAVIS_DATABASE_URL": self.db.url,
            "VISAVIS_REDIS_URL": redis_url,
            "VISAVIS_PUBLIC_URL": self.base_url,
            "VISAVIS_SECRET_KEY": secrets.token_urlsafe(32),
            "VISAVIS_DATA_DIR": str(self.dir / "var"),
        }
        self.env.update(shared)
        self.nodes = [
            Server(ws=None, env=shared, start_timeout_s=START_TIMEOUT_S) for _ in range(2)
        ]
        self.nginx = Nginx(self.port, [n.port for n in self.nodes], self.dir / "nginx")

    def start(self) -> Server:
        try:
            for node in self.nodes:
                node.start()  # one after the other: the first migrates
                if self.cap is not None:
                    self.cap.apply_to_tree(node.pid)
            self.nginx.start()
        except BaseException:
            self.stop()  # no server left behind
            raise
        return self

    def stop(self) -> None:
        self.nginx.stop()
        for node in self.nodes:
            node.stop()
        if self.cap is not None:
            self.cap.release()
        self.db.drop()
        super().stop()

    def alive(self) -> bool:
        return all(n.alive() for n in self.nodes)

    def cpu_seconds(self) -> float:
        return sum(n.cpu_seconds() for n in self.nodes)

    def cpu_by_process(self) -> dict[int, float]:
        return {pid: cpu for n in self.nodes for pid, cpu in n.cpu_by_process().items()}

    def chat_groups(self) -> Groups:
        return Groups(*map(sum, zip(*(n.chat_groups() for n in self.nodes), strict=True)))

    def rss(self) -> int:
        return sum(n.rss() for n in self.nodes)

    def log_tail(self, chars: int = 6000) -> str:
        return "\n".join(n.log_tail(chars // 2) for n in self.nodes) + self.nginx.log()


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, argparse.Namespace]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    p.add_argument("--pg-url", default=os.environ.get("VISAVIS_TEST_PG_URL", ""))
    p.add_argument("--variants", default="1,workers2,nodes2", help=f"of {sorted(VARIANTS)}")
    p.add_argument("--goal", type=float, default=1.8, help="wanted ratio 2 processes : 1")
    p.add_argument(
        "--cpu-share",
        type=float,
        default=None,
        help="each server process may use this share of one core (a cgroup quota; "
        "bench/cpu_cap.py): scaling with processes on a machine with too few cores",
    )
    p.add_argument(
        "--cpu-period-ms",
        type=float,
        default=5.0,
        help="the quota's period: a process that used its share waits up to this long",
    )
    own, rest = p.parse_known_args(argv)
    if own.db == "postgres" and not own.pg_url:
        p.error("needs PostgreSQL: --pg-url or VISAVIS_TEST_PG_URL (bash scripts/pg.sh)")
    bad = [v for v in own.variants.split(",") if v not in VARIANTS]
    if bad:
        p.error(f"unknown variants {bad}")
    defaults = ["--n", "50,100,200,400,800", "--duration", "10", "--p99-ms", "25"]
    defaults += ["--compare-ws-at", "off", "--retries", "1", "--workers", "2"]
    return own, chat_args([*defaults, *rest])


HEADERS = ["variant", "N", "msg/s", "p50 ms", "p99 ms", "lost", "dup", "gaps", "srv CPU%",
           "per process", "srv ms/msg", "msgs/commit", "client CPU%", "client lag p99",
           "PG/Redis CPU%", "other CPU%", "held"]  # fmt: skip


def row(variant: str, s: Step, p99: float) -> list[Any]:
    return [
        VARIANTS[variant], s.n, round(s.msgs_per_s), s.p50_ms, s.p99_ms, s.lost, s.duplicated,
        s.gaps, round(s.server_cpu_pct), _busy(s), s.server_cpu_ms_per_msg, s.msgs_per_group,
        round(sum(s.client_cpu_pct)), s.client_loop_lag_p99_ms, databases_cpu(s),
        round(s.other_cpu_pct),
        ("yes" if s.held(p99) else "NO") + (f" ({s.attempts} runs)" if s.attempts > 1 else ""),
    ]  # fmt: skip


def _busy(s: Step) -> str:
    """The processes that did something (a `--workers` parent idles), busiest first."""
    return "/".join(str(round(pct)) for pct in s.server_cpu_by_process_pct if pct >= 1) or "-"


def main(argv: list[str] | None = None) -> int:
    own, args = parse_args(argv)
    raise_nofile(65536)
    exit_on_sigterm()
    ramp = [int(x) for x in args.n.split(",") if x.strip()]
    variants = own.variants.split(",")
    cap = None
    capped = ""
    if own.cpu_share is not None:
        cap = CpuCap(own.cpu_share, round(own.cpu_period_ms * 1000))
        capped = f", each server process capped at {own.cpu_share:g} core"
        capped += f" per {own.cpu_period_ms:g} ms"
    load_before = os.getloadavg()
    print(
        f"scale_out: {[VARIANTS[v] for v in variants]} on {own.db}, ramp {ramp}, "
        f"{args.duration:g} s per step, p99 <= {args.p99_ms:g} ms, {os.cpu_count()} cores"
        f"{capped}, load {load_before}",
        flush=True,
    )
    redis = RedisServer(free_port(), Path(tempfile.mkdtemp(prefix="visavis-bench-redis-")))
    redis.start()
    db = own.pg_url if own.db == "postgres" else None  # Fresh's base: None is SQLite
    factories = {
        "1": lambda ws, env: OnFreshDb(env, db, {}, cap),
        "1redis": lambda ws, env: OnFreshDb(env, db, {"VISAVIS_REDIS_URL": redis.url}, cap),
        "workers2": lambda ws, env: OnFreshDb(
            env, db, {"VISAVIS_REDIS_URL": redis.url, "VISAVIS_WORKERS": "2"}, cap
        ),
        "nodes2": lambda ws, env: TwoNodes(env, db, redis.url, cap),
    }
    steps: dict[str, list[Step]] = {v: [] for v in variants}
    errors: dict[str, str] = {}
    ramping = list(variants)  # those that held every step so far
    try:
        for i, n in enumerate(ramp):
            # Every variant's step at this N, one after the other: they see the same
            # moment of the machine (a busy minute would otherwise fall on one variant
            # only). The order turns each step, so no variant always runs second.
            for v in ramping[:: 1 if i % 2 == 0 else -1]:
                try:
                    step = measured_step(n, "default", args, factories[v])
                except Exception as exc:
                    errors[v] = f"{type(exc).__name__}: {exc}"[:500]
                    print(f"{VARIANTS[v]} N={n} failed: {errors[v]}", file=sys.stderr, flush=True)
                    traceback.print_exc()
                    ramping.remove(v)
                    continue
                steps[v].append(step)
                print(table(HEADERS, [row(v, step, args.p99_ms)]), flush=True)
                if not step.held(args.p99_ms):
                    ramping.remove(v)
            if not ramping:
                break
    finally:
        redis.stop()
    highest = {v: max((s.n for s in steps[v] if s.held(args.p99_ms)), default=0) for v in variants}
    base = highest.get("1", 0)
    ratios = {
        v: (highest[v] / base if base else None) for v in variants if v not in ("1", "1redis")
    }
    load_after = os.getloadavg()

    print(f"\n== chat p99 <= {args.p99_ms:g} ms, nothing lost: by variant ==")
    print(table(HEADERS, [row(v, s, args.p99_ms) for v in variants for s in steps[v]]))
    print()
    for v in variants:
        ratio = ratios.get(v)
        extra = f"  ({ratio:.2f}x of 1 process; goal {own.goal:g}x)" if ratio else ""
        print(f"highest N held, {VARIANTS[v]}: {highest[v]}{extra}")
    print(f"load (uptime) before {load_before}, after {load_after}; {os.cpu_count()} cores{capped}")
    for v, err in errors.items():
        print(f"error ({VARIANTS[v]}): {err}", file=sys.stderr)

    emit_result(
        BENCH,
        {
            "ok": not errors,
            "errors": errors or None,
            "db": own.db,
            "p99_target_ms": args.p99_ms,
            "ramp": ramp,
            "duration_s": args.duration,
            "highest_n": {VARIANTS[v]: highest[v] for v in variants},
            "ratio_vs_1_process": {VARIANTS[v]: r for v, r in ratios.items()},
            "goal": own.goal,
            "cores": os.cpu_count(),
            "cpu_share_per_process": own.cpu_share,
            "cpu_period_ms": own.cpu_period_ms if cap else None,
            "load_before": load_before,
            "load_after": load_after,
            "steps": {
                VARIANTS[v]: [
                    {
                        "n": s.n,
                        "p50_ms": s.p50_ms,
                        "p99_ms": s.p99_ms,
                        "msgs_per_s": s.msgs_per_s,
                        "lost": s.lost,
                        "duplicated": s.duplicated,
                        "server_cpu_pct": s.server_cpu_pct,
                        "server_cpu_by_process_pct": s.server_cpu_by_process_pct,
                        "msgs_per_group": s.msgs_per_group,
                        "client_cpu_pct": sum(s.client_cpu_pct),
                        "client_loop_lag_p99_ms": s.client_loop_lag_p99_ms,
                        "postgres_cpu_pct": s.postgres_cpu_pct,
                        "redis_cpu_pct": s.redis_cpu_pct,
                        "other_cpu_pct": s.other_cpu_pct,
                        "held": s.held(args.p99_ms),
                        "attempts": s.attempts,
                    }
                    for s in steps[v]
                ]
                for v in variants
            },
        },
    )
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
