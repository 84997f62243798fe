"""A real nginx (Debian `nginx`) on a free loopback port for tests, running the
sample configuration the operators get (docs/nginx/visavis.conf) with the test's
upstream ports."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "nginx" / "visavis.conf"


def site_config(port: int, upstreams: list[int]) -> str:
    """The sample with the test's listening port and nodes."""
    text = SAMPLE.read_text()
    servers = "".join(
        f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in upstreams
    )
    text, n = re.subn(
        r"(?m)^    server 127\.0\.0\.1:\d+ [^\n]*\n(?:    server [^\n]*\n)*", servers, text
    )
    assert n == 1, "docs/nginx/visavis.conf: the upstream's server lines moved"
    text, n = re.subn(r"(?m)^    listen 80;$", f"    listen 127.0.0.1:{port};", text)
    assert n == 1, "docs/nginx/visavis.conf: `listen 80;` moved"
    return text


@dataclass
class Nginx:
    port: int
    upstreams: list[int]
    dir: Path
    proc: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> None:
        if not os.path.exists(NGINX):
            if os.environ.get("CI"):
                pytest.fail("nginx is not installed under CI")
            pytest.skip("nginx not installed (apt-get install nginx)")
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "visavis.conf").write_text(site_config(self.port, self.upstreams))
        d = self.dir
        (d / "nginx.conf").write_text(
            f"""
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
# as docs/operations.md asks of the host's nginx.conf: a socket is two connections
worker_rlimit_nofile 65536;
events {{ worker_connections 16384; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/visavis.conf;
}}
"""
        )
        with (d / "stderr.log").open("ab") as err:
            self.proc = subprocess.Popen(
                [NGINX, "-p", str(d), "-c", str(d / "nginx.conf"), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"nginx did not start: {self.log()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        out = []
        for name in ("stderr.log", "error.log"):
            try:
                out.append((self.dir / name).read_text(errors="replace")[-4000:])
            except FileNotFoundError:
                pass
        return "\n".join(out)
