"""The demo's mail catcher: an SMTP server on loopback (aiosmtpd) that keeps every mail
it is sent as a file, so `visavis demo` can book appointments and send invitations
without a mail server, and shows what was "sent" on /demo/mail.

Only `visavis demo` starts one; `serve` always sends through the operator's server.
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)

SENDER = "beratung@demo.visavis"
# The newest this many mails are shown: a demo left running does not grow the page.
SHOWN = 50


@dataclass(frozen=True)
class CaughtMail:
    name: str  # the file's name: when it came, unique
    sender: str
    to: str
    subject: str
    received: datetime
    text: str
    attachments: tuple[str, ...]


class _Keep:
    """aiosmtpd's handler: each mail's bytes into a file of its own."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.time_ns()}.eml"
        (self.directory / name).write_bytes(envelope.content)
        log.info("demo mail caught: %s", name)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MailCatcher:
    """Started with `start()` (its own thread and event loop), stopped with `stop()`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self._controller = Controller(_Keep(directory), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._controller.start()
        log.info("demo mail catcher on 127.0.0.1:%d keeps mails in %s", self.port, self.directory)

    def stop(self) -> None:
        self._controller.stop()


def _parse(path: Path) -> CaughtMail:
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain",))
    text = str(body.get_content()) if body is not None else ""
    files = tuple(str(p.get_filename()) for p in msg.iter_attachments() if p.get_filename())
    return CaughtMail(
        path.name,
        str(msg["From"] or ""),
        str(msg["To"] or ""),
        str(msg["Subject"] or ""),
        datetime.fromtimestamp(int(path.stem) / 1e9, tz=UTC),
        text,
        files,
    )


def caught_mails(directory: Path) -> list[CaughtMail]:
    """The mails caught so far, newest first."""
    if not directory.is_dir():
        return []
    paths = sorted(directory.glob("*.eml"), key=lambda p: p.name, reverse=True)[:SHOWN]
    return [_parse(p) for p in paths]
