"""E-mail through the operator's SMTP server (`VISAVIS_SMTP_*`)."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from visavis.errors import VisavisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    user: str
    password: str
    sender: str
    security: str  # "starttls" | "tls" | "none" (loopback relays only)

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    data: bytes


class Mailer:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        # made once: loading the system's CA certificates would block the event loop
        # on every mail
        self._tls = ssl.create_default_context() if config.security != "none" else None

    def build(
        self, to: str, subject: str, text: str, attachments: tuple[Attachment, ...] = ()
    ) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or None)
        msg.set_content(text)
        for a in attachments:
            maintype, _, rest = a.content_type.partition("/")
            subtype, _, param = rest.partition(";")
            key, _, value = param.strip().partition("=")
            msg.add_attachment(
                a.data,
                maintype=maintype,
                subtype=subtype.strip(),
                filename=a.filename,
                params={key.strip(): value.strip()} if key.strip() else {},
            )
        return msg

    async def _send(self, msg: EmailMessage) -> None:
        c = self.config
        # start_tls is False, never None, for "none" and "tls": None would upgrade
        # whenever the server offers STARTTLS, and a loopback relay's certificate need
        # not be one the system trusts.
        await aiosmtplib.send(
            msg,
            hostname=c.host,
            port=c.port,
            username=c.user or None,
            password=c.password if c.user else None,
            use_tls=c.security == "tls",
            start_tls=c.security == "starttls",
            tls_context=self._tls,
            timeout=15,
        )

    async def do_send(
        self, to: str, subject: str, text: str, attachments: tuple[Attachment, ...] = ()
    ) -> None:
        if not self.config.configured:
            raise VisavisError("invalid_state", "e-mail is not configured (VISAVIS_SMTP_HOST)")
        msg = self.build(to, subject, text, attachments)
        try:
            await self._send(msg)
        except (OSError, aiosmtplib.SMTPException) as exc:
            # OSError: refused connections, TLS failures and timeouts (aiosmtplib's
            # connect and timeout errors are ConnectionError and TimeoutError too)
            log.warning("sending e-mail to %s failed: %r", to, exc)
            raise VisavisError("mail_failed", f"the mail server refused or failed: {exc}") from None
        log.info("e-mail %r sent to %s", subject, to)
