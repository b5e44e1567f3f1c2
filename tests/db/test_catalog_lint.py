"""Database lint: the project's schema is clean, and every check catches the mistake it names."""

from __future__ import annotations

import psycopg
import pytest

from halo_supabase.catalog_lint import CHECKS, lint

# One deliberately bad object per check, created in an otherwise empty (bootstrap-only) database.
MISTAKES: dict[str, tuple[str, str]] = {
    "table_without_rls": (
        "create table public.open_table (id int primary key)",
        "public.open_table",
    ),
    "policy_without_rls": (
        "create table public.forgot (id int primary key);"
        "alter table public.forgot enable row level security;"
        "create policy p on public.forgot for select using (true);"
        "alter table public.forgot disable row level security",
        "public.forgot: p",
    ),
    "security_definer_without_search_path": (
        "create schema private;"
        "create function private.leaky() returns int language sql security definer as 'select 1'",
        "private.leaky()",
    ),
    "unwrapped_auth_function_in_policy": (
        "create table public.notes (owner uuid primary key);"
        "alter table public.notes enable row level security;"
        "create policy own on public.notes for select using (owner = auth.uid())",
        "public.notes: own",
    ),
    "foreign_key_without_index": (
        "create table public.parent (id int primary key);"
        "alter table public.parent enable row level security;"
        "create table public.child (id int primary key, parent_id int references public.parent);"
        "alter table public.child enable row level security",
        "public.child: child_parent_id_fkey",
    ),
    "function_executable_by_public": (
        "create schema api;"
        "create function api.for_everyone() returns int language sql as 'select 1'",
        "api.for_everyone()",
    ),
    "multiple_permissive_policies": (
        "create table public.doubled (id int primary key);"
        "alter table public.doubled enable row level security;"
        "create policy a on public.doubled for select to authenticated using (id > 0);"
        "create policy b on public.doubled for select to authenticated using (id < 0)",
        "public.doubled: SELECT for authenticated",
    ),
    "security_definer_function_in_exposed_schema": (
        "create schema api;"
        "create function api.with_owner_rights() returns int language sql security definer "
        "set search_path = '' as 'select 1';"
        "revoke execute on function api.with_owner_rights() from public",
        "api.with_owner_rights()",
    ),
    "security_definer_view": (
        "create view public.owner_rights as select 1 as one",
        "public.owner_rights",
    ),
}


def test_every_check_has_a_deliberate_mistake() -> None:
    assert sorted(MISTAKES) == sorted(CHECKS)


def test_project_schema_has_no_findings(project_db: str) -> None:
    with psycopg.connect(project_db) as conn:
        findings = lint(conn)
    assert findings == [], "\n".join(map(str, findings))


def test_a_clean_bootstrap_has_no_findings(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn:
        assert lint(conn) == []


@pytest.mark.parametrize("check", sorted(MISTAKES))
def test_each_check_catches_its_mistake(fresh_db: str, check: str) -> None:
    ddl, offender = MISTAKES[check]
    with psycopg.connect(fresh_db) as conn:
        conn.execute(ddl.encode("utf-8"))
        findings = {(f.check, f.object) for f in lint(conn)}
        conn.rollback()
    assert (check, offender) in findings
    # Nothing collateral: each fixture breaks only its rule (a policy on a table without RLS is,
    # by definition, also a table without RLS).
    also = {"table_without_rls"} if check == "policy_without_rls" else set()
    assert {c for c, _ in findings} == {check} | also


def test_wrapped_auth_calls_and_indexed_foreign_keys_pass(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn:
        conn.execute(
            b"create table public.parent (id int primary key);"
            b"alter table public.parent enable row level security;"
            b"create table public.child (id int primary key,"
            b" parent_id int references public.parent, owner uuid);"
            b"create index on public.child (parent_id, id);"
            b"alter table public.child enable row level security;"
            b"create policy own on public.child for select using (owner = (select auth.uid()));"
            b"create schema private;"
            b"create function private.safe() returns int language sql security definer"
            b" set search_path = '' as 'select 1';"
            b"create view public.invoker with (security_invoker = true) as select 1 as one"
        )
        assert lint(conn) == []
        conn.rollback()


def test_every_api_view_and_function_is_described(project_db: str) -> None:
    """PostgREST's OpenAPI document and the Supabase dashboard show these comments to clients."""
    with psycopg.connect(project_db) as conn:
        undescribed = conn.execute(
            "select p.oid::regprocedure::text from pg_proc p "
            "where p.pronamespace = 'api'::regnamespace "
            "  and coalesce(obj_description(p.oid, 'pg_proc'), '') = '' "
            "union all "
            "select c.oid::regclass::text from pg_class c "
            "where c.relnamespace = 'api'::regnamespace and c.relkind = 'v' "
            "  and coalesce(obj_description(c.oid, 'pg_class'), '') = '' "
            "order by 1"
        ).fetchall()
    assert undescribed == [], "add `comment on` for: " + ", ".join(r[0] for r in undescribed)
