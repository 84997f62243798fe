"""Short-lived access tokens for document GETs.

`<img>`, `<video>` and download links cannot send an `Authorization` header, and the
customer has no cookie. So a participant first asks for a token (with its usual
credentials) and puts it in the URL as `?a=`. The token is signed (itsdangerous, its
own salt), expires after 15 minutes and names one document, its conversation and
the participant, so a leaked URL opens that document only, briefly, and says whose
it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from visavis.errors import VisavisError
from visavis.protocol.common import Role

ACCESS_TTL_S = 15 * 60


@dataclass(frozen=True)
class Grant:
    """What a valid token allows: this document of this conversation, for this side
    (`adviser_id` names the adviser; None for the customer)."""

    document_id: str
    conversation_id: str
    role: Role
    adviser_id: str | None


class DocumentAccess:
    def __init__(self, secret_key: str, ttl_s: int = ACCESS_TTL_S) -> None:
        self._s = URLSafeTimedSerializer(secret_key, salt="visavis.document-access.v1")
        self.ttl_s = ttl_s

    def issue(self, grant: Grant, now: datetime | None = None) -> tuple[str, datetime]:
        """The token and when it expires."""
        token = self._s.dumps(
            {"d": grant.document_id, "c": grant.conversation_id, "r": grant.role,
             "a": grant.adviser_id}
        )  # fmt: skip
        expires = (now or datetime.now(UTC)) + timedelta(seconds=self.ttl_s)
        return str(token), expires

    def check(self, token: str, document_id: str) -> Grant:
        """The grant of a token for `document_id`: `unauthorized` when it is not one of
        ours, `expired` after its time, `forbidden` for another document."""
        try:
            data = self._s.loads(token, max_age=self.ttl_s)
        except SignatureExpired:
            raise VisavisError("expired", "this document link has expired; reopen it") from None
        except BadSignature:
            raise VisavisError("unauthorized", "document access token is not valid") from None
        if not isinstance(data, dict):
            raise VisavisError("unauthorized", "document access token is not valid")
        doc, conv, role, adviser = data.get("d"), data.get("c"), data.get("r"), data.get("a")
        if not (isinstance(doc, str) and isinstance(conv, str) and role in ("customer", "adviser")):
            raise VisavisError("unauthorized", "document access token is not valid")
        if doc != document_id:
            raise VisavisError(
                "forbidden", f"this access token is for document {doc}, not {document_id}"
            )
        return Grant(doc, conv, "customer" if role == "customer" else "adviser",
                     adviser if isinstance(adviser, str) else None)  # fmt: skip
