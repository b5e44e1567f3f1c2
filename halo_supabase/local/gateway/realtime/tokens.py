"""JWT checks the way Realtime words them: `role` and `exp` are required, expiry is exact."""

from __future__ import annotations

import time
from typing import Any

import jwt

from halo_supabase.local.gateway.credentials import CredentialsError, Problem, TokenService

__all__ = ["TokenRejected", "verify"]


class TokenRejected(Exception):
    """The token cannot act on Realtime; the message is what the client is told."""


def verify(tokens: TokenService, token: str) -> dict[str, Any]:
    try:
        claims = tokens.decode(tokens.map_key(token), require=("exp", "role"))
    except CredentialsError as exc:
        if exc.problem is Problem.EXPIRED:
            try:
                raw = jwt.decode(token, options={"verify_signature": False})
                ago = max(0, int(time.time()) - int(raw.get("exp", 0)))
            except (jwt.InvalidTokenError, ValueError, TypeError):
                ago = 0
            raise TokenRejected(f"Token has expired {ago} seconds ago") from None
        if exc.problem is Problem.MISSING_CLAIM:
            raise TokenRejected("Fields `role` and `exp` are required in JWT") from None
        if exc.problem is Problem.BAD_SIGNATURE:
            raise TokenRejected("Signature error") from None
        raise TokenRejected(str(exc)) from None
    return claims
