"""Anyone may check a sealed document, without logging in: `GET /verify` (a form),
`POST /verify` (the same page with the verdict) and `POST /api/v1/verify` (the PDF as
the body, the verdict as JSON).

Both are rate-limited per client IP and size-limited (the body is read up to the limit,
never further); verification is CPU work and runs in a worker thread, at most
`CONCURRENT` at once so a burst of uploads from many addresses cannot starve the chat.
Nothing uploaded is stored.

The deployment's trust: its seal certificate (the PKCS#12 file's, or the self-issued
one in `$VISAVIS_DATA_DIR/keys/`), the local test TSA's certificate if there is one,
and the files in `VISAVIS_VERIFY_TRUST`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from visavis.auth.ratelimit import MakeLimiter, local_limiter
from visavis.config import Settings
from visavis.errors import VisavisError
from visavis.web import verify_page
from visavis.web.http import client_ip

if TYPE_CHECKING:
    from visavis.signing.keys import SealKeys
    from visavis.signing.verify import VerifyReport

log = logging.getLogger(__name__)

CONCURRENT = 2
# (visavis.signing is imported where used: pyHanko and its friends add seconds to the
# server's start on a busy machine, for a page few open)
BOUNDARY = re.compile(r'boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))', re.I)
FILE_FIELD = re.compile(r'^content-disposition:\s*form-data;.*\bname="file"', re.M)


def seal_keys(settings: Settings) -> SealKeys:
    """The organisation's seal key as configured (made on first use if none is)."""
    from visavis.signing.keys import load_or_create_seal_keys

    p12 = Path(settings.seal_p12) if settings.seal_p12 else None
    password = settings.seal_p12_password.encode() if settings.seal_p12_password else None
    return load_or_create_seal_keys(settings.seal_keys_dir, settings.organisation, p12, password)


def deployment_trust(settings: Settings) -> list[bytes]:
    """The certificates (PEM) verification trusts; reads files only, makes no key."""
    from visavis.signing.keys import CERT_FILE, seal_certificate_pem

    pems: list[bytes] = []
    if settings.seal_p12:
        pems.append(seal_certificate_pem(seal_keys(settings)))
    else:
        cert = settings.seal_keys_dir / CERT_FILE
        if cert.exists():
            pems.append(cert.read_bytes())
    tsa_cert = settings.tsa_keys_dir / "tsa-cert.pem"
    if tsa_cert.exists():
        pems.append(tsa_cert.read_bytes())
    for path in settings.verify_trust_files():
        try:
            pems.append(path.read_bytes())
        except OSError as exc:
            raise VisavisError(
                "internal", f"VISAVIS_VERIFY_TRUST: {path} cannot be read ({exc})"
            ) from None
    return pems


def report_json(report: VerifyReport) -> dict[str, Any]:
    return {
        "valid": report.valid,
        "reason": report.reason,
        "signatures": [
            {
                "signer": s.signer,
                "signed_at": s.signed_at.isoformat() if s.signed_at else None,
                "timestamped": s.timestamped,
                "intact": s.intact,
                "trusted": s.trusted,
            }
            for s in report.signatures
        ],
        "audit": report.audit,
    }


class VerifyRoutes:
    def __init__(self, settings: Settings, limiter: MakeLimiter = local_limiter) -> None:
        self.settings = settings
        self.limit = settings.verify_max_bytes
        # shared by all nodes when they run on Redis
        self.limiter = limiter("verify", settings.verifications_per_minute)
        self.slots = asyncio.Semaphore(CONCURRENT)
        self.tz = ZoneInfo(settings.timezone)

    async def check(self, data: bytes) -> VerifyReport:
        from visavis.signing.verify import check_signed_pdf

        trust = await asyncio.to_thread(deployment_trust, self.settings)
        async with self.slots:
            report = await asyncio.to_thread(check_signed_pdf, data, trust)
        log.info("verification of %d bytes: %s", len(data), report.reason)
        return report

    async def check_rate(self, request: Request) -> None:
        if not await self.limiter.allow(client_ip(request)):
            raise VisavisError("rate_limited", "too many verifications; try again in a minute")

    async def read_body(self, request: Request) -> bytes:
        """The raw body, at most the limit (plus room for a form's headers)."""
        limit = self.limit + 64 * 1024
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise VisavisError(
                "upload_too_large",
                f"the upload has {declared} bytes; at most {self.limit} are accepted",
            )
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise VisavisError(
                    "upload_too_large", f"the upload is over {self.limit} bytes; at most that"
                )
        return bytes(body)

    # ------------------------------------------------------------------ JSON
    async def api(self, request: Request) -> Response:
        await self.check_rate(request)
        data = await self.read_body(request)
        if len(data) > self.limit:
            raise VisavisError(
                "upload_too_large", f"the upload has {len(data)} bytes; at most {self.limit}"
            )
        if not data:
            raise VisavisError("upload_empty", "the body has no bytes; expected a PDF")
        return JSONResponse(report_json(await self.check(data)))

    # ------------------------------------------------------------------ page
    async def page(self, request: Request) -> Response:
        lang = _lang(request)
        return self._html(lang, "")

    async def submit(self, request: Request) -> Response:
        lang = _lang(request)
        if not await self.limiter.allow(client_ip(request)):
            return self._html(lang, verify_page.message(lang, "rate_limited"), 429)
        try:
            body = await self.read_body(request)
        except VisavisError:
            mb = str(self.limit // (1024 * 1024))
            return self._html(lang, verify_page.message(lang, "too_large", mb=mb), 413)
        data = _form_file(request.headers.get("content-type", ""), body)
        if not data:
            return self._html(lang, verify_page.message(lang, "no_file"), 400)
        if len(data) > self.limit:
            mb = str(self.limit // (1024 * 1024))
            return self._html(lang, verify_page.message(lang, "too_large", mb=mb), 413)
        report = await self.check(data)
        return self._html(lang, verify_page.verdict(lang, report, self.tz))

    async def css(self, request: Request) -> Response:
        return Response(verify_page.CSS, media_type="text/css")

    def _html(self, lang: str, body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(
            verify_page.page(lang, body),
            status_code=status,
            headers={"Cache-Control": "no-store"},
        )


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang") or request.headers.get("accept-language", "")
    return "en" if asked.strip().lower().startswith("en") else "de"


def _form_file(content_type: str, body: bytes) -> bytes | None:
    """The `file` part of a multipart/form-data body (RFC 7578). The form has one field,
    so a few `bytes.find`s do: the standard library's MIME parser took seconds for
    25 MB, on the event loop."""
    match = BOUNDARY.search(content_type)
    if not content_type.lower().startswith("multipart/form-data") or match is None:
        return None
    delimiter = b"--" + (match.group(1) or match.group(2)).encode("latin-1")
    pos = body.find(delimiter)
    while pos != -1:
        start = pos + len(delimiter)
        if body[start : start + 2] != b"\r\n":
            return None  # "--" after the delimiter: the end, no file part found
        head_end = body.find(b"\r\n\r\n", start + 2)
        if head_end == -1:
            return None
        headers = body[start + 2 : head_end].decode("latin-1").lower()
        end = body.find(b"\r\n" + delimiter, head_end + 4)
        if end == -1:
            return None
        if FILE_FIELD.search(headers):
            return body[head_end + 4 : end]
        pos = end + 2
    return None
