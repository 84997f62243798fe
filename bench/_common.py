"""Shared pieces of the benchmarks: a real `visavis serve` in a temp dir, tables, stats.

Each benchmark is run as `python bench/NAME.py`, so this directory is on sys.path and
`import _common` works (also in multiprocessing "spawn" children, which inherit sys.path).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-123"
WS_IMPLS = ("websockets-sansio", "wsproto", "websockets")

# `visavis serve` with an explicit uvicorn WebSocket implementation: the same call as
# visavis.cli.do_serve, only `ws` differs (used to compare implementations).
_SERVE_WITH_WS = """
import sys
import uvicorn
from visavis.app import create_app
from visavis.config import Settings
from visavis.storage.migrate import migrate_sync

settings = Settings.from_env(port=int(sys.argv[1]))
migrate_sync(settings.database_url)
uvicorn.run(
    create_app(settings),
    host=settings.host,
    port=settings.port,
    ws=sys.argv[2],
    ws_max_size=64 * 1024,
    ws_per_message_deflate=False,
    log_level=settings.log_level,
    proxy_headers=True,
    server_header=False,
)
"""

# Adds many advisers in one process (argon2 hashing, no per-adviser interpreter start).
_ADD_ADVISERS = """
import asyncio, json, sys
from visavis.auth.service import AuthService
from visavis.config import Settings
from visavis.storage.engine import Database

async def main() -> None:
    settings = Settings.from_env()
    db = Database(settings.database_url)
    try:
        auth = AuthService(db, settings.max_chats, settings.session_ttl_s, 5)
        for email, password, name, max_chats in json.load(sys.stdin):
            await auth.do_add_adviser(email, password, name, "adviser", max_chats)
    finally:
        await db.dispose()

asyncio.run(main())
"""


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so `with Server(...)` still stops the server."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_nofile(want: int) -> int:
    """Raise this process's open-file limit (children inherit it); return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def tree_of(root: psutil.Process) -> list[psutil.Process]:
    """`root` and every process under it (none if `root` is gone)."""
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_of_tree(root: psutil.Process) -> dict[int, float]:
    """User+system CPU so far of `root` and every process under it (pid: seconds)."""
    out: dict[int, float] = {}
    for proc in tree_of(root):
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[proc.pid] = float(t.user + t.system)
    return out


class Groups(NamedTuple):
    """A server's chat group commits so far (its metrics)."""

    commits: float  # `visavis_chat_group_messages` count
    messages: float  # its sum


def chat_groups_at(base_url: str) -> Groups:
    """The chat group commits at a server's /metrics."""
    found = dict.fromkeys(
        ("visavis_chat_group_messages_count", "visavis_chat_group_messages_sum"), 0.0
    )
    text = httpx.get(base_url + "/metrics", timeout=30).raise_for_status().text
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in found:
            found[name] += float(value)
    return Groups(*found.values())


class CpuSplit(NamedTuple):
    user: float  # all threads
    system: float  # all threads, in the kernel
    loop: float  # the main thread (the event loop), user + system


