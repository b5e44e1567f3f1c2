"""Private channels: RLS on `realtime.messages` decides who may read and write a topic.

As Supabase Realtime does, in one transaction on a privileged connection that is always rolled
back. Read (at join, and again on a token refresh): insert probe rows for the topic, become the
user (role, `realtime.topic`, JWT claims, headers), select the probes back; a visible probe means
the user may read that extension. Write (when the channel first sends a broadcast or tracks
presence, not at join): become the user and insert a row inside a savepoint; a refusal by RLS
means the user may not write that extension.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from halo_supabase.local.gateway.db import GatewayDatabase

__all__ = ["Extension", "may_read", "may_write"]

Extension = str  # "broadcast" or "presence"

_PROBE = """
insert into realtime.messages (topic, extension, payload, event, private)
select $1, extension, '{}'::jsonb, 'halo_authorization_probe', true
from unnest($2::text[]) as extension
returning id
"""

_BECOME = """
select set_config('role', $1, true),
       set_config('realtime.topic', $2, true),
       set_config('request.jwt.claims', $3, true),
       set_config('request.jwt.claim.sub', $4, true),
       set_config('request.jwt.claim.role', $1, true),
       set_config('request.headers', $5, true)
"""

_READ = "select extension from realtime.messages where id = any($1::uuid[])"

_WRITE = """
insert into realtime.messages (topic, extension, payload, event, private)
values ($1, $2, '{}'::jsonb, 'halo_authorization_probe', true)
"""


@asynccontextmanager
async def _rolled_back(db: GatewayDatabase) -> AsyncIterator[Any]:
    async with db.admin() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            yield conn
        finally:
            await transaction.rollback()


async def _become(
    conn: Any, topic: str, claims: dict[str, Any], headers: dict[str, str] | None
) -> None:
    role = str(claims.get("role") or "anon")
    await conn.execute(
        _BECOME,
        role,
        topic,
        json.dumps(claims),
        str(claims.get("sub") or ""),
        json.dumps(headers or {}),
    )


async def may_read(
    db: GatewayDatabase,
    topic: str,
    claims: dict[str, Any],
    extensions: list[Extension],
    headers: dict[str, str] | None = None,
) -> frozenset[Extension]:
    """The extensions `claims` may read on private `topic` (the channel name, without "realtime:")."""
    async with _rolled_back(db) as conn:
        try:
            ids = [row["id"] for row in await conn.fetch(_PROBE, topic, extensions)]
            await _become(conn, topic, claims, headers)
            return frozenset(row["extension"] for row in await conn.fetch(_READ, ids))
        except asyncpg.PostgresError:
            # An unknown role or a policy that errors denies, as a failed probe does in Realtime.
            return frozenset()


async def may_write(
    db: GatewayDatabase,
    topic: str,
    claims: dict[str, Any],
    extension: Extension,
    headers: dict[str, str] | None = None,
) -> bool:
    """Whether `claims` may send on `extension` of private `topic`: an insert as the user."""
    async with _rolled_back(db) as conn:
        try:
            await _become(conn, topic, claims, headers)
            await conn.execute(_WRITE, topic, extension)
        except asyncpg.PostgresError:
            return False
        return True
