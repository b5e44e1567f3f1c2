"""Apply the Supabase bootstrap (roles, auth/realtime/storage objects, grants) to a database."""

from __future__ import annotations

from pathlib import Path

import psycopg

from halo_supabase.local.migrations import apply_script
from halo_supabase.local.sql_script import split_statements
from halo_supabase.sql_files import load_script, sql_resource

__all__ = ["BOOTSTRAP_SQL", "apply_bootstrap"]

BOOTSTRAP_SQL = "bootstrap.sql"


def apply_bootstrap(db_url: str) -> None:
    """Create or update what the Supabase Postgres image provides; safe to run repeatedly."""
    statements = split_statements(load_script("halo_supabase.local", BOOTSTRAP_SQL))
    with psycopg.connect(db_url, autocommit=True) as conn, conn.transaction():
        # Concurrent bootstraps (two `halo` commands at once) would race on role creation.
        conn.execute("select pg_advisory_xact_lock(hashtext('halo.bootstrap'))")
        source = Path(str(sql_resource("halo_supabase.local", BOOTSTRAP_SQL)))
        apply_script(conn, source, statements)
