"""Security headers: a strict CSP on every response, and CORS only where the
widget on a customer's site needs it (public, credential-less endpoints)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; media-src 'self' blob:; base-uri 'none'; "
    "form-action 'self'"
)
# The empty page the console draws the co-browsing mirror in (an iframe of /console).
# The mirrored page is rebuilt by rrweb inside it, with the customer's inline styles
# and style attributes and the company site's images, styles and fonts: that needs
# 'unsafe-inline' styles and the site's origins, which the console itself must not
# have. Nothing runs in it (the console's code draws into it, same origin).
MIRROR_PATH = "/console/mirror"
# Pages a company may embed in its own site (iframe).
EMBEDDABLE = ("/chat", "/advisers", "/book", "/code")
# Public endpoints the widget loader calls from the host page's origin.
CORS_PATHS = (
    "/widget.js",
    "/api/v1/availability",
    "/api/v1/availability/stream",
    "/api/v1/proactive-rules",
    "/cobrowse.js",
    "/api/v1/cobrowse/config",
)
# Pages with an iframe of ours: the demo shop's (the widget's /chat), the console (the
# co-browsing mirror).
FRAMING_PAGES = ("/demo", "/demo/konto", "/console")


class SecurityHeaders:
    def __init__(
        self, app: ASGIApp, frame_ancestors: str, cobrowse_origins: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.frame_ancestors = frame_ancestors
        sites = "".join(f" {o}" for o in cobrowse_origins)
        self.mirror_csp = (
            "default-src 'none'; script-src 'none'; "
            f"style-src 'self' 'unsafe-inline'{sites}; img-src 'self' data: blob:{sites}; "
            f"font-src 'self' data:{sites}; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'self'"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        # Only the customer app may be framed (the widget iframe); the console never.
        ancestors = self.frame_ancestors if path in EMBEDDABLE else "'none'"
        csp = f"{BASE_CSP}; frame-ancestors {ancestors}"
        if path in FRAMING_PAGES:
            csp += "; frame-src 'self'"
        if path == MIRROR_PATH:
            csp = self.mirror_csp
        extra: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=()"),
        ]
        if path == MIRROR_PATH:
            extra.append((b"x-frame-options", b"SAMEORIGIN"))
        elif path not in EMBEDDABLE:
            extra.append((b"x-frame-options", b"DENY"))
        if path in CORS_PATHS:
            extra += [
                (b"access-control-allow-origin", b"*"),
                (b"cross-origin-resource-policy", b"cross-origin"),
            ]
        else:
            extra.append((b"cross-origin-resource-policy", b"same-origin"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # A response with its own, stricter policy keeps it (a document's file:
                # `sandbox; default-src 'none'`); every other one gets ours.
                own = any(k.lower() == b"content-security-policy" for k, _ in headers)
                policy = [] if own else [(b"content-security-policy", csp.encode())]
                nosniff = [h for h in extra if not (own and h[0] == b"x-content-type-options")]
                message["headers"] = headers + policy + nosniff
            await send(message)

        await self.app(scope, receive, send_with_headers)


MIRROR_HTML = (
    '<!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex">'
    "<title>Co-Browsing</title></head><body></body></html>"
)


async def mirror_page(_request: Request) -> HTMLResponse:
    """The co-browsing mirror's empty document (`MIRROR_PATH`, its own CSP above)."""
    return HTMLResponse(MIRROR_HTML, headers={"Cache-Control": "no-cache"})
