"""Private channels: RLS on `realtime.messages` decides who may read and write a topic.

As Supabase Realtime does, in one transaction on a privileged connection that is always rolled
back: insert probe rows for the topic, become the user (role, `realtime.topic`, JWT claims), select
the probes back (visible ⇒ may read that extension), insert as the user inside a savepoint (refused
by RLS ⇒ may not write).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from halo_supabase.local.gateway.db import GatewayDatabase

__all__ = ["Permissions", "authorize"]

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


@dataclass(frozen=True)
class Permissions:
    read_broadcast: bool
    read_presence: bool
    write_broadcast: bool
    write_presence: bool

    @property
    def can_join(self) -> bool:
        return self.read_broadcast or self.read_presence


async def authorize(
    db: GatewayDatabase,
    topic: str,
    claims: dict[str, Any],
    *,
    presence: bool = True,
    headers: dict[str, str] | None = None,
) -> Permissions:
    """What `claims` may do on private `topic` (the channel name, without "realtime:")."""
    extensions = ["broadcast", "presence"] if presence else ["broadcast"]
    role = str(claims.get("role") or "anon")
    writes: dict[str, bool] = {}
    async with db.admin() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            ids = [row["id"] for row in await conn.fetch(_PROBE, topic, extensions)]
            await conn.execute(
                _BECOME,
                role,
                topic,
                json.dumps(claims),
                str(claims.get("sub") or ""),
                json.dumps(headers or {}),
            )
            readable = {row["extension"] for row in await conn.fetch(_READ, ids)}
            for extension in extensions:
                writes[extension] = await _may_insert(conn, topic, extension)
        except asyncpg.PostgresError:
            # An unknown role or a policy that errors denies, as a failed probe does in Realtime.
            readable = set()
        finally:
            await transaction.rollback()
    return Permissions(
        read_broadcast="broadcast" in readable,
        read_presence="presence" in readable,
        write_broadcast=writes.get("broadcast", False),
        write_presence=writes.get("presence", False),
    )


async def _may_insert(conn: Any, topic: str, extension: str) -> bool:
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        await conn.execute(_WRITE, topic, extension)
    except asyncpg.PostgresError:
        allowed = False
    else:
        allowed = True
    await savepoint.rollback()
    return allowed
