"""The declared schema and the migrations build the same database (procrastinate's check).

One database is built from `supabase/schemas/` in `config.toml`'s order, one from
`supabase/migrations/`; their catalogs (pg_dump's entries: tables, columns, constraints,
indexes, functions with bodies, views, triggers, policies, grants, comments, publications) must
be equal. A change is made in the schema file and a migration carries only the difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from halo_supabase.errors import MigrationError
from halo_supabase.local.bootstrap import apply_bootstrap
from halo_supabase.local.declared_schema import (
    apply_declared_schema,
    drift,
    drift_in_cluster,
    render_baseline,
    schema_files,
)
from halo_supabase.local.migrations import apply_migrations, discover_migrations
from halo_supabase.local.postgres import LocalCluster, PostgresBinaries
from tests.conftest import REPO, _create_database

SUPABASE = REPO / "supabase"


@pytest.fixture(scope="module")
def migrated(cluster: LocalCluster) -> Iterator[str]:
    """URL of a database built from the migrations."""
    name = _create_database(cluster, "migrated")
    url = cluster.url(name)
    apply_bootstrap(url)
    apply_migrations(url, SUPABASE / "migrations")
    yield url
    cluster.drop_database(name)


def test_schemas_and_migrations_build_the_same_catalog(cluster: LocalCluster) -> None:
    differences = drift_in_cluster(cluster, SUPABASE)
    assert not differences, (
        "supabase/schemas/ and supabase/migrations/ disagree; change the schema file and add a "
        "migration with only the difference:\n\n" + "\n\n".join(map(str, differences))
    )


def test_a_changed_function_is_named_with_its_changed_line(
    migrated: str, binaries: PostgresBinaries, cluster: LocalCluster
) -> None:
    """The control: the check fails, and says where, when a function body and an index differ."""
    name = _create_database(cluster, "changed")
    changed = cluster.url(name)
    try:
        apply_bootstrap(changed)
        apply_declared_schema(changed, SUPABASE)
        with psycopg.connect(changed, autocommit=True) as conn:
            conn.execute(
                "create or replace function halo.builtin_views() returns text[] "
                "language sql immutable set search_path = '' as $$ select '{}'::text[] $$"
            )
            conn.execute("create index drift_probe_idx on halo.tickets (created_at)")
        differences = drift(changed, migrated, binaries.tool("pg_dump"))
    finally:
        cluster.drop_database(name)
    by_entry = {d.entry: d for d in differences}
    assert set(by_entry) == {
        "FUNCTION halo.builtin_views()",
        "INDEX halo.drift_probe_idx",
    }, differences
    assert by_entry["FUNCTION halo.builtin_views()"].where == "differs"
    assert "+    AS $$ select '{}'::text[] $$;" in by_entry["FUNCTION halo.builtin_views()"].detail
    assert by_entry["INDEX halo.drift_probe_idx"].where == "only in schemas"


def test_every_schema_file_is_listed_once_in_config_order() -> None:
    files = schema_files(SUPABASE)
    assert sorted(files) == sorted(p.resolve() for p in (SUPABASE / "schemas").glob("*.sql"))
    assert len(set(files)) == len(files)
    assert files[0].name == "schemas.sql"


def test_an_unlisted_schema_file_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "a.sql").write_text("select 1;")
    (tmp_path / "schemas" / "b.sql").write_text("select 1;")
    (tmp_path / "config.toml").write_text('[db.migrations]\nschema_paths = ["./schemas/a.sql"]\n')
    with pytest.raises(MigrationError, match=r"not listed: .*b\.sql"):
        schema_files(tmp_path)


def test_the_baseline_migration_is_the_schema_files_of_its_day() -> None:
    """The first migration is the rendered schema; later ones are differences."""
    migrations, skipped = discover_migrations(SUPABASE / "migrations")
    assert not skipped
    baseline = migrations[0]
    assert baseline.name == "baseline"
    if len(migrations) == 1:
        assert baseline.path.read_text("utf-8") == render_baseline(SUPABASE)
