"""Postgres Changes: join bindings, and delivery of captured row changes to the channels they match.

Every INSERT/UPDATE is checked against the subscriber's RLS before delivery (Realtime's `apply_rls`):
per distinct JWT among the matching channels, one rolled-back transaction on a privileged connection
becomes that role with those claims and selects the changed rows by primary key; a channel receives
only the rows its user can select. DELETEs cannot be selected any more: they go to roles holding
SELECT on the table, with `old_record` cut to the primary key when the table has RLS.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from halo_supabase.local.gateway.db import GatewayDatabase
from halo_supabase.local.gateway.realtime.channel import Channel
from halo_supabase.local.gateway.realtime.filters import Filter, parse_filter
from halo_supabase.local.gateway.realtime.hub import Hub
from halo_supabase.local.gateway.realtime.pgoutput import Relation, RowChange
from halo_supabase.local.gateway.realtime.protocol import Frame, Wire
from halo_supabase.local.gateway.realtime.values import to_json
from halo_supabase.sql_files import load_queries

__all__ = [
    "Binding",
    "ChangeDispatcher",
    "parse_bindings",
    "subscription_error",
]

_EVENTS = frozenset({"*", "INSERT", "UPDATE", "DELETE"})
_CATALOG_TTL = 2.0


@dataclass(frozen=True)
class Binding:
    id: int
    event: str
    schema: str
    table: str | None
    filter: Filter | None
    echo: dict[str, Any]  # what the client sent, plus `id`: clients compare it field by field
    select: frozenset[str] | None = None  # the columns asked for (`select`), None for all

    def matches(
        self, change: RowChange, values: dict[str, Any] | None, type_of: dict[str, str]
    ) -> bool:
        relation = change.relation
        if self.event not in ("*", change.type):
            return False
        if self.schema not in ("*", relation.schema):
            return False
        if self.table not in (None, "*", relation.table):
            return False
        if self.filter is None:
            return True
        return values is not None and self.filter.matches(values, type_of)


def parse_bindings(raw: Any) -> list[Binding]:
    """The join's `config.postgres_changes`; ValueError names the first bad binding."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("postgres_changes must be a list")
    bindings = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("each postgres_changes binding must be an object")
        event = str(item.get("event", "*")).upper()
        if event not in _EVENTS:
            raise ValueError(f"invalid event {item.get('event')!r}")
        schema = str(item.get("schema") or "public")
        table = item.get("table")
        text = item.get("filter")
        parsed = parse_filter(str(text)) if text else None
        # Realtime hashes the params; any stable non-zero integer serves (clients ignore id 0).
        identity = json.dumps(item, sort_keys=True, default=str).encode()
        binding_id = (zlib.crc32(identity) & 0x7FFFFFF) or 1
        bindings.append(
            Binding(
                binding_id,
                event,
                schema,
                str(table) if table else None,
                parsed,
                {**item, "id": binding_id},
                _selected(item.get("select")),
            )
        )
    return bindings


_SQL = load_queries("halo_supabase.local.gateway.realtime", "changes.sql")


async def subscription_error(db: GatewayDatabase, bindings: Sequence[Binding]) -> str | None:
    """Why the bindings cannot be subscribed (tables outside the publication, unknown filter
    columns), worded as Realtime words it; None when they can."""
    async with db.admin() as conn:
        rows = await conn.fetch(_SQL["published_tables"])
    for binding in bindings:
        tables = [
            set(row["attnames"] or ())
            for row in rows
            if binding.schema in ("*", row["schemaname"])
            and binding.table in (None, "*", row["tablename"])
        ]
        ok = bool(tables) and (
            binding.filter is None or any(binding.filter.columns <= cols for cols in tables)
        )
        if not ok:
            params = ", ".join(
                f"{k}: {v}"
                for k, v in binding.echo.items()
                if k in ("event", "schema", "table", "filter")
            )
            return (
                "Unable to subscribe to changes with given parameters. Please check Realtime is "
                f"enabled for the given connect parameters: [{params}]"
            )
    return None