class Server:
    """A real visavis server in a fresh temp dir (SQLite), stopped on exit."""

    def __init__(
        self,
        ws: str | None = None,
        env: dict[str, str] | None = None,
        keep_dir: bool = False,
        # a busy machine starts Python slowly: BENCH_START_TIMEOUT_S=120 waits longer
        start_timeout_s: float = float(os.environ.get("BENCH_START_TIMEOUT_S", "30")),
    ) -> None:
        self.ws = ws  # None: exactly `python -m visavis serve`
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="visavis-bench-"))
        self.keep_dir = keep_dir
        self.start_timeout_s = start_timeout_s
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.env = {
            **os.environ,
            "VISAVIS_DATA_DIR": str(self.dir / "var"),
            "VISAVIS_PUBLIC_URL": self.base_url,
            "VISAVIS_LOG_LEVEL": "info",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.log_path = self.dir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    # ------------------------------------------------------------ life cycle
    def start(self) -> Server:
        self._log = self.log_path.open("ab")
        if self.ws is None:
            cmd = [sys.executable, "-m", "visavis", "serve", "--port", str(self.port)]
        else:
            cmd = [sys.executable, "-c", _SERVE_WITH_WS, str(self.port), self.ws]
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir
        )
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited at start:\n{self.log_tail()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not up after {self.start_timeout_s} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def kill(self) -> None:
        """kill -9, keeping the data (for a restart: `start()` again)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            print(f"--- server log tail ({self.log_path}) ---\n{self.log_tail()}", file=sys.stderr)
        self.stop()

    # ------------------------------------------------------------ helpers
    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def process(self) -> psutil.Process:
        return psutil.Process(self.pid)

    def rss(self) -> int:
        return int(self.process().memory_info().rss)

    def cpu_seconds(self) -> float:
        """User+system CPU of the server process (all its threads)."""
        t = self.process().cpu_times()
        return float(t.user + t.system)

    def cpu_by_process(self) -> dict[int, float]:
        """User+system CPU so far of each process of the server (pid: seconds)."""
        return cpu_of_tree(self.process())

    def chat_groups(self) -> Groups:
        """Group commits so far and the chat messages in them, from the server's
        metrics (a `--workers` server's add up all workers only with
        PROMETHEUS_MULTIPROC_DIR set, as bench/scale_out.py sets it)."""
        return chat_groups_at(self.base_url)

    def cpu_split(self) -> CpuSplit:
        """Where the server's CPU went so far (seconds)."""
        proc = self.process()
        t = proc.cpu_times()
        main = [th for th in proc.threads() if th.id == proc.pid]
        loop = main[0].user_time + main[0].system_time if main else 0.0
        return CpuSplit(float(t.user), float(t.system), float(loop))

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def log_count(self, needle: str) -> int:
        try:
            return self.log_path.read_text(errors="replace").count(needle)
        except FileNotFoundError:
            return 0

    def add_advisers(self, advisers: Sequence[tuple[str, str, str, int]]) -> None:
        """(email, password, name, max_chats) each, in one subprocess."""
        out = subprocess.run(
            [sys.executable, "-c", _ADD_ADVISERS],
            input=json.dumps(list(advisers)),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120 + 2 * len(advisers),
            cwd=self.dir,
        )
        if out.returncode != 0:
            raise RuntimeError(f"adding advisers failed: {out.stderr[-3000:]}")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores, all processes) so far."""
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


# the database servers beside visavis, whose CPU a step reports on its own: with two
# visavis processes on PostgreSQL, PostgreSQL's backends were this 2-core machine's
# largest consumer, which "other CPU" did not say
DB_PROCESSES = ("postgres", "redis-server")


def named_cpu_seconds(names: Sequence[str] = DB_PROCESSES) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of every process with one of these names: pid -> (name, s)."""
    found: dict[int, tuple[str, float]] = {}
    for proc in psutil.process_iter(["name", "cpu_times"]):
        name, times = proc.info["name"], proc.info["cpu_times"]
        if name in names and times is not None:
            found[proc.pid] = (name, times.user + times.system)
    return found


def cpu_by_name(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds per process name between two `named_cpu_seconds` (a process that
    started in between counts whole; one that ended in between is not seen)."""
    spent: dict[str, float] = {}
    for pid, (name, seconds) in after.items():
        start = before.get(pid)
        spent[name] = spent.get(name, 0.0) + seconds - (start[1] if start else 0.0)
    return spent


# ---------------------------------------------------------------- stats and output
def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (nan if empty)."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[k])


def fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, float):
        if value != value:  # nan
            return "-"
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Numbers right-aligned, text left-aligned, a rule under the header."""
    raw = [list(r) for r in rows]
    cells = [[str(h) for h in headers]] + [[fmt(c) for c in r] for r in raw]
    numeric = [[isinstance(c, int | float) for c in r] for r in raw]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r, nums in zip(cells[1:], numeric, strict=True):
        line = "  ".join(
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, nums, strict=True)
        )
        lines.append(line.rstrip())
    return "\n".join(lines)


def json_safe(value: Any) -> Any:
    """Replace float nan/inf by None so the result line is strict JSON."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def emit_result(bench: str, payload: dict[str, Any]) -> None:
    """The last line of every benchmark: one JSON object starting with {"bench": NAME."""
    print(json.dumps({"bench": bench, **json_safe(payload)}, separators=(", ", ": ")), flush=True)
