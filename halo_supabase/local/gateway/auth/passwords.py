"""Password hashing (bcrypt, as GoTrue stores `encrypted_password`) and the strength rules.

Hashing is deliberately slow (cost 10, ~50 ms), so it runs in a worker thread, never on the event
loop and never while a database connection is held. Passwords are never logged.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import string

import bcrypt

from halo_supabase.local.gateway.auth.errors import AuthError, weak_password

__all__ = [
    "MAX_PASSWORD_BYTES",
    "check_strength",
    "hash_password",
    "is_bcrypt_hash",
    "random_password",
    "verify",
]

# bcrypt only reads 72 bytes; GoTrue refuses longer passwords rather than truncate them silently.
MAX_PASSWORD_BYTES = 72
_COST = 10
_BCRYPT_HASH = re.compile(r"^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$")


def check_strength(password: str, minimum_length: int) -> None:
    """GoTrue's strength check: too long is a validation error, too short a weak password."""
    size = len(password.encode("utf-8"))
    if size > MAX_PASSWORD_BYTES:
        raise AuthError(
            400,
            "validation_failed",
            f"Password cannot be longer than {MAX_PASSWORD_BYTES} characters",
        )
    if size < minimum_length:
        raise weak_password(f"Password should be at least {minimum_length} characters.", ["length"])


def _hash(password: str) -> str:
    # `$2a$` is the prefix GoTrue's Go bcrypt writes; either library reads both.
    salt = bcrypt.gensalt(rounds=_COST, prefix=b"2a")
    return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")


def _verify(password: str, encrypted: str) -> bool:
    raw = password.encode("utf-8")
    if len(raw) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(raw, encrypted.encode("ascii"))
    except ValueError:
        # Not a bcrypt hash (e.g. imported from elsewhere): it cannot match.
        return False


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hash, password)


async def verify(password: str, encrypted: str | None) -> bool:
    """Whether `password` matches the stored hash; a user without a password never matches."""
    if not encrypted:
        return False
    return await asyncio.to_thread(_verify, password, encrypted)


def is_bcrypt_hash(value: str) -> bool:
    """Whether an imported `password_hash` is a bcrypt hash GoTrue would accept."""
    return _BCRYPT_HASH.match(value) is not None


def random_password() -> str:
    """What GoTrue sets when an admin creates a user without a password (64 characters)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(64))
