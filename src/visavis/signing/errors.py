"""`SigningError`: bad input to signing (image, spot, PDF, keys) with a stable code.

It is a `VisavisError`, so an HTTP or WebSocket layer answers it like any other client
error; the codes are listed in `visavis.errors.HTTP_STATUS`.
"""

from __future__ import annotations

from visavis.errors import VisavisError

# the codes this package raises (all in visavis.errors.HTTP_STATUS)
CODES = (
    "pdf_encrypted",
    "pdf_malformed",
    "pdf_active_content",
    "pdf_too_many_pages",
    "pdf_page_size",
    "pdf_already_signed",
    "signature_image_invalid",
    "signature_image_too_large",
    "spot_outside_page",
    "signature_field_unknown",
    "seal_key_invalid",
    "timestamp_failed",
)


class SigningError(VisavisError):
    """Refused input or a failed step of signing; `code` is one of `CODES`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
