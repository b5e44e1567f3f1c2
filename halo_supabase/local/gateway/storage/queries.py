"""Storage's SQL statements, by name, from `sql/storage.sql`."""

from __future__ import annotations

from halo_supabase.sql_files import load_queries

__all__ = ["QUERIES"]

QUERIES = load_queries("halo_supabase.local.gateway.storage", "storage.sql")
