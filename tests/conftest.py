"""Shared fixtures: a real visavis server on a free port, databases, WS clients.

PostgreSQL: set VISAVIS_TEST_PG_URL (e.g. postgresql+asyncpg://visavis@127.0.0.1:5433/postgres);
`.ci/run` starts a real server and sets it. Without it the pg cases are skipped
locally, and fail under CI=true so a missing PostgreSQL cannot pass unnoticed.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import inspect
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from ports import free_port as free_port  # tests import it from here
from redis_server import RedisServer
from zygote import Process, forkable, run_visavis, zygote

if TYPE_CHECKING:
    from visavis.conversations.service import ConversationService
    from visavis.storage.engine import Database

ROOT = Path(__file__).resolve().parent.parent
# no test can hold the run forever; no SQLite driver thread outlives its test
pytest_plugins = ["watchdog", "driver_threads"]
PG_URL = os.environ.get("VISAVIS_TEST_PG_URL")
# `visavis team set ID --hours ALWAYS_OPEN`: a test's team is open whatever the clock
# says. A team without --hours gets a bank's hours, and a test would pass only in them.
ALWAYS_OPEN = json.dumps(
    {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
)


def require_pg() -> str:
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("VISAVIS_TEST_PG_URL is not set under CI: PostgreSQL tests cannot run")
        pytest.skip("VISAVIS_TEST_PG_URL not set")
    return PG_URL


def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    # In a thread of its own: async tests request this fixture from a running loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """Debian's redis-server on a free port, for one test."""
    server = RedisServer(free_port(), tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    base = require_pg()
    name = "visavis_t_" + secrets.token_hex(6)
    _pg_admin(base, f'CREATE DATABASE "{name}"')
    head, _, _ = base.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both databases the product supports, migrated."""
    from visavis.storage.migrate import migrate_sync

    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    else:
        url = request.getfixturevalue("pg_database_url")
    migrate_sync(url)
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A connection pool on each of `database_url`'s databases."""
    from visavis.storage.engine import Database

    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def svc(db: Database) -> ConversationService:
    """The conversation service on `db`, wired as the server wires it (tests/services.py);
    a test module with a service of another kind names its own `svc`."""
    from services import conversation_service

    return conversation_service(db)


@pytest.fixture
async def in_file(tmp_path: Path) -> AsyncIterator[tuple[Database, ConversationService, Path]]:
    """SQLite in a file (the server's case: the group commit's kept connection, the
    reads on the loop), with the service on it and the file's path."""
    from services import conversation_service

    from visavis.storage.engine import Database
    from visavis.storage.migrate import do_migrate

    path = tmp_path / "in-file.db"
    url = f"sqlite+aiosqlite:///{path}"
    await do_migrate(url)
    db = Database(url)
    try:
        yield db, conversation_service(db), path
    finally:
        await db.dispose()


@dataclass
class LiveServer:
    base_url: str
    data_dir: Path
    env: dict[str, str]
    log_path: Path
    proc: Process | None = None
    port: int = 0
    _logfile: Any = None

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/ws"

    def cli(self, *args: str) -> str:
        """`visavis *args` on this server's settings (forked: tests/zygote.py)."""
        out = run_visavis(list(args), self.env)
        if out.returncode != 0:
            raise RuntimeError(f"visavis {' '.join(args)} failed: {out.stderr}")
        return out.stdout

    def add_adviser(
        self, email: str, password: str, name: str, role: str = "adviser", max_chats: int = 3
    ) -> None:
        self.cli(
            "adviser", "add", email, "--password", password, "--name", name,
            "--role", role, "--max-chats", str(max_chats),
        )  # fmt: skip

    def spawn(self) -> Process:
        """Start the server process (forked: tests/zygote.py); `start` also waits until
        it answers."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = ["serve", "--port", str(self.port)]
        if forkable(self.env):
            self.proc = zygote().spawn(argv, self.env, self.log_path, self.log_path)
            return self.proc
        self._logfile = log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "visavis", *argv],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self.proc

    def start(self, timeout_s: float = 120) -> None:
        """`timeout_s`: an upper bound, not a wait: on the shared 2-core machine under
        load, importing the server (pyHanko, PDFium, reportlab …) alone took over 30 s."""
        proc = self.spawn()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._logfile is not None:
            self._logfile.close()
            self._logfile = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-20000:]
        except FileNotFoundError:
            return ""


_schema_template: Path | None = None


def put_migrated_sqlite(data_dir: Path) -> None:
    """Put a SQLite database at the newest schema into `data_dir`: a copy of one that
    `visavis migrate` made once per test process, so that each test's server starts
    without running the migrations (0.3-0.5 s a start). Migrating a fresh database is
    tested where it is the point: tests/unit/test_migrations_head.py, the commands on
    a fresh data directory, the wheel and the demo."""
    global _schema_template
    if _schema_template is None:
        template_dir = Path(tempfile.mkdtemp(prefix="visavis-schema-"))
        atexit.register(shutil.rmtree, template_dir, True)
        env = {k: v for k, v in os.environ.items() if k != "VISAVIS_DATABASE_URL"}
        subprocess.run(
            [sys.executable, "-m", "visavis", "migrate"],
            env={**env, "VISAVIS_DATA_DIR": str(template_dir)},
            check=True,
            capture_output=True,
            timeout=600,
        )
        # all connections closed: SQLite checkpointed the WAL into the file and removed it
        assert not (template_dir / "visavis.db-wal").exists()
        _schema_template = template_dir / "visavis.db"
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_schema_template, data_dir / "visavis.db")


def make_server(tmp_path: Path, database_url: str | None = None, **env: str) -> LiveServer:
    """A server (not started) on a free port, with its own data directory and a SQLite
    database there at the newest schema, or on `database_url`."""
    port = free_port()
    data_dir = tmp_path / "var"
    full_env = {
        **os.environ,
        "VISAVIS_DATA_DIR": str(data_dir),
        "VISAVIS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "VISAVIS_LOG_LEVEL": "info",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    if database_url:
        full_env["VISAVIS_DATABASE_URL"] = database_url
    else:
        put_migrated_sqlite(data_dir)
    return LiveServer(
        base_url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        env=full_env,
        log_path=tmp_path / "server.log",
        port=port,
    )


@pytest.fixture
def live_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A real `visavis serve` (uvicorn) on a free port with a fresh SQLite database."""
    server = make_server(tmp_path)
    server.start()
    yield server
    server.stop()
    print_logs_if_failed(request, [server])


def print_logs_if_failed(request: pytest.FixtureRequest, servers: list[LiveServer]) -> None:
    """After a failed test, the servers' logs (the CI's report shows them)."""
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        for server in servers:
            print(f"\n----- server log ({server.log_path}) -----\n{server.log()}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    rep = yield
    setattr(item, "rep_" + rep.when, rep)
    return rep


@pytest.fixture
async def _close_forgotten_sockets() -> AsyncIterator[None]:
    yield
    from wsclient import WsClient

    for client in list(WsClient.open_clients):
        await client.close()


# Browser tests run one Chromium at a time on a 2-core machine (each is a few busy
# processes): under pytest-xdist (`-n N --dist loadgroup`, scripts/test.sh) each
# group below is one unit of work, run by one worker test after test, while the other
# workers take the rest. VISAVIS_TEST_BROWSERS=2 spreads their modules over two groups.
BROWSER_GROUPS = max(1, int(os.environ.get("VISAVIS_TEST_BROWSERS", "1")))


# the browser test modules in turn, by name: groups of about equal time (a hash of the
# name had put 590 s into one of two groups and 290 s into the other)
BROWSER_MODULES = sorted(p.name for p in (ROOT / "tests" / "e2e").glob("test_*.py"))


def browser_group(nodeid: str) -> str:
    """The unit of work a test belongs to: its browser group, or the test itself."""
    if not nodeid.startswith("tests/e2e/"):
        return nodeid
    module = nodeid.split("::", 1)[0].rpartition("/")[2]
    return f"chromium-{BROWSER_MODULES.index(module) % BROWSER_GROUPS}"


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    # xdist's own loadgroup reads `xdist_group` marks by renaming the items' node ids,
    # which pytest 9 no longer lets it do: the tests of a group went to every worker.
    # So the groups are made here, from the node ids.
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BrowsersTogether(LoadScopeScheduling):  # type: ignore[misc]  # xdist: untyped
        def _split_scope(self, nodeid: str) -> str:
            return browser_group(nodeid)

    return BrowsersTogether(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Only async tests open WsClients; sync (Playwright) tests run their own loop,
    # where an async fixture cannot run.
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.function):
            item.fixturenames.append("_close_forgotten_sockets")
    # The longest single tests first, so that no worker starts one when the others
    # are nearly done (xdist hands out work in this order).
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as client:
        yield client


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Any]:
    """A real coturn on a free loopback UDP port with a random REST secret."""
    from coturn import Coturn
    from ports import free_udp_port

    server = Coturn(free_udp_port(), secrets.token_hex(16), tmp_path / "coturn.log")
    server.start()
    yield server
    server.stop()


@dataclass
class Smtp:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""

    port: int
    messages: list[Any]

    def wait_for(self, to: str, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        """The mails to `to` once there are `count` of them (blocking: sync tests)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages if to in str(m["To"])]
            if len(found) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(found) >= count, (
            f"{count} mails to {to}? got {[str(m['To']) for m in self.messages]}"
        )
        return found


def mail_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.fixture
def smtp_server() -> Iterator[Smtp]:
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    box = Smtp(free_port(), [])

    class Keep:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Keep(), hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


def smtp_env(smtp: Smtp) -> dict[str, str]:
    return {
        "VISAVIS_SMTP_HOST": "127.0.0.1",
        "VISAVIS_SMTP_PORT": str(smtp.port),
        "VISAVIS_SMTP_FROM": "beratung@bank.example",
        "VISAVIS_SMTP_SECURITY": "none",
    }
