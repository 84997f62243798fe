"""HTTP routes of signing: the current consent text (what a signer ticks, with its
version) and the seal's certificate (what a verifier of a signed PDF trusts). Both
are public: neither says anything about a conversation. The signed PDFs themselves
are documents of their conversation, downloaded like any other (web/documents.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from visavis.collab.consent_texts import SIGNATURE_CONSENT
from visavis.collab.signing import SigningService
from visavis.protocol import frames as f


class SigningRoutes:
    def __init__(self, signing: SigningService) -> None:
        self.signing = signing

    async def consent(self, request: Request) -> Response:
        body: f.ConsentText = {
            "version": SIGNATURE_CONSENT.version,
            "de": SIGNATURE_CONSENT.de,
            "en": SIGNATURE_CONSENT.en,
        }
        return JSONResponse(body, headers={"Cache-Control": "no-cache"})

    async def certificate(self, request: Request) -> Response:
        pem = await self.signing.certificate_pem()
        return Response(
            pem,
            media_type="application/x-pem-file",
            headers={"Content-Disposition": 'attachment; filename="visavis-seal.pem"'},
        )
