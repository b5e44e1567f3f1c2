"""Broadcast Replay: a private channel may join with `config.broadcast.replay {since, limit}` and
first receive the stored Broadcast-from-Database messages of its topic newer than `since` (ms since
the epoch), oldest first, marked `meta.replayed = true`. The join has already proven the user may
read the topic; as on Supabase, at most 25 messages are replayed."""

from __future__ import annotations

import json
from typing import Any

from halo_supabase.local.gateway.db import GatewayDatabase
from halo_supabase.local.gateway.realtime.channel import Channel

__all__ = ["MAX_REPLAYED", "replay", "replay_options"]

MAX_REPLAYED = 25

_STORED = """
select id, event, payload from realtime.messages
where topic = $1 and private and extension = 'broadcast'
  and inserted_at > (to_timestamp($2::float8 / 1000) at time zone current_setting('TimeZone'))
order by inserted_at
limit $3
"""


def replay_options(broadcast: dict[str, Any]) -> tuple[float, int] | None:
    """(since, limit) from the join's broadcast config, or None when no replay was asked."""
    options = broadcast.get("replay")
    if not isinstance(options, dict) or not isinstance(options.get("since"), (int, float)):
        return None
    limit = options.get("limit")
    limit = limit if isinstance(limit, int) and 0 < limit <= MAX_REPLAYED else MAX_REPLAYED
    return float(options["since"]), limit


async def replay(db: GatewayDatabase, channel: Channel, since: float, limit: int) -> int:
    async with db.admin() as conn:
        rows = await conn.fetch(_STORED, channel.name, since, limit)
    serializer = channel.connection.serializer
    for row in rows:
        payload = json.loads(row["payload"]) if row["payload"] is not None else {}
        message = {
            "type": "broadcast",
            "event": row["event"],
            "payload": payload,
            "meta": {"replayed": True, "id": str(row["id"])},
        }
        channel.deliver(serializer.encode_broadcast(channel.topic, message))
    return len(rows)
