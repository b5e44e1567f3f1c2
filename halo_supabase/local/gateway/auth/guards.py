"""Who is calling: GoTrue's `requireAuthentication` and `requireAdminCredentials`.

The bearer token is found as the Supabase gateway forwards it (`credentials.TokenService.bearer`:
Authorization, else the apikey, opaque keys mapped to their JWTs). A token that does not verify is
`403 bad_jwt`; a user token must name an existing user and, when it carries one, an existing
session; admin endpoints want the `service_role` role.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from halo_supabase.local.gateway.auth.config import AuthConfig
from halo_supabase.local.gateway.auth.errors import AuthError
from halo_supabase.local.gateway.auth.request import AuthRequest
from halo_supabase.local.gateway.auth.sessions import SessionStore
from halo_supabase.local.gateway.auth.users import Connection, UserRecord, UserStore
from halo_supabase.local.gateway.credentials import CredentialsError, Problem, TokenService

__all__ = ["Caller", "Guards"]

# How golang-jwt words each failure; GoTrue appends it to its own message.
_JWT_REASONS = {
    Problem.EXPIRED: "token has invalid claims: token is expired",
    Problem.BAD_SIGNATURE: "token signature is invalid: signature is invalid",
    Problem.MISSING_CLAIM: "token has invalid claims: token is missing required claim",
}


@dataclass
class Caller:
    """An authenticated user request."""

    claims: dict[str, Any]
    user: UserRecord
    session_id: uuid.UUID | None


def _bad_jwt(status: int, message: str) -> AuthError:
    return AuthError(status, "bad_jwt", message)


class Guards:
    def __init__(
        self, tokens: TokenService, config: AuthConfig, users: UserStore, sessions: SessionStore
    ) -> None:
        self._tokens = tokens
        self._config = config
        self._users = users
        self._sessions = sessions

    def claims(self, request: AuthRequest) -> dict[str, Any]:
        """The verified claims of the request's bearer token."""
        try:
            token = self._tokens.bearer(request.headers)
        except CredentialsError as exc:
            raise AuthError(401, "no_authorization", str(exc)) from None
        if token is None:
            raise AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token")
        try:
            return self._tokens.decode(token)
        except CredentialsError as exc:
            reason = _JWT_REASONS.get(exc.problem, f"token is malformed: {exc}")
            raise _bad_jwt(
                403, f"invalid JWT: unable to parse or verify signature, {reason}"
            ) from None

    async def user(self, request: AuthRequest, conn: Connection) -> Caller:
        claims = self.claims(request)
        return await self._load(claims, conn)

    async def admin(self, request: AuthRequest, conn: Connection) -> dict[str, Any]:
        claims = self.claims(request)
        if claims.get("session_id"):
            # A user's token with a session must still point at a live session.
            await self._load(claims, conn)
        if claims.get("role") not in self._config.admin_roles:
            raise AuthError(403, "not_admin", "User not allowed")
        return claims

    async def _load(self, claims: dict[str, Any], conn: Connection) -> Caller:
        subject = claims.get("sub")
        if not subject:
            raise _bad_jwt(403, "invalid claim: missing sub claim")
        try:
            user_id = uuid.UUID(str(subject))
        except ValueError:
            raise _bad_jwt(400, "invalid claim: sub claim must be a UUID") from None
        user = await self._users.by_id(conn, user_id)
        if user is None:
            raise AuthError(403, "user_not_found", "User from sub claim in JWT does not exist")
        session_id: uuid.UUID | None = None
        raw_session = claims.get("session_id")
        if raw_session and raw_session != str(uuid.UUID(int=0)):
            try:
                session_id = uuid.UUID(str(raw_session))
            except ValueError:
                raise _bad_jwt(403, "invalid claim: session_id claim must be a UUID") from None
            if not await self._sessions.exists(conn, session_id):
                raise AuthError(
                    403, "session_not_found", "Session from session_id claim in JWT does not exist"
                )
        if user.is_banned(datetime.now(UTC)):
            raise AuthError(403, "user_banned", "User is banned")
        return Caller(claims, user, session_id)