class _Catalog:
    """Type names, RLS flags and table privileges, cached briefly (DDL is rare, changes are not)."""

    def __init__(self) -> None:
        self.types: dict[int, tuple[str, str]] = {}  # oid → (typname, format_type)
        self._rls: dict[int, tuple[float, bool]] = {}
        self._grants: dict[tuple[str, int], tuple[float, frozenset[str]]] = {}
        self._keys: dict[int, tuple[float, list[str]]] = {}

    async def load_types(self, conn: Any, oids: set[int]) -> None:
        missing = [oid for oid in oids if oid not in self.types]
        if missing:
            rows = await conn.fetch(_SQL["type_names"], missing)
            for row in rows:
                self.types[int(row["oid"])] = (row["typname"], row["full_name"])

    async def has_rls(self, conn: Any, oid: int) -> bool:
        cached = self._rls.get(oid)
        if cached is None or time.monotonic() - cached[0] > _CATALOG_TTL:
            value = bool(await conn.fetchval(_SQL["row_security"], oid))
            cached = self._rls[oid] = (time.monotonic(), value)
        return cached[1]

    async def key_columns(self, conn: Any, relation: Relation) -> list[str]:
        """The primary key: pgoutput flags every column as key under REPLICA IDENTITY FULL."""
        if relation.replica_identity != "f":
            return [c.name for c in relation.columns if c.key]
        cached = self._keys.get(relation.oid)
        if cached is None or time.monotonic() - cached[0] > _CATALOG_TTL:
            names = await conn.fetchval(_SQL["primary_key_columns"], relation.oid)
            cached = self._keys[relation.oid] = (time.monotonic(), list(names))
        return cached[1]

    async def selectable(self, conn: Any, role: str, oid: int) -> frozenset[str]:
        """Columns `role` may SELECT (table or column grants); empty when none or no such role."""
        cached = self._grants.get((role, oid))
        if cached is None or time.monotonic() - cached[0] > _CATALOG_TTL:
            try:
                names = await conn.fetchval(_SQL["selectable_columns"], role, oid)
            except asyncpg.PostgresError:
                names = []  # an unknown role
            cached = self._grants[(role, oid)] = (time.monotonic(), frozenset(names))
        return cached[1]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _timestamp(change: RowChange) -> str:
    at = change.commit_timestamp
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


@dataclass
class _Prepared:
    """One change as JSON, and which channels it matches."""

    change: RowChange
    data: dict[str, Any]
    key: dict[str, Any]
    audience: dict[Channel, list[int]]


