"""Errors with stable codes, shared by HTTP and WebSocket layers.

Every failure a client can cause maps to one `code` string that never changes
meaning; clients and tests match on it, humans read `message`.
"""

from __future__ import annotations

from typing import Any

# code -> HTTP status used when the error leaves through an HTTP route
HTTP_STATUS: dict[str, int] = {
    "bad_json": 400,
    "bad_request": 400,
    "unknown_type": 400,
    "frame_too_large": 413,
    "rate_limited": 429,
    # the server has more messages in flight than it commits in time: resend after
    # `retry_after_ms` (details), the same client_id stores it once
    "overloaded": 503,
    "unauthorized": 401,
    "bad_credentials": 401,
    "csrf_failed": 403,
    "forbidden": 403,
    "not_found": 404,
    "invalid_state": 409,
    "limit_reached": 409,
    "closed": 409,
    "call_elsewhere": 409,
    "slot_taken": 409,
    "too_early": 409,
    "cobrowse_no_control": 409,
    "mail_failed": 502,
    "expired": 410,
    "not_hello": 400,
    # an HTTP request's headers or body did not arrive in time (web/deadlines.py)
    "request_timeout": 408,
    # uploads (documents/checks.py): nothing is stored when one of these is raised
    "upload_empty": 400,
    "upload_too_large": 413,
    "upload_type": 415,
    "video_type": 415,
    "pdf_encrypted": 422,
    "pdf_malformed": 422,
    "pdf_active_content": 422,
    "pdf_too_many_pages": 422,
    "pdf_page_size": 422,
    "image_malformed": 422,
    "image_too_large": 422,
    "file_missing": 404,
    # forms (forms/): nothing is stored when one of these is raised
    "template_invalid": 422,
    "form_invalid_change": 400,
    "form_field_conflict": 409,
    "form_invalid": 422,
    # signing (signing/): nothing is signed when one of these is raised
    "pdf_already_signed": 422,
    "signature_image_invalid": 422,
    "signature_image_too_large": 422,
    "spot_outside_page": 422,
    "signature_field_unknown": 422,
    "seal_key_invalid": 500,
    "timestamp_failed": 502,
    # recording a call (collab/recording.py)
    "recording_not_allowed": 403,
    "recording_needs_consent": 409,
    "recording_needs_call": 409,
    "recorder_unavailable": 503,
    "recorder_failed": 502,
    # the signing flow (collab/signing.py): nothing is stored when one of these is raised
    "signature_consent_missing": 422,
    "signature_consent_outdated": 409,
    "signature_document_changed": 409,
    "signature_document_invalid": 422,
    "signature_spots_invalid": 422,
    "signature_not_open": 409,
    "signature_failed": 500,
    "internal": 500,
}


class VisavisError(Exception):
    """A client-visible failure with a stable `code`."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        """`details`: machine-readable fields next to `code` and `message` (e.g.
        `opens_at` of `too_early`), so clients need not parse the English text."""
        if code not in HTTP_STATUS:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def as_dict(self) -> dict[str, Any]:
        return {**self.details, "code": self.code, "message": self.message}
