"""What every Auth handler shares: configuration, stores, token issuer, guards, the pool."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from halo_supabase.local.gateway.auth.config import AuthConfig
from halo_supabase.local.gateway.auth.errors import AuthError
from halo_supabase.local.gateway.auth.guards import Guards
from halo_supabase.local.gateway.auth.ratelimit import RateLimiter
from halo_supabase.local.gateway.auth.request import AuthRequest, Reply
from halo_supabase.local.gateway.auth.sessions import Grant, SessionStore
from halo_supabase.local.gateway.auth.shapes import session_json
from halo_supabase.local.gateway.auth.tokens import AccessTokenIssuer
from halo_supabase.local.gateway.auth.users import Connection, UserStore

__all__ = ["AuthState"]


async def _prepare(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


@dataclass
class AuthState:
    config: AuthConfig
    users: UserStore
    sessions: SessionStore
    issuer: AccessTokenIssuer
    guards: Guards
    token_limiter: RateLimiter
    signup_limiter: RateLimiter
    user_update_limiter: RateLimiter
    anonymous_limiter: RateLimiter
    dsn: str
    _pool: asyncpg.Pool | None = field(default=None, init=False)

    async def open(self) -> None:
        # As GoTrue: connected as supabase_auth_admin with search_path `auth`, so triggers on
        # auth.users run with the privileges and search path they get on Supabase.
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=1,
            max_size=5,
            init=_prepare,
            server_settings={"search_path": "auth", "timezone": "UTC"},
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def throttle(self, limiter: RateLimiter, request: AuthRequest) -> None:
        """GoTrue's per-client limit: 429 when the client's bucket is empty (see `request`)."""
        key = request.rate_limit_key()
        if key is not None and not limiter.allow(key):
            raise AuthError(429, "over_request_rate_limit", "Request rate limit reached")

    def audience(self, request: AuthRequest, claims: dict[str, Any] | None) -> str:
        return request.requested_audience(claims, self.config.audience, self.config.admin_roles)

    def session_reply(self, grant: Grant, weak_password: dict[str, Any] | None = None) -> Reply:
        """GoTrue's session response: a fresh access token for `grant`'s session."""
        now = int(datetime.now(UTC).timestamp())
        access_token, expires_at = self.issuer.issue(
            grant.user, grant.session_id, grant.amr, now=now
        )
        return Reply(
            200,
            session_json(
                access_token, expires_at, now, grant.refresh_token, grant.user, weak_password
            ),
        )

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        if self._pool is None:
            raise RuntimeError("AuthState.open() was not awaited")
        async with self._pool.acquire() as conn:
            yield conn
