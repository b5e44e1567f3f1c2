"""Migrations as the Supabase CLI applies them: order, history, whole-file rollback, errors."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from halo_supabase.errors import MigrationError
from halo_supabase.local.migrations import apply_migrations, apply_seed, plan_migrations
from halo_supabase.local.sql_script import split_statements


def write(directory: Path, name: str, sql: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(sql)
    return path


def history(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select version, name, statements from supabase_migrations.schema_migrations "
            "order by version"
        ).fetchall()


def table_exists(url: str, name: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()
    return bool(row and row[0])


def test_applies_in_version_order_and_records_history(fresh_db: str, tmp_path: Path) -> None:
    second = write(
        tmp_path, "20240102000000_add_column.sql", "alter table public.things add column b int;"
    )
    first = write(
        tmp_path,
        "20240101000000_create_things.sql",
        "-- things\ncreate table public.things (a int);\ninsert into public.things values (1);\n",
    )
    applied = apply_migrations(fresh_db, tmp_path)
    assert [m.path for m in applied] == [first, second]
    assert history(fresh_db) == [
        (
            "20240101000000",
            "create_things",
            [
                "-- things\ncreate table public.things (a int)",
                "insert into public.things values (1)",
            ],
        ),
        ("20240102000000", "add_column", ["alter table public.things add column b int"]),
    ]
    assert [s.text for s in split_statements(first.read_text())] == history(fresh_db)[0][2]


def test_migrate_applies_only_new_files(fresh_db: str, tmp_path: Path) -> None:
    write(tmp_path, "20240101000000_one.sql", "create table public.one (a int);")
    assert len(apply_migrations(fresh_db, tmp_path)) == 1
    assert apply_migrations(fresh_db, tmp_path) == []
    write(tmp_path, "20240103000000_two.sql", "create table public.two (a int);")
    assert [m.name for m in apply_migrations(fresh_db, tmp_path)] == ["two"]


def test_failed_migration_rolls_back_whole_and_names_file_and_line(
    fresh_db: str, tmp_path: Path
) -> None:
    write(tmp_path, "20240101000000_good.sql", "create table public.good (a int);")
    bad = write(
        tmp_path,
        "20240102000000_bad.sql",
        "create table public.half_done (a int);\n"
        "insert into public.half_done values (1);\n"
        "\n"
        "select a,\n"
        "       no_such_column\n"
        "  from public.half_done;\n",
    )
    write(tmp_path, "20240103000000_after.sql", "create table public.after (a int);")
    with pytest.raises(MigrationError) as caught:
        apply_migrations(fresh_db, tmp_path)
    error = caught.value
    assert error.path == bad
    assert error.line == 5
    assert f"{bad}:5:" in str(error)
    assert 'column "no_such_column" does not exist' in str(error)
    assert "rolled back whole" in str(error)
    assert table_exists(fresh_db, "public.good")
    assert not table_exists(fresh_db, "public.half_done")
    assert not table_exists(fresh_db, "public.after")
    assert [row[0] for row in history(fresh_db)] == ["20240101000000"]


def test_error_inside_a_function_body_points_at_the_statement(
    fresh_db: str, tmp_path: Path
) -> None:
    bad = write(
        tmp_path,
        "20240101000000_fn.sql",
        "select 1;\ndo $$\nbegin\n  perform 1 / 0;\nend\n$$;\n",
    )
    with pytest.raises(MigrationError) as caught:
        apply_migrations(fresh_db, tmp_path)
    assert caught.value.path == bad
    assert caught.value.line == 2
    assert "division by zero" in str(caught.value)
    assert "CONTEXT" in str(caught.value)


def test_lock_timeout_protects_against_a_stuck_lock(fresh_db: str, tmp_path: Path) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as setup:
        setup.execute("create table public.busy (a int)")
    write(tmp_path, "20240101000000_alter_busy.sql", "alter table public.busy add column b int;")
    with psycopg.connect(fresh_db) as holder:
        holder.execute("lock table public.busy in access exclusive mode")
        with pytest.raises(MigrationError, match="lock timeout"):
            apply_migrations(fresh_db, tmp_path)
    assert history(fresh_db) == []


def test_plan_reports_pending_missing_and_misnamed(fresh_db: str, tmp_path: Path) -> None:
    write(tmp_path, "20240101000000_one.sql", "select 1;")
    apply_migrations(fresh_db, tmp_path)
    (tmp_path / "20240101000000_one.sql").unlink()
    write(tmp_path, "20240105000000_five.sql", "select 5;")
    write(tmp_path, "notes.sql", "select 0;")
    with psycopg.connect(fresh_db) as conn:
        plan = plan_migrations(conn, tmp_path)
    assert [m.version for m in plan.pending] == ["20240105000000"]
    assert plan.missing_locally == ["20240101000000"]
    assert [p.name for p in plan.skipped_files] == ["notes.sql"]


def test_duplicate_versions_are_refused(fresh_db: str, tmp_path: Path) -> None:
    write(tmp_path, "20240101000000_a.sql", "select 1;")
    write(tmp_path, "20240101000000_b.sql", "select 2;")
    with pytest.raises(MigrationError, match="share the version 20240101000000"):
        apply_migrations(fresh_db, tmp_path)


def test_seed_runs_whole_or_not_at_all_and_records_its_hash(fresh_db: str, tmp_path: Path) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("create table public.seeded (a int)")
    bad = write(
        tmp_path,
        "seed.sql",
        "insert into public.seeded values (1);\ninsert into nowhere values (2);\n",
    )
    with pytest.raises(MigrationError) as caught:
        apply_seed(fresh_db, bad)
    assert caught.value.line == 2
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*) from public.seeded").fetchone() == (0,)
    bad.write_text("insert into public.seeded values (1);\n")
    assert apply_seed(fresh_db, bad) is True
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*) from public.seeded").fetchone() == (1,)
        rows = conn.execute(
            "select path, length(hash) from supabase_migrations.seed_files"
        ).fetchall()
    assert rows == [("supabase/seed.sql", 64)]
    assert apply_seed(fresh_db, tmp_path / "absent.sql") is False


def test_bootstrap_is_idempotent(fresh_db: str) -> None:
    from halo_supabase.local.bootstrap import apply_bootstrap

    apply_bootstrap(fresh_db)
    apply_bootstrap(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute(
            "select count(*) from pg_publication where pubname = 'supabase_realtime'"
        ).fetchone() == (1,)
