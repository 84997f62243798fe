"""The RFC 3161 client the seal asks for its timestamp: one `HttpTimeStamper` per
timestamp authority's URL, kept for a while (`timestamper_for`).

Why not pyHanko's `HTTPTimeStamper`: it opens an aiohttp session per request, and each
one builds a TLS context with the system's CA store (~20-40 ms, twice a seal, also for
`http://`); and made anew per seal, it cannot keep what pyHanko caches on it: the
"dummy" token the size estimate of the signature container is made with, a whole
round trip to the TSA every seal. Kept, that is one request per seal, the real one.
A timestamper is dropped after `KEEP_S`, so a TSA's new (larger) certificate chain is
seen in the estimate soon (pyHanko leaves a 50 % margin on top).

The request is a plain blocking POST (http.client): it runs in the thread that seals,
inside pyHanko's own short event loop that has nothing else to do meanwhile.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import threading
import time
from urllib.parse import unquote, urlsplit, urlunsplit

from asn1crypto import cms, tsp
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError

from visavis.signing.lib_speedups import do_install_speedups

do_install_speedups()  # before anything here builds or reads a signature (lib_speedups)

KEEP_S = 600.0
MAX_RESPONSE = 1024 * 1024  # a token with its certificates: a few KB
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"

_lock = threading.Lock()
_kept: dict[tuple[str, float], tuple[float, HttpTimeStamper]] = {}
_tls: ssl.SSLContext | None = None


class HttpTimeStamper(TimeStamper):
    """POSTs timestamp queries to `url` (http or https; user:password@ in the URL is
    sent as HTTP basic authentication)."""

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"timestamp URL {url!r}: expected http:// or https:// and a host")
        self.url = url
        self.timeout = timeout
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE}
        if parts.username is not None:
            user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            token = base64.b64encode(user_pass.encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return tsp.TimeStampResp.load(self._post(req.dump()))

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        # asn1crypto parses lazily: a damaged answer fails where pyHanko reads it
        try:
            token: cms.ContentInfo = await super().async_timestamp(message_digest, md_algorithm)
        except (ValueError, KeyError, TypeError) as exc:
            raise TimestampRequestError(f"the answer is no RFC 3161 response ({exc})") from exc
        return token

    def _post(self, body: bytes) -> bytes:
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout, context=_tls_context()
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        try:
            conn.request("POST", self._path, body=body, headers=self._headers)
            resp = conn.getresponse()
            data = resp.read(MAX_RESPONSE + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise TimestampRequestError(f"no answer from {self._host}: {exc}") from exc
        finally:
            conn.close()
        content_type = resp.getheader("Content-Type", "")
        if resp.status != 200 or content_type != REPLY_TYPE:
            raise TimestampRequestError(
                f"HTTP {resp.status} with Content-Type {content_type!r}; expected 200 and "
                f"{REPLY_TYPE}"
            )
        if len(data) > MAX_RESPONSE:
            raise TimestampRequestError(f"the answer is over {MAX_RESPONSE} bytes")
        return data


def timestamper_for(url: str, timeout: float) -> HttpTimeStamper:
    """The kept timestamper of `url`, or a new one (kept from now on)."""
    now = time.monotonic()
    with _lock:
        kept = _kept.get((url, timeout))
        if kept is not None and now - kept[0] < KEEP_S:
            return kept[1]
        stamper = HttpTimeStamper(url, timeout)
        _kept[(url, timeout)] = (now, stamper)
        return stamper


def shown_url(url: str) -> str:
    """`url` without the credentials it may carry, for messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit(parts._replace(netloc=netloc))


def _tls_context() -> ssl.SSLContext:
    # made once: loading the CA store is the expensive part
    global _tls
    with _lock:
        if _tls is None:
            _tls = ssl.create_default_context()
        return _tls
