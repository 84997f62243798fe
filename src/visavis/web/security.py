"""Security headers: a strict CSP on every response, and CORS only where the
widget on a customer's site needs it (public, credential-less endpoints)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; media-src 'self' blob:; base-uri 'none'; "
    "form-action 'self'"
)
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
# The demo shop's pages embed the widget's iframe of /chat.
DEMO_PAGES = ("/demo", "/demo/konto")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, frame_ancestors: str) -> None:
        self.app = app
        self.frame_ancestors = frame_ancestors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        # Only the customer app may be framed (the widget iframe); the console never.
        ancestors = self.frame_ancestors if path in EMBEDDABLE else "'none'"
        csp = f"{BASE_CSP}; frame-ancestors {ancestors}"
        if path in DEMO_PAGES:
            csp += "; frame-src 'self'"
        extra: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=()"),
        ]
        if path not in EMBEDDABLE:
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
