"""The local RFC 3161 timestamp authority (`python -m visavis.signing.tsa`) as a real
subprocess on a free loopback port, for signing tests and the bench."""

from __future__ import annotations

import selectors
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

READY = "tsa listening on "


@dataclass
class LocalTsa:
    keys_dir: Path
    proc: subprocess.Popen[str] | None = None
    url: str = ""

    @property
    def cert_pem(self) -> bytes:
        return (self.keys_dir / "tsa-cert.pem").read_bytes()

    def start(self, timeout: float = 60) -> None:
        """Start it and wait for its "listening" line (it makes its key first)."""
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "visavis.signing.tsa",
                "--port",
                "0",
                "--keys",
                str(self.keys_dir),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not sel.select(deadline - time.monotonic()):
                    break
                line = self.proc.stdout.readline()
                if not line:  # it exited
                    break
                seen.append(line)
                if line.startswith(READY):
                    self.url = line[len(READY) :].strip()
                    return
        self.stop()
        raise RuntimeError(f"the local TSA did not start: {''.join(seen)}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None
