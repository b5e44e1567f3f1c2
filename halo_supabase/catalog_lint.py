"""Database lint: the Supabase linter's security and index rules, checked against the catalog.

Runs the query in `sql/catalog_lint.sql` on any database (local or hosted) and returns one
finding per offending object. The test suite requires zero findings for the project's schema.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from halo_supabase.sql_files import load_script

__all__ = ["CHECKS", "Finding", "lint"]

CHECKS = (
    "foreign_key_without_index",
    "function_executable_by_public",
    "multiple_permissive_policies",
    "policy_without_rls",
    "security_definer_function_in_exposed_schema",
    "security_definer_view",
    "security_definer_without_search_path",
    "table_without_rls",
    "unwrapped_auth_function_in_policy",
)


@dataclass(frozen=True)
class Finding:
    """One object that breaks one rule."""

    check: str
    object: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.object} ({self.detail})"


def lint(conn: psycopg.Connection[tuple[object, ...]]) -> list[Finding]:
    """Every finding in the database `conn` is connected to, ordered by check and object."""
    query = load_script("halo_supabase", "catalog_lint.sql")
    rows = conn.execute(query.encode("utf-8")).fetchall()
    return [Finding(str(check), str(obj), str(detail)) for check, obj, detail in rows]
