"""Ways into an adviser's own conversation: an e-mailed link (R5.1) and a short
numeric code given on the phone (R5.5).

Both create the conversation already assigned to the adviser, so the customer lands
with them directly instead of in a queue.
- Links are signed (itsdangerous, their own salt), name exactly one conversation and
  expire; they are good for nothing else (not a customer token: the link is
  exchanged for one). They keep working until expiry or the end of the conversation,
  so a customer may open them on the phone and on the desktop.
- Codes are 6 digits, expire after minutes and work once. Only an HMAC of the code
  is stored. Guessing is bounded by per-IP and global rate limits: with k live
  codes, each guess hits with probability k / 10^6.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select

from visavis.auth.ratelimit import MakeLimiter, local_limiter
from visavis.auth.service import AdviserView
from visavis.conversations.service import ConversationService
from visavis.conversations.writes import Result
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.storage.engine import Database
from visavis.storage.models import JoinCode

CODE_DIGITS = 6
# Appointment links may be booked months ahead; the appointment's own time window
# (routing/appointments.py) decides when they let the customer in.
APPOINTMENT_LINK_TTL_S = 400 * 86400


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def check_link_age(signed_at: datetime, now: datetime, ttl_s: int) -> None:
    """A link is good for `ttl_s` seconds after it was signed, that second included."""
    if (now - _utc(signed_at)).total_seconds() > ttl_s:
        raise VisavisError("expired", "this invitation link has expired")


def check_code_usable(expires_at: datetime, used_at: datetime | None, now: datetime) -> None:
    """A code works once, until it expires (its expiry instant included). A used code
    looks like an unknown one: it tells a guesser nothing."""
    if used_at is not None:
        raise VisavisError("not_found", "no such code (check the digits)")
    if _utc(expires_at) < now:
        raise VisavisError("expired", "this code has expired; ask for a new one")


class InvitationLinks:
    """Signed links naming one conversation: e-mail invitations (expire after `ttl_s`)
    and appointment links (their own salt, valid for as long as a booking can lie
    ahead)."""

    def __init__(self, secret_key: str, ttl_s: int) -> None:
        self._invitations = URLSafeTimedSerializer(secret_key, salt="visavis.invitation.v1")
        self._appointments = URLSafeTimedSerializer(secret_key, salt="visavis.appointment.v1")
        self.ttl_s = ttl_s

    def issue(self, conversation_id: str) -> str:
        return str(self._invitations.dumps({"c": conversation_id}))

    def issue_for_appointment(self, conversation_id: str) -> str:
        return str(self._appointments.dumps({"c": conversation_id}))

    def check(self, link_token: str, now: datetime) -> str:
        """The conversation a link opens: `unauthorized` if it is not one of ours
        (forged, tampered, another kind of token), `expired` after its time."""
        kinds = ((self._invitations, self.ttl_s), (self._appointments, APPOINTMENT_LINK_TTL_S))
        for serializer, ttl_s in kinds:
            try:
                data, signed_at = serializer.loads(link_token, return_timestamp=True)
            except BadSignature:
                continue
            check_link_age(signed_at, now, ttl_s)
            cid = data.get("c") if isinstance(data, dict) else None
            if isinstance(cid, str):
                return cid
            break
        raise VisavisError("unauthorized", "this invitation link is not valid")


class JoinService:
    def __init__(
        self,
        database: Database,
        conversations: ConversationService,
        secret_key: str,
        link_ttl_s: int,
        code_ttl_s: int,
        code_guesses_per_minute: int,
        limiter: MakeLimiter = local_limiter,
    ) -> None:
        self._db = database
        self._conversations = conversations
        self._secret = secret_key.encode()
        self.links = InvitationLinks(secret_key, link_ttl_s)
        self.link_ttl_s = link_ttl_s
        self.code_ttl_s = code_ttl_s
        self._guess_by_ip = limiter("code_ip", code_guesses_per_minute)
        self._guess_global = limiter("code_all", code_guesses_per_minute * 20)

    def _hash(self, code: str) -> str:
        return hmac.new(self._secret, code.encode(), hashlib.sha256).hexdigest()

    async def _open_for(
        self, adviser: AdviserView, via: str, name: str | None, language: str | None
    ) -> Result:
        return await self._conversations.do_create_assigned(
            adviser.id, adviser.name, adviser.max_chats, name, language, via
        )

    # ------------------------------------------------------------ links
    async def do_create_link(
        self, adviser: AdviserView, name: str | None, language: str | None
    ) -> tuple[f.ConversationSummary, list[f.EventFrame], str]:
        conv, events = await self._open_for(adviser, "invitation", name, language)
        return conv, events, self.links.issue(conv["id"])

    def appointment_link(self, conversation_id: str) -> str:
        return self.links.issue_for_appointment(conversation_id)

    def check_link(self, link_token: str) -> str:
        return self.links.check(link_token, datetime.now(UTC))

    # ------------------------------------------------------------ codes
    async def do_create_code(
        self, adviser: AdviserView, name: str | None, language: str | None
    ) -> tuple[f.ConversationSummary, list[f.EventFrame], str, datetime]:
        conv, events = await self._open_for(adviser, "code", name, language)
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=self.code_ttl_s)
        async with self._db.writer() as db:
            # Expired codes go, so live codes stay few (and guessing stays hopeless).
            await db.execute(delete(JoinCode).where(JoinCode.expires_at < now))
            for _ in range(20):
                code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
                if await db.get(JoinCode, self._hash(code)) is None:
                    break
            else:
                raise VisavisError("internal", "could not find a free code; try again")
            db.add(
                JoinCode(
                    code_hash=self._hash(code),
                    conversation_id=conv["id"],
                    expires_at=expires,
                )
            )
            await db.commit()
        return conv, events, code, expires

    async def do_redeem_code(self, code: str, ip: str) -> str:
        """The conversation a code opens; consumes the code."""
        if not await self._guess_by_ip.allow(ip) or not await self._guess_global.allow("all"):
            raise VisavisError("rate_limited", "too many code attempts; wait a minute")
        code = "".join(ch for ch in code if ch.isdigit())
        if len(code) != CODE_DIGITS:
            raise VisavisError("bad_request", f"a code has {CODE_DIGITS} digits")
        async with self._db.writer() as db:
            row = await db.scalar(
                select(JoinCode).where(JoinCode.code_hash == self._hash(code)).with_for_update()
            )
            now = datetime.now(UTC)
            if row is None:
                raise VisavisError("not_found", "no such code (check the digits)")
            check_code_usable(row.expires_at, row.used_at, now)
            row.used_at = now
            await db.commit()
            return row.conversation_id
