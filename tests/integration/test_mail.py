"""Sending e-mail through real SMTP servers on loopback (aiosmtpd): each of the security
modes `none`, `starttls` and `tls` does what it says, certificates are checked, and
every failure is `mail_failed` with one log line."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import psutil
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import free_port

from visavis.errors import VisavisError
from visavis.notify.mail import Attachment, Mailer, SmtpConfig


@dataclass
class Server:
    port: int
    received: list[tuple[Any, bool]] = field(default_factory=list)  # (mail, over TLS)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        tls = server.transport.get_extra_info("sslcontext") is not None
        self.received.append((message_from_bytes(envelope.content, policy=policy.default), tls))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        # handled=False: aiosmtpd answers 535 itself on failure
        return AuthResult(success=data.password == b"secret", handled=False)


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The system trusts the test CA (OpenSSL reads SSL_CERT_FILE for its defaults)."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("SSL_CERT_FILE", str(path))


async def no_connection_left(ports: set[int]) -> None:
    """Until this process has no connection to those ports: a TLS connection closes
    after `send` returns (close_notify goes both ways), and must before the loop ends."""
    me = psutil.Process()
    for _ in range(500):
        left = [c for c in me.net_connections("tcp") if c.raddr and c.raddr.port in ports]
        if not left:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"connections still open: {left}")


@pytest.fixture
async def serve(ca: trustme.CA) -> AsyncIterator[Any]:
    """Starts SMTP servers: `plain`, `starttls` (offered, not required) or `tls` (SMTPS)."""
    controllers: list[Controller] = []

    def start(kind: str) -> Server:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        box = Server(free_port())
        kw: dict[str, Any] = {}
        if kind == "starttls":
            kw = {"tls_context": context, "authenticator": box.authenticate}
        elif kind == "tls":
            kw = {"ssl_context": context}
        controller = Controller(box, hostname="127.0.0.1", port=box.port, **kw)
        controller.start()
        controllers.append(controller)
        return box

    yield start
    await no_connection_left({c.port for c in controllers})
    for controller in controllers:
        controller.stop()


def mailer(port: int, security: str, user: str = "", password: str = "") -> Mailer:
    return Mailer(SmtpConfig("127.0.0.1", port, user, password, "b@bank.example", security))


async def send(m: Mailer, to: str = "erika@example.org") -> None:
    ics = Attachment("invite.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n")
    await m.do_send(to, "Ihr Termin", "Guten Tag", (ics,))


@pytest.mark.usefixtures("trusted")
async def test_starttls_upgrades_and_logs_in(serve: Any) -> None:
    box = serve("starttls")
    await send(mailer(box.port, "starttls", "beratung", "secret"))
    assert box.logins == [("beratung", "secret")]
    [(mail, tls)] = box.received
    assert tls and mail["To"] == "erika@example.org" and mail["From"] == "b@bank.example"
    [part] = mail.iter_attachments()
    assert (part.get_content_type(), part.get_param("method")) == ("text/calendar", "REQUEST")


@pytest.mark.usefixtures("trusted")
async def test_tls_speaks_tls_from_the_start(serve: Any) -> None:
    box = serve("tls")
    await send(mailer(box.port, "tls"))
    assert [tls for _, tls in box.received] == [True]


async def test_none_stays_plain_even_where_starttls_is_offered(serve: Any) -> None:
    # the server's certificate is not trusted here: an upgrade would fail
    box = serve("starttls")
    await send(mailer(box.port, "none"))
    assert [tls for _, tls in box.received] == [False]


@pytest.mark.parametrize(
    ("server", "security", "user", "to"),
    [
        (None, "none", "", "erika@example.org"),  # nobody listens
        ("plain", "none", "", "nobody@example.org"),  # the recipient is refused
        ("starttls", "starttls", "", "erika@example.org"),  # certificate not trusted
        ("plain", "starttls", "", "erika@example.org"),  # STARTTLS not offered
        ("plain", "tls", "", "erika@example.org"),  # no TLS on the port
    ],
)
async def test_every_failure_is_mail_failed_with_one_log_line(
    serve: Any, caplog: pytest.LogCaptureFixture, server: str | None, security: str,
    user: str, to: str,
) -> None:  # fmt: skip
    port = serve(server).port if server else free_port()
    with caplog.at_level(logging.INFO, logger="visavis.notify.mail"):
        with pytest.raises(VisavisError) as err:
            await send(mailer(port, security, user), to)
    assert err.value.code == "mail_failed"
    assert err.value.message.startswith("the mail server refused or failed: ")
    logged = [r for r in caplog.records if r.name == "visavis.notify.mail"]
    assert [(r.levelname, r.getMessage().split(":")[0]) for r in logged] == [
        ("WARNING", f"sending e-mail to {to} failed")
    ]


@pytest.mark.usefixtures("trusted")
async def test_a_wrong_password_is_mail_failed(serve: Any) -> None:
    box = serve("starttls")
    with pytest.raises(VisavisError) as err:
        await send(mailer(box.port, "starttls", "beratung", "wrong"))
    assert err.value.code == "mail_failed" and box.received == []
