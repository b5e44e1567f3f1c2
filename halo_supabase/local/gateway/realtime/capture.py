"""Change capture by logical decoding: a temporary `pgoutput` slot streamed over replication.

The built-in `pgoutput` plugin (present in every PostgreSQL build, so no extension package is
needed) sends the committed changes of the publications `supabase_realtime` (Postgres Changes) and
`supabase_realtime_messages_publication` (Broadcast from Database, inserts on `realtime.messages`)
in commit order, pushed by a walsender the moment each commit is flushed (`replication.py`).
Writers pay nothing beyond WAL they already write: no trigger, no NOTIFY.

Slot policy: the slot is *temporary*, owned by the replication connection. It disappears when the
gateway stops or its connection drops, so a gateway that is down retains no WAL at all, and two
gateways on one database never share a slot. Like Supabase Realtime, changes committed while the
gateway is down are not replayed.

Until 2026-11-24 this polled `pg_logical_slot_get_binary_changes()` every 10 ms; each poll decoded
again from the slot's restart point (which PostgreSQL 15 moves about every 15 s), so under steady
writes capture cost a third of a core and added up to a poll's pacing to every delivery.
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
from halo_supabase.local.gateway.realtime.changes import ChangeDispatcher
from halo_supabase.local.gateway.realtime.hub import Hub
from halo_supabase.local.gateway.realtime.pgoutput import Relation, RowChange, decode_messages
from halo_supabase.local.gateway.realtime.replication import ReplicationError, ReplicationStream
from halo_supabase.local.gateway.realtime.values import to_json
from halo_supabase.sql_files import load_queries

__all__ = ["ChangeCapture"]

log = logging.getLogger(__name__)

# Created by sql/capture.sql's `create_publications`.
PUBLICATIONS = ("supabase_realtime", "supabase_realtime_messages_publication")

# Statements run before each stream opens (sql/capture.sql): the publications, the RLS check.
_SETUP = load_queries("halo_supabase.local.gateway.realtime", "capture.sql")


class ChangeCapture:
    """Owns the replication stream; hands row changes to Broadcast and Postgres Changes."""

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
            stream = ReplicationStream(
                self.db.dsn("postgres"), self.slot, application_name="halo realtime capture"
            )
            try:
                await self._open(stream)
                delay = 0.5
                await self._stream_forever(stream)
            except (OSError, ReplicationError, asyncpg.PostgresError) as exc:
                log.warning("realtime: change capture stopped (%s); reconnecting", exc)
                self._ready.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except Exception:
                # A bug in decoding or delivery must not end capture for the gateway's lifetime:
                # log it, drop the slot (and the batch it held) and start again.
                log.exception("realtime: change capture failed; restarting it")
                self._ready.clear()
                await asyncio.sleep(delay)
            finally:
                # Closing the connection drops the temporary slot with it.
                stream.close()

    async def _open(self, stream: ReplicationStream) -> None:
        conn = await asyncpg.connect(self.db.dsn("postgres"))
        try:
            for statement in _SETUP.values():
                await conn.execute(statement)
        finally:
            await conn.close(timeout=2)
        await stream.open(PUBLICATIONS)
        self._relations.clear()  # a new stream announces every relation again
        self._ready.set()
        log.info("realtime: streaming changes from temporary slot %s", self.slot)

    async def _stream_forever(self, stream: ReplicationStream) -> None:
        while True:
            messages = await stream.transactions()
            await self._handle(decode_messages(messages, self._relations))
            stream.confirm()

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
