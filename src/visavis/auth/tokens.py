"""Customer conversation tokens: signed, expiring, naming exactly one conversation."""

from __future__ import annotations

import time

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from visavis.errors import VisavisError

# Tokens verified lately, each with what it grants: after a restart every customer's
# tabs come back at once with the same token (base64, HMAC, JSON again for each).
# Only a token whose signature was verified is kept, and only while it has not
# expired; a full cache drops its oldest entry.
VERIFIED_MAX = 4096


class CustomerTokens:
    def __init__(self, secret_key: str, ttl_s: int) -> None:
        self._s = URLSafeTimedSerializer(secret_key, salt="visavis.conversation.v1")
        self._ttl_s = ttl_s
        self._verified: dict[str, tuple[str, int]] = {}  # token -> (conversation, signed at)

    def issue(self, conversation_id: str) -> str:
        return str(self._s.dumps({"c": conversation_id}))

    def check(self, token: str) -> str:
        """Return the conversation id the token grants, or raise `unauthorized`."""
        known = self._verified.get(token)
        if known is not None:
            # the same test as itsdangerous' (whole seconds): outside it, verified anew
            age = int(time.time()) - known[1]
            if 0 <= age <= self._ttl_s:
                return known[0]
            del self._verified[token]
        try:
            data, signed_at = self._s.loads(token, max_age=self._ttl_s, return_timestamp=True)
        except SignatureExpired:
            raise VisavisError("unauthorized", "conversation token expired") from None
        except BadSignature:
            raise VisavisError("unauthorized", "conversation token is not valid") from None
        cid = data.get("c") if isinstance(data, dict) else None
        if not isinstance(cid, str):
            raise VisavisError("unauthorized", "conversation token is not valid")
        if len(self._verified) >= VERIFIED_MAX:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (cid, int(signed_at.timestamp()))
        return cid
