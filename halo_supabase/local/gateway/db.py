"""Database access for the gateway: asyncpg pools and the per-request transaction PostgREST runs.

Requests run on a pool connected as `authenticator` (as PostgREST does) and switch to the JWT's
role for one transaction, with `request.jwt.claims`, `request.headers`, `request.method` and
`request.path` set, so Postgres enforces RLS (or, for a single volatile call, with the same
settings at session level and the statement in its own implicit transaction: see
`GatewayDatabase.as_request`). Services that act for the platform itself (Auth
writing `auth.users`, Storage bookkeeping, Realtime authorization probes) use the admin pool.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from halo_supabase.local.gateway.credentials import Credentials

__all__ = ["GatewayDatabase"]

_REQUEST_SETTINGS = """
select set_config('role', $1, $7),
       set_config('request.jwt.claims', $2, $7),
       set_config('request.method', $3, $7),
       set_config('request.path', $4, $7),
       set_config('request.headers', $5, $7),
       set_config('search_path', $6, $7)
"""
# `role` is not reset by RESET ALL.
_CLEAR_SESSION = "reset role; reset all"


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Request connections need no reset on release (asyncpg's default costs a round trip).

    Every request runs in one transaction whose settings are all transaction-local, so nothing a
    request did survives it; asyncpg still rolls back a transaction left open.
    """


class GatewayDatabase:
    def __init__(
        self, host: str, port: int, *, dbname: str = "postgres", pool_size: int = 10
    ) -> None:
        self.host = host
        self.port = port
        self.dbname = dbname
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._admin: asyncpg.Pool | None = None

    def dsn(self, user: str, password: str = "postgres") -> str:
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{self.dbname}"

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.dsn("authenticator"), min_size=2, max_size=self.pool_size, reset=_keep_session
        )
        self._admin = await asyncpg.create_pool(self.dsn("postgres"), min_size=1, max_size=4)

    async def close(self) -> None:
        for pool in (self._pool, self._admin):
            if pool is not None:
                await pool.close()
        self._pool = self._admin = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("GatewayDatabase.open() was not awaited")
        return self._pool

    @property
    def admin_pool(self) -> asyncpg.Pool:
        if self._admin is None:
            raise RuntimeError("GatewayDatabase.open() was not awaited")
        return self._admin

    @asynccontextmanager
    async def as_request(
        self,
        credentials: Credentials,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str],
        search_path: str = "public, extensions",
        readonly: bool = False,
        single_statement: bool = False,
    ) -> AsyncIterator[PoolConnectionProxy]:
        """One transaction acting as the request's role, as PostgREST runs every request.

        `readonly` runs it READ ONLY, as PostgREST does for GET/HEAD and non-volatile functions.

        `single_statement` is for a caller that runs exactly one statement and has nothing to
        check after it: the settings are made at session level and the statement runs in its
        own implicit transaction, committed by PostgreSQL as the statement ends. The outcome is
        the same as BEGIN … COMMIT, but row locks the statement takes (a workspace's ticket
        counter) are released at once instead of one gateway round trip later, and the request
        needs three round trips instead of four. The session is reset before the connection goes
        back to the pool; a connection that cannot be reset (cancelled, broken) is closed.
        """
        arguments = (
            credentials.role,
            json.dumps(credentials.claims),
            method,
            path,
            json.dumps(dict(headers)),
            search_path,
        )
        async with self.pool.acquire() as conn:
            if not single_statement:
                async with conn.transaction(readonly=readonly):
                    await conn.execute(_REQUEST_SETTINGS, *arguments, True)
                    yield conn
                return
            try:
                await conn.execute(_REQUEST_SETTINGS, *arguments, False)
                yield conn
            finally:
                try:
                    await conn.execute(_CLEAR_SESSION)
                except BaseException:
                    conn.terminate()
                    raise

    @asynccontextmanager
    async def admin(self) -> AsyncIterator[PoolConnectionProxy]:
        """A privileged connection (the platform acting for itself, never for a request's user)."""
        async with self.admin_pool.acquire() as conn:
            yield conn
