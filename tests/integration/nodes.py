"""Several real `visavis serve` nodes on one PostgreSQL and one Redis, behind a real
nginx running docs/nginx/visavis.conf."""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import LiveServer, free_port
from nginx import Nginx
from redis_server import RedisServer

# a node starts several processes' worth of imports at once; slow on a busy machine
START_TIMEOUT_S = 120.0


def node(tmp_path: Path, name: str, database_url: str, redis_url: str, public_url: str,
         secret: str, **env: str) -> LiveServer:  # fmt: skip
    """A node: its own port and log; the data directory (files) shared."""
    port = free_port()
    full_env = {
        **os.environ,
        "VISAVIS_DATA_DIR": str(tmp_path / "var"),
        "VISAVIS_DATABASE_URL": database_url,
        "VISAVIS_REDIS_URL": redis_url,
        "VISAVIS_PUBLIC_URL": public_url,
        "VISAVIS_SECRET_KEY": secret,
        "VISAVIS_LOG_LEVEL": "info",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    return LiveServer(
        base_url=f"http://127.0.0.1:{port}",
        data_dir=tmp_path / "var",
        env=full_env,
        log_path=tmp_path / f"node-{name}.log",
        port=port,
    )


@dataclass
class TwoNodes:
    a: LiveServer
    b: LiveServer
    nginx: Nginx
    redis: RedisServer

    def kill_a(self) -> None:
        """SIGKILL: no goodbye to anyone, sockets just drop."""
        assert self.a.proc is not None
        self.a.proc.send_signal(signal.SIGKILL)
        self.a.proc.wait(10)

    def logs(self) -> str:
        return "\n".join(
            f"----- {name} -----\n{text}"
            for name, text in (
                ("node A", self.a.log()),
                ("node B", self.b.log()),
                ("nginx", self.nginx.log()),
            )
        )


@pytest.fixture(name="two_nodes")
def two_nodes_fixture(
    tmp_path: Path, pg_database_url: str, request: pytest.FixtureRequest
) -> Iterator[TwoNodes]:
    redis = RedisServer(free_port(), tmp_path / "redis")
    redis.start()
    nginx_port = free_port()
    public = f"http://127.0.0.1:{nginx_port}"
    secret = secrets.token_urlsafe(32)
    a = node(tmp_path, "a", pg_database_url, redis.url, public, secret)
    b = node(tmp_path, "b", pg_database_url, redis.url, public, secret)
    proxy = Nginx(nginx_port, [a.port, b.port], tmp_path / "nginx")
    nodes = TwoNodes(a, b, proxy, redis)
    try:
        a.start(timeout_s=START_TIMEOUT_S)  # first alone: it migrates the database
        b.start(timeout_s=START_TIMEOUT_S)
        proxy.start()
        yield nodes
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(nodes.logs())
        for part in (proxy, a, b, redis):
            part.stop()
