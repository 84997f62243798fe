"""Customer conversation tokens: signed, expiring, naming exactly one conversation."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from visavis.errors import VisavisError


class CustomerTokens:
    def __init__(self, secret_key: str, ttl_s: int) -> None:
        self._s = URLSafeTimedSerializer(secret_key, salt="visavis.conversation.v1")
        self._ttl_s = ttl_s

    def issue(self, conversation_id: str) -> str:
        return str(self._s.dumps({"c": conversation_id}))

    def check(self, token: str) -> str:
        """Return the conversation id the token grants, or raise `unauthorized`."""
        try:
            data = self._s.loads(token, max_age=self._ttl_s)
        except SignatureExpired:
            raise VisavisError("unauthorized", "conversation token expired") from None
        except BadSignature:
            raise VisavisError("unauthorized", "conversation token is not valid") from None
        cid = data.get("c") if isinstance(data, dict) else None
        if not isinstance(cid, str):
            raise VisavisError("unauthorized", "conversation token is not valid")
        return cid
