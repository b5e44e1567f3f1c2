"""Sessions and refresh tokens in `auth.sessions`, `auth.refresh_tokens`, `auth.mfa_amr_claims`.

Refresh tokens are GoTrue's 12-character tokens, one row each, chained by `parent`. Refreshing
revokes the presented token and issues its child (rotation). A revoked token presented again is
tolerated when it is the parent of the session's active token (the client lost the response) or
within `refresh_token_reuse_interval` seconds of its revocation (concurrent tabs); otherwise it is
reuse: every token of the session is revoked and the caller gets `refresh_token_already_used`.
That revocation must be committed even though the request fails, so `rotate` returns the error
instead of raising it inside the transaction.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from halo_supabase.local.gateway.auth.errors import AuthError
from halo_supabase.local.gateway.auth.users import Connection, UserRecord, UserStore
from halo_supabase.sql_files import load_queries

__all__ = ["Client", "Grant", "LogoutScope", "SessionStore", "valid_refresh_token"]

_SQL = load_queries("halo_supabase.local.gateway.auth", "sessions.sql")
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
_LEGACY_TOKEN = re.compile(r"^[a-z0-9]{12}$")

LogoutScope = Literal["global", "local", "others"]


@dataclass(frozen=True)
class Client:
    """Who is calling, as GoTrue records it on the session."""

    user_agent: str
    ip: str | None


@dataclass
class Grant:
    """A session's current state after sign-in or refresh."""

    user: UserRecord
    session_id: uuid.UUID
    refresh_token: str
    amr: list[dict[str, Any]]
    swapped: bool = False  # a refresh revoked the presented token and issued a new one


def _new_token() -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(12))


def valid_refresh_token(token: str) -> bool:
    """The shape check GoTrue makes before looking a refresh token up."""
    return _LEGACY_TOKEN.match(token) is not None


def _refused(code: str, message: str) -> AuthError:
    return AuthError(400, code, message)


class SessionStore:
    def __init__(self, users: UserStore) -> None:
        self._users = users

    async def start(self, conn: Connection, user: UserRecord, method: str, client: Client) -> Grant:
        """A new session with its first refresh token; records `method` for the `amr` claim."""
        session_id = uuid.uuid4()
        token = _new_token()
        await conn.execute(
            _SQL["insert_session"], session_id, user.id, client.user_agent, client.ip
        )
        await conn.execute(_SQL["insert_refresh_token"], token, str(user.id), "", session_id)
        await conn.execute(_SQL["add_amr_claim"], session_id, method)
        await self._users.record_sign_in(conn, user)
        return Grant(user, session_id, token, await self.amr(conn, session_id))

    async def amr(self, conn: Connection, session_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await conn.fetch(_SQL["amr_claims"], session_id)
        return [
            {
                "method": row["authentication_method"],
                "timestamp": int(row["updated_at"].timestamp()),
            }
            for row in rows
        ]

    async def exists(self, conn: Connection, session_id: uuid.UUID) -> bool:
        return await conn.fetchrow(_SQL["session_by_id"], session_id) is not None

    async def rotate(
        self,
        conn: Connection,
        presented: str,
        client: Client,
        *,
        reuse_interval: int,
        rotation_enabled: bool,
    ) -> Grant | AuthError:
        """Exchange a refresh token for the session's next one (see the module docstring)."""
        token = await conn.fetchrow(_SQL["refresh_token_for_update"], presented)
        if token is None:
            raise _refused(
                "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"
            )
        user = await self._users.by_id(conn, uuid.UUID(token["user_id"]))
        if user is None:
            raise _refused(
                "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"
            )
        now = datetime.now(UTC)
        if user.is_banned(now):
            raise _refused("user_banned", "Invalid Refresh Token: User Banned")
        session = None
        if token["session_id"] is not None:
            session = await conn.fetchrow(_SQL["session_for_update"], token["session_id"])
        if session is None:
            raise _refused("session_not_found", "Invalid Refresh Token: No Valid Session Found")
        if session["not_after"] is not None and now >= session["not_after"]:
            raise _refused("session_expired", "Invalid Refresh Token: Session Expired")

        issued: str | None = None
        if token["revoked"]:
            active = await conn.fetchrow(_SQL["active_refresh_token"], session["id"])
            if active is not None and active["parent"] == token["token"]:
                # The client never stored the answer to its last refresh: hand that answer out again.
                issued = active["token"]
            elif now > token["updated_at"] + timedelta(seconds=reuse_interval):
                if rotation_enabled:
                    await conn.execute(_SQL["revoke_session_tokens"], session["id"])
                return _refused("refresh_token_already_used", "Invalid Refresh Token: Already Used")
        swapped = issued is None
        if issued is None:
            await conn.execute(_SQL["revoke_refresh_token"], token["id"])
            issued = _new_token()
            await conn.execute(
                _SQL["insert_refresh_token"], issued, str(user.id), presented, session["id"]
            )
        await conn.execute(_SQL["touch_session"], session["id"], client.user_agent, client.ip)
        return Grant(user, session["id"], issued, await self.amr(conn, session["id"]), swapped)

    async def logout(
        self,
        conn: Connection,
        user_id: uuid.UUID,
        session_id: uuid.UUID | None,
        scope: LogoutScope,
    ) -> None:
        """Delete sessions (their refresh tokens and AMR claims cascade)."""
        if session_id is not None and scope == "local":
            await conn.execute(_SQL["delete_session"], session_id)
        elif session_id is not None and scope == "others":
            await conn.execute(_SQL["delete_other_sessions"], user_id, session_id)
        else:
            await conn.execute(_SQL["delete_user_sessions"], user_id)
