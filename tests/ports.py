"""Loopback ports for what a test starts (servers, nginx, Redis, coturn, SMTP, TSA),
unique on this machine while the test may still need them.

Binding port 0 and closing the socket, as tests did, hands out a port that nobody holds
until the server binds it seconds later (a server start imports a lot); under
pytest-xdist a second worker, or another test run sharing the machine, could be handed
the same port meanwhile, and the kernel hands the same range to outgoing connections.
So ports come from a range below the kernel's ephemeral one (32768-60999 by default;
Janus's RTP uses UDP 20000-40000), and each is claimed with a byte-range lock on one
file in the temporary directory (one per user), byte N for port N: a lock stays with its process until
it lets go of it or exits, whoever else runs tests on this machine at the time.

A process keeps its last `KEEP` ports (a test starts a handful); older ones go back to
the pool. A port is handed out only when it can be bound right now (TCP, and UDP for
coturn), so one still in use or in TIME_WAIT is skipped; so is the one port in the
range that Chromium refuses to open pages on.
"""

from __future__ import annotations

import collections
import fcntl
import os
import secrets
import socket
import tempfile
from pathlib import Path

LOW, HIGH = 10_000, 20_000
KEEP = 200
# Ports Chromium refuses to load pages from (net::ERR_UNSAFE_PORT; its kRestrictedPorts
# list): the only one in LOW-HIGH is 10080 (Amanda backup).
BROWSER_UNSAFE = frozenset({10080})
LOCK_FILE = Path(tempfile.gettempdir()) / f"visavis-test-ports-{os.getuid()}.lock"

_held: collections.deque[int] = collections.deque()
_fd: int | None = None


def _lock_fd() -> int:
    global _fd
    if _fd is None:
        _fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    return _fd


def _bindable(port: int, kind: socket.SocketKind) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _claim(udp: bool) -> int:
    fd = _lock_fd()
    span = HIGH - LOW
    start = secrets.randbelow(span)
    for i in range(span):
        port = LOW + (start + i) % span
        if port in _held or port in BROWSER_UNSAFE:
            continue
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
        except OSError:
            continue  # another process holds it
        if _bindable(port, socket.SOCK_STREAM) and (not udp or _bindable(port, socket.SOCK_DGRAM)):
            _held.append(port)
            while len(_held) > KEEP:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, _held.popleft())
            return port
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, port)
    raise RuntimeError(f"no free port in {LOW}-{HIGH - 1}: every one is locked or bound")


def free_port() -> int:
    """A loopback TCP port that no other test process on this machine is handed."""
    return _claim(udp=False)


def free_udp_port() -> int:
    """As `free_port`, free for UDP as well (coturn listens on both)."""
    return _claim(udp=True)
