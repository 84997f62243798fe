from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verifying against this when the e-mail is unknown keeps the timing of
    "no such adviser" equal to "wrong password" (no account enumeration). Made on first
    use, not at import: argon2 costs ~0.3 s (64 MiB) that every server start and CLI
    command would pay."""
    return _hasher.hash("visavis-dummy-password")


MIN_PASSWORD_CHARS = 10


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"password must have at least {MIN_PASSWORD_CHARS} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    # argon2 costs ~50 ms of CPU: off the event loop so sockets stay responsive.
    return await asyncio.to_thread(_verify, stored_hash, password)
