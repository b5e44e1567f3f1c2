"""Change capture by logical decoding: a temporary `pgoutput` slot polled over plain SQL.

asyncpg cannot speak the streaming replication protocol, but PostgreSQL's SQL interface to logical
decoding can read the same stream: `pg_logical_slot_get_binary_changes()` with the built-in
`pgoutput` plugin (present in every PostgreSQL build, so no extension package is needed) returns
the committed changes of the publications `supabase_realtime` (Postgres Changes) and
`supabase_realtime_messages_publication` (Broadcast from Database, inserts on `realtime.messages`),
in commit order, and advances the slot. Writers pay nothing beyond WAL they already write: no
trigger, no NOTIFY.

Slot policy: the slot is *temporary*, owned by the capture's own session. It disappears when the
gateway stops or its connection drops, so a gateway that is down retains no WAL at all, and two
gateways on one database never share a slot. Like Supabase Realtime, changes committed while the
gateway is down are not replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Sequence
from typing import Any

import asyncpg

from halo_supabase.local.gateway.db import GatewayDatabase
from halo_supabase.local.gateway.realtime.changes import VISIBILITY_FUNCTION, ChangeDispatcher
from halo_supabase.local.gateway.realtime.hub import Hub
from halo_supabase.local.gateway.realtime.pgoutput import Relation, RowChange, decode_messages
from halo_supabase.local.gateway.realtime.values import to_json

__all__ = ["ChangeCapture"]

log = logging.getLogger(__name__)

MESSAGES_PUBLICATION = "supabase_realtime_messages_publication"
PUBLICATIONS = f"supabase_realtime,{MESSAGES_PUBLICATION}"

_SETUP = f"""
do $setup$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
  if not exists (select 1 from pg_publication where pubname = '{MESSAGES_PUBLICATION}') then
    create publication {MESSAGES_PUBLICATION} for table realtime.messages
      with (publish = 'insert');
  end if;
end
$setup$
"""

_POLL = """
select data from pg_logical_slot_get_binary_changes(
  $1, null, $2, 'proto_version', '1', 'publication_names', $3)
"""


class ChangeCapture:
    """Owns the slot and the polling loop; hands row changes to Broadcast and Postgres Changes."""

    # Polling while anyone listens bounds the commit-to-delivery latency; idle, the loop only
    # keeps the slot from retaining WAL.
    ACTIVE_INTERVAL = 0.01
    IDLE_INTERVAL = 0.25
    COST_RATIO = 2.0
    BATCH = 5000

    def __init__(self, db: GatewayDatabase, hub: Hub, dispatcher: ChangeDispatcher) -> None:
        self.db = db
        self.hub = hub
        self.dispatcher = dispatcher
        self.slot = f"halo_realtime_{os.getpid()}_{secrets.token_hex(3)}"
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._relations: dict[int, Relation] = {}

    async def start(self) -> None:
        """Start in the background: creating the slot waits for running transactions to end, and
        the gateway must answer meanwhile; joins wait for `wait_ready` instead."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_ready(self, timeout: float = 10.0) -> bool:
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=timeout)
        except TimeoutError:
            return False
        return True

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                conn = await asyncpg.connect(self.db.dsn("postgres"))
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("realtime: cannot connect for change capture (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            try:
                await self._open(conn)
                delay = 0.5
                await self._poll_forever(conn)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("realtime: change capture stopped (%s); reconnecting", exc)
                self._ready.clear()
                await asyncio.sleep(delay)
            except Exception:
                # A bug in decoding or delivery must not end capture for the gateway's lifetime:
                # log it, drop the slot (and the batch it held) and start again.
                log.exception("realtime: change capture failed; restarting it")
                self._ready.clear()
                await asyncio.sleep(delay)
            finally:
                # Closing the session drops the temporary slot with it.
                await conn.close(timeout=2)

    async def _open(self, conn: Any) -> None:
        await conn.execute(_SETUP)
        await conn.execute(VISIBILITY_FUNCTION)
        await conn.execute("set application_name = 'halo realtime capture'")
        await conn.fetchval(
            "select slot_name from pg_create_logical_replication_slot($1, 'pgoutput', true)",
            self.slot,
        )
        self._ready.set()
        log.info("realtime: capturing changes through temporary slot %s", self.slot)

    async def _poll_forever(self, conn: Any) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            rows = await conn.fetch(_POLL, self.slot, self.BATCH, PUBLICATIONS)
            cost = loop.time() - started
            if rows:
                await self._handle(decode_messages([row["data"] for row in rows], self._relations))
            if len(rows) < self.BATCH:
                interval = self.ACTIVE_INTERVAL if self.hub.topics else self.IDLE_INTERVAL
                # Every poll decodes again from the slot's restart point, which PostgreSQL moves
                # only every 15 s or so under steady writes: a poll can cost 10+ ms then. Resting
                # at least COST_RATIO times as long as the poll took keeps capture under a third
                # of a core (`halo bench ingest`) while quiet polls stay 10 ms apart.
                await asyncio.sleep(max(interval, self.COST_RATIO * cost))

    async def _handle(self, changes: Sequence[RowChange]) -> None:
        """Deliver in commit order; consecutive table changes are authorized as one batch."""
        pending: list[RowChange] = []
        for change in changes:
            relation = change.relation
            if relation.schema == "realtime" and relation.table == "messages":
                if pending:
                    await self._dispatch(pending)
                    pending = []
                self._broadcast(change)
            else:
                pending.append(change)
        if pending:
            await self._dispatch(pending)

    async def _dispatch(self, changes: list[RowChange]) -> None:
        try:
            await self.dispatcher.dispatch(changes)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.exception("realtime: could not deliver %d row changes", len(changes))

    def _broadcast(self, change: RowChange) -> None:
        row = change.record
        if change.type != "INSERT" or row is None or row.get("extension") != "broadcast":
            return
        topic = row.get("topic")
        if not topic:
            return
        payload = to_json("jsonb", row.get("payload"))
        message: dict[str, Any] = {
            "type": "broadcast",
            "event": row.get("event"),
            "payload": payload,
        }
        if row.get("id"):
            message["meta"] = {"id": row["id"]}
        self.hub.broadcast(topic, row.get("private") == "t", message)
