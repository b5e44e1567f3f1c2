"""Apply the Supabase bootstrap (roles, auth/realtime/storage objects, grants) to a database."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import psycopg

from halo_supabase.local.migrations import apply_script
from halo_supabase.local.sql_script import split_statements

__all__ = ["BOOTSTRAP_SQL", "apply_bootstrap"]

BOOTSTRAP_SQL = "sql/bootstrap.sql"


def apply_bootstrap(db_url: str) -> None:
    """Create or update what the Supabase Postgres image provides; safe to run repeatedly."""
    source = resources.files("halo_supabase.local").joinpath(BOOTSTRAP_SQL)
    text = source.read_text(encoding="utf-8")
    with psycopg.connect(db_url, autocommit=True) as conn, conn.transaction():
        # Concurrent bootstraps (two `halo` commands at once) would race on role creation.
        conn.execute("select pg_advisory_xact_lock(hashtext('halo.bootstrap'))")
        apply_script(conn, Path(str(source)), split_statements(text))
