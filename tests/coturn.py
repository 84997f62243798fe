"""A real coturn (Debian `coturn`) on loopback for tests, with the TURN REST secret."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"


def stun_binding_ok(port: int) -> bool:
    """Send a STUN Binding request; True when coturn answers with a success response."""
    tid = os.urandom(12)
    request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        try:
            s.sendto(request, ("127.0.0.1", port))
            data, _ = s.recvfrom(2048)
        except OSError:
            return False
    return data[:2] == b"\x01\x01" and data[8:20] == tid


@dataclass
class Coturn:
    port: int
    secret: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def start(self) -> None:
        if not os.path.exists(TURNSERVER):
            if os.environ.get("CI"):
                pytest.fail("turnserver (coturn) is not installed under CI")
            pytest.skip("coturn not installed (apt-get install coturn)")
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                TURNSERVER, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                f"--listening-port={self.port}", "--use-auth-secret",
                f"--static-auth-secret={self.secret}", "--realm=visavis.test",
                "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--no-tcp",
                "--log-file=stdout", "--min-port=49152", "--max-port=49999",
                f"--pidfile={self.log_path.with_suffix('.pid')}",
                f"--db={self.log_path.with_suffix('.sqlite')}",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()  # nothing left running or open for a later test to trip on
                raise RuntimeError(f"turnserver exited: {self.log()}")
            if stun_binding_ok(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"turnserver did not start: {self.log()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
