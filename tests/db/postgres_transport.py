"""HaloClient whose RPCs run in PostgreSQL directly, the way PostgREST runs them: named
arguments, role and JWT claims, composite -> object, setof -> array. For database tests of the
client's contract with the SQL functions, without the REST gateway."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from halo_supabase.client import HaloClient
from tests.conftest import as_user
from tests.db.demo import claims

__all__ = ["PostgresTransport"]

Conn = psycopg.Connection[tuple[object, ...]]


class PostgresTransport(HaloClient):
    """HaloClient whose RPCs run in PostgreSQL directly, as PostgREST would run them."""

    def __init__(self, conn: Conn, role: str, user: str | None) -> None:
        self.conn, self.role, self.user = conn, role, user
        self.called: list[str] = []

    async def _rpc(self, function: str, params: dict[str, object]) -> Any:
        self.called.append(function)
        signature = self.conn.execute(
            "select p.proretset, p.proargnames, array(select format_type(t, null)"
            " from unnest(p.proargtypes) t), p.prorettype = 'void'::regtype"
            " from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = 'api' and p.proname = %s",
            (function,),
        ).fetchone()
        assert signature is not None, f"api.{function} does not exist"
        returns_set, names, types, void = signature
        assert isinstance(names, list) and isinstance(types, list)
        placeholders, values = [], []
        for name, value in params.items():
            assert name in names, f"api.{function} has no parameter {name}"
            sql_type = types[names.index(name)]
            placeholders.append(f"{name} => %s::{sql_type}")
            values.append(Jsonb(value) if sql_type == "jsonb" else _plain(value))
        call = f"api.{function}({', '.join(placeholders)})"
        query = (
            f"select coalesce(jsonb_agg(to_jsonb(r)), '[]') from {call} r"
            if returns_set
            else f"select to_jsonb({call})"
        )
        with self.conn.transaction():
            as_user(self.conn, self.role, claims(self.user) if self.user else {"role": self.role})
            row = self.conn.execute(query, values).fetchone()
        return None if void else row[0] if row else None


def _plain(value: object) -> object:
    """Client-side JSON values as psycopg parameters (strings, numbers, lists)."""
    return json.loads(json.dumps(value)) if isinstance(value, list) else value