class ChangeDispatcher:
    def __init__(self, db: GatewayDatabase, hub: Hub) -> None:
        self.db = db
        self.hub = hub
        self.catalog = _Catalog()

    async def dispatch(self, changes: Sequence[RowChange]) -> int:
        """Deliver changes in commit order; returns the number of messages queued."""
        if not self.hub.subscribers or not changes:
            return 0
        async with self.db.admin() as conn:
            await self.catalog.load_types(
                conn, {c.type_oid for change in changes for c in change.relation.columns}
            )
            keys = {
                change.relation.oid: await self.catalog.key_columns(conn, change.relation)
                for change in changes
            }
            prepared = [
                p
                for p in (self._prepare(change, keys[change.relation.oid]) for change in changes)
                if p.audience
            ]
            if not prepared:
                return 0
            allowed = await self._authorize(conn, prepared)
            columns: dict[tuple[str, int], frozenset[str]] = {}
            for index, item in enumerate(prepared):
                relation = item.change.relation
                for channel in allowed[index]:
                    grant = (channel.auth.role, relation.oid)
                    if grant not in columns:
                        columns[grant] = await self.catalog.selectable(conn, *grant)
                if not item.key:
                    # Without a primary key no row can be checked against RLS: like Realtime, say
                    # so instead of sending values.
                    item.data.pop("record", None)
                    item.data.pop("old_record", None)
                    item.data["errors"] = ["Error 400: Bad Request, no primary key"]
                    continue
                # Only the key survives a DELETE on an RLS table: nobody can prove the rest was
                # visible to the subscriber.
                full_delete = item.change.type == "DELETE" and relation.replica_identity == "f"
                if full_delete and await self.catalog.has_rls(conn, relation.oid):
                    item.data["old_record"] = dict(item.key)
        sent = 0
        for index, item in enumerate(prepared):
            sent += self._deliver(item, allowed[index], columns)
        return sent

    def _prepare(self, change: RowChange, key_names: list[str]) -> _Prepared:
        relation = change.relation
        type_of = {
            c.name: self.catalog.types.get(c.type_oid, ("text", "text"))[0]
            for c in relation.columns
        }
        record = _typed(change.record, type_of)
        old = _typed(change.old_record, type_of)
        if record is not None and old is not None:
            for name in change.unchanged_toast:
                if name in old:
                    record[name] = old[name]
        if change.type == "UPDATE" and old is None and record is not None:
            old = {name: record.get(name) for name in key_names}
        data: dict[str, Any] = {
            "schema": relation.schema,
            "table": relation.table,
            "commit_timestamp": _timestamp(change),
            "type": change.type,
            "columns": [{"name": c.name, "type": type_of[c.name]} for c in relation.columns],
            "errors": None,
        }
        if record is not None:
            data["record"] = record
        if old is not None:
            data["old_record"] = old
        source = old if change.type == "DELETE" else record
        key = {name: (source or {}).get(name) for name in key_names}
        audience: dict[Channel, list[int]] = {}
        for channel in self.hub.subscribers:
            ids = [b.id for b in channel.bindings if b.matches(change, source, type_of)]
            if ids:
                audience[channel] = ids
        return _Prepared(change, data, key, audience)

    async def _authorize(self, conn: Any, prepared: list[_Prepared]) -> list[set[Channel]]:
        """For each change, the channels whose user may see it."""
        groups: dict[str, list[Channel]] = {}
        for item in prepared:
            for channel in item.audience:
                groups.setdefault(json.dumps(channel.auth.claims, sort_keys=True), []).append(
                    channel
                )
        allowed: list[set[Channel]] = [set() for _ in prepared]
        for claims_json, channels in groups.items():
            members = set(channels)
            role = channels[0].auth.role
            to_select: list[int] = []
            for index, item in enumerate(prepared):
                if not members.intersection(item.audience):
                    continue
                if not await self.catalog.selectable(conn, role, item.change.relation.oid):
                    continue
                if item.change.type == "DELETE" or not item.key:
                    allowed[index].update(members.intersection(item.audience))
                else:
                    to_select.append(index)
            if to_select:
                visible = await self._visible(
                    conn, role, claims_json, [prepared[i] for i in to_select]
                )
                for index, seen in zip(to_select, visible, strict=True):
                    if seen:
                        allowed[index].update(members.intersection(prepared[index].audience))
        return allowed

    async def _visible(
        self, conn: Any, role: str, claims_json: str, items: list[_Prepared]
    ) -> list[bool]:
        """One round trip per row: the function becomes the role for its own statement only."""
        results: list[bool] = []
        for item in items:
            statement, keys = self._select_by_key(item)
            try:
                seen = await conn.fetchval(_SQL["row_visible"], role, claims_json, statement, keys)
            except asyncpg.PostgresError:
                seen = False  # an unknown role, or a policy that fails: not visible
            results.append(bool(seen))
        return results

    def _select_by_key(self, item: _Prepared) -> tuple[str, list[str | None]]:
        relation: Relation = item.change.relation
        conditions = []
        keys: list[str | None] = []
        for column in relation.columns:
            if column.name in item.key:
                value = item.key[column.name]
                keys.append(None if value is None else _as_text(value))
                full_type = self.catalog.types.get(column.type_oid, ("text", "text"))[1]
                conditions.append(f"{_quote(column.name)} = ($1[{len(keys)}])::{full_type}")
        statement = (
            f"select exists(select 1 from {_quote(relation.schema)}.{_quote(relation.table)} "
            f"where {' and '.join(conditions)})"
        )
        return statement, keys

    def _deliver(
        self,
        item: _Prepared,
        allowed: set[Channel],
        columns: dict[tuple[str, int], frozenset[str]],
    ) -> int:
        """Queue the change on each allowed channel, showing only the columns its role may
        select (as Realtime does); one encoding per serializer, binding ids and column set."""
        oid = item.change.relation.oid
        wires: dict[tuple[int, tuple[int, ...], frozenset[str]], Wire] = {}
        for channel in allowed:
            ids = item.audience[channel]
            serializer = channel.connection.serializer
            visible = columns[(channel.auth.role, oid)]
            asked = _asked_for(channel, ids)
            if asked is not None:
                visible &= asked
            cache_key = (id(serializer), tuple(ids), visible)
            wire = wires.get(cache_key)
            if wire is None:
                data = _only_columns(item.data, visible)
                frame = Frame(channel.topic, "postgres_changes", {"ids": ids, "data": data})
                wire = wires[cache_key] = serializer.encode(frame)
            channel.deliver(wire)
        return len(allowed)


def _selected(raw: Any) -> frozenset[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise ValueError("select must be a list of column names")
    return frozenset(raw)


def _asked_for(channel: Channel, ids: list[int]) -> frozenset[str] | None:
    """Columns the matching bindings asked for; None (all) when one has no `select`."""
    asked: set[str] = set()
    for binding in channel.bindings:
        if binding.id in ids:
            if binding.select is None:
                return None
            asked |= binding.select
    return frozenset(asked)


def _only_columns(data: dict[str, Any], visible: frozenset[str]) -> dict[str, Any]:
    if all(column["name"] in visible for column in data["columns"]):
        return data
    narrowed = {**data, "columns": [c for c in data["columns"] if c["name"] in visible]}
    for field in ("record", "old_record"):
        if field in data:
            narrowed[field] = {k: v for k, v in data[field].items() if k in visible}
    return narrowed


def _typed(values: dict[str, str | None] | None, type_of: dict[str, str]) -> dict[str, Any] | None:
    if values is None:
        return None
    return {name: to_json(type_of.get(name, "text"), text) for name, text in values.items()}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
