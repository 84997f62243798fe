"""Advisers and their sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from visavis.auth.passwords import check_password_strength, hash_password, verify_password
from visavis.auth.ratelimit import MakeLimiter, local_limiter
from visavis.errors import VisavisError
from visavis.storage.engine import Database
from visavis.storage.models import Adviser, AdviserSession

ROLES = ("adviser", "supervisor", "admin")
# A bare address (no display name, no list). Characters that the mail headers read as
# separators or comments are refused: "a,b@x.org" would go to "a" and "b@x.org",
# "a<b@x.org" to "b@x.org" only.
_ADDR = r"[^@\s,;:<>()\[\]\"\\\x00-\x1f\x7f]"
EMAIL_RE = re.compile(rf"^(?!.*\.\.){_ADDR}{{1,64}}@{_ADDR}{{1,190}}\.{_ADDR}{{2,}}$")


@dataclass(frozen=True)
class AdviserView:
    id: str
    email: str
    name: str
    role: str
    max_chats: int  # their own limit, else the server default
    status: str
    # set with `--max-chats`: it caps a team's limit (routing/decide.py)
    own_max_chats: int | None = None

    @property
    def sees_all(self) -> bool:
        return self.role in ("supervisor", "admin")


def _hash_session(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class AuthService:
    def __init__(
        self,
        database: Database,
        default_max_chats: int,
        session_ttl_s: int,
        login_per_minute: int,
        limiter: MakeLimiter = local_limiter,
    ) -> None:
        self._db = database.sessions
        self._writer = database.writer
        self._default_max_chats = default_max_chats
        self._session_ttl = timedelta(seconds=session_ttl_s)
        self._login_by_ip = limiter("login_ip", login_per_minute * 4)
        self._login_by_email = limiter("login_email", login_per_minute)

    def view(self, a: Adviser) -> AdviserView:
        return AdviserView(
            id=a.id,
            email=a.email,
            name=a.name,
            role=a.role,
            max_chats=a.max_chats or self._default_max_chats,
            status=a.status,
            own_max_chats=a.max_chats,
        )

    async def do_add_adviser(
        self,
        email: str,
        password: str,
        name: str,
        role: str = "adviser",
        max_chats: int | None = None,
    ) -> AdviserView:
        email = email.strip().lower()
        if not EMAIL_RE.match(email):
            raise VisavisError("bad_request", f"not an e-mail address: {email!r}")
        if role not in ROLES:
            raise VisavisError("bad_request", f"role must be one of {ROLES}, not {role!r}")
        try:
            check_password_strength(password)
        except ValueError as exc:
            raise VisavisError("bad_request", str(exc)) from None
        if max_chats is not None and not 1 <= max_chats <= 50:
            raise VisavisError("bad_request", "max_chats must be between 1 and 50")
        adviser = Adviser(
            id=secrets.token_hex(8),
            email=email,
            name=name.strip() or email,
            password_hash=hash_password(password),
            role=role,
            max_chats=max_chats,
            status="away",
            created_at=datetime.now(UTC),
        )
        async with self._writer() as db:
            db.add(adviser)
            try:
                await db.commit()
            except IntegrityError:
                raise VisavisError("invalid_state", f"adviser {email} exists already") from None
        return self.view(adviser)

    async def do_set_password(self, email: str, password: str) -> None:
        try:
            check_password_strength(password)
        except ValueError as exc:
            raise VisavisError("bad_request", str(exc)) from None
        async with self._writer() as db:
            adviser = await db.scalar(select(Adviser).where(Adviser.email == email.lower()))
            if adviser is None:
                raise VisavisError("not_found", f"no adviser {email}")
            adviser.password_hash = hash_password(password)
            await db.execute(delete(AdviserSession).where(AdviserSession.adviser_id == adviser.id))
            await db.commit()

    async def get_adviser(self, adviser_id: str) -> AdviserView:
        async with self._db() as db:
            adviser = await db.get(Adviser, adviser_id)
            if adviser is None:
                raise VisavisError("not_found", f"no adviser {adviser_id}")
            return self.view(adviser)

    async def do_set_status(self, adviser_id: str, status: str) -> None:
        if status not in ("available", "away"):
            raise VisavisError("bad_request", f"status must be available or away, not {status!r}")
        async with self._writer() as db:
            await db.execute(update(Adviser).where(Adviser.id == adviser_id).values(status=status))
            await db.commit()

    async def list_advisers(self) -> list[AdviserView]:
        async with self._db() as db:
            rows = await db.scalars(select(Adviser).order_by(Adviser.email))
            return [self.view(a) for a in rows]

    async def do_login(self, email: str, password: str, ip: str) -> tuple[AdviserView, str, str]:
        """Return (adviser, raw session cookie, csrf token)."""
        email = email.strip().lower()
        if not await self._login_by_ip.allow(ip) or not await self._login_by_email.allow(email):
            raise VisavisError("rate_limited", "too many login attempts; wait a minute")
        async with self._db() as db:
            adviser = await db.scalar(select(Adviser).where(Adviser.email == email))
        # Verified outside the write lock: argon2 takes tens of milliseconds.
        ok = await verify_password(adviser.password_hash if adviser else None, password)
        if adviser is None or not ok:
            raise VisavisError("bad_credentials", "e-mail or password is wrong")
        raw = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = datetime.now(UTC)
        async with self._writer() as db:
            db.add(
                AdviserSession(
                    id=_hash_session(raw),
                    adviser_id=adviser.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + self._session_ttl,
                )
            )
            # Housekeeping: expired sessions of this adviser.
            await db.execute(
                delete(AdviserSession).where(
                    AdviserSession.adviser_id == adviser.id, AdviserSession.expires_at < now
                )
            )
            await db.commit()
        return self.view(adviser), raw, csrf

    async def check_session(self, raw: str | None) -> tuple[AdviserView, str]:
        """Return (adviser, csrf token) for a session cookie, or raise `unauthorized`."""
        if not raw or len(raw) > 128:
            raise VisavisError("unauthorized", "not logged in")
        async with self._db() as db:
            row = await db.get(AdviserSession, _hash_session(raw))
            if row is None or _utc(row.expires_at) < datetime.now(UTC):
                raise VisavisError("unauthorized", "session expired or unknown; log in again")
            adviser = await db.get(Adviser, row.adviser_id)
            if adviser is None:
                raise VisavisError("unauthorized", "adviser no longer exists")
            return self.view(adviser), row.csrf_token

    async def do_logout(self, raw: str) -> None:
        async with self._writer() as db:
            await db.execute(delete(AdviserSession).where(AdviserSession.id == _hash_session(raw)))
            await db.commit()
