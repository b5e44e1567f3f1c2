"""What every Auth handler shares: configuration, stores, token issuer, guards, the pool."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg

from halo_supabase.local.gateway.auth.config import AuthConfig
from halo_supabase.local.gateway.auth.guards import Guards
from halo_supabase.local.gateway.auth.ratelimit import RateLimiter
from halo_supabase.local.gateway.auth.sessions import SessionStore
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

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        if self._pool is None:
            raise RuntimeError("AuthState.open() was not awaited")
        async with self._pool.acquire() as conn:
            yield conn
