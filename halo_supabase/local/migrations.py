"""Apply `supabase/migrations/` and `supabase/seed.sql` the way the Supabase CLI does.

Each migration runs in its own transaction with ``lock_timeout = 4s``, statement by statement, and
is recorded in ``supabase_migrations.schema_migrations (version, name, statements)``; a failure
rolls the whole file back and raises :class:`MigrationError` naming the file and line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from halo_supabase.errors import MigrationError
from halo_supabase.local.sql_script import Statement, line_of_position, split_statements

__all__ = [
    "MigrationFile",
    "MigrationPlan",
    "apply_migrations",
    "apply_script",
    "apply_seed",
    "discover_migrations",
    "plan_migrations",
    "seeded",
]

_MIGRATION_NAME = re.compile(r"^([0-9]+)_(.*)\.sql$")


@dataclass(frozen=True)
class MigrationFile:
    version: str
    name: str
    path: Path

    def statements(self) -> list[Statement]:
        return split_statements(self.path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class MigrationPlan:
    pending: list[MigrationFile]
    applied: list[str]
    missing_locally: list[str]  # versions in the history table with no file on disk
    skipped_files: list[Path]  # *.sql files whose names the CLI would not accept


def discover_migrations(directory: Path) -> tuple[list[MigrationFile], list[Path]]:
    """Migration files in version order, and the .sql files whose names do not fit."""
    found: list[MigrationFile] = []
    skipped: list[Path] = []
    if not directory.is_dir():
        return found, skipped
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if match is None:
            skipped.append(path)
            continue
        found.append(MigrationFile(match.group(1), match.group(2), path))
    versions = [m.version for m in found]
    duplicates = sorted({v for v in versions if versions.count(v) > 1})
    if duplicates:
        raise MigrationError(
            directory,
            0,
            f"two migration files share the version {', '.join(duplicates)}; rename one so each "
            "version is unique",
        )
    found.sort(key=lambda m: (int(m.version), m.version))
    return found, skipped


def _applied_versions(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    rows = conn.execute(
        "select version from supabase_migrations.schema_migrations order by version"
    ).fetchall()
    return [str(row[0]) for row in rows]


def plan_migrations(conn: psycopg.Connection[tuple[object, ...]], directory: Path) -> MigrationPlan:
    files, skipped = discover_migrations(directory)
    applied = _applied_versions(conn)
    applied_set = set(applied)
    on_disk = {m.version for m in files}
    return MigrationPlan(
        pending=[m for m in files if m.version not in applied_set],
        applied=applied,
        missing_locally=[v for v in applied if v not in on_disk],
        skipped_files=skipped,
    )


def apply_script(
    conn: psycopg.Connection[tuple[object, ...]], path: Path, statements: list[Statement]
) -> None:
    """Run `statements` inside the caller's transaction; errors name `path` and the line."""
    for statement in statements:
        try:
            conn.execute(statement.text.encode("utf-8"))
        except psycopg.Error as exc:
            diag = exc.diag
            position = int(diag.statement_position) if diag.statement_position else None
            line = line_of_position(statement, position)
            parts = [diag.message_primary or str(exc).strip()]
            if diag.sqlstate:
                parts[0] = f"{parts[0]} (SQLSTATE {diag.sqlstate})"
            if diag.message_detail:
                parts.append(f"DETAIL: {diag.message_detail}")
            if diag.message_hint:
                parts.append(f"HINT: {diag.message_hint}")
            if diag.context and not position:
                parts.append(f"CONTEXT: {diag.context.strip()}")
            raise MigrationError(path, line, "\n".join(parts)) from exc


def apply_migrations(
    db_url: str,
    directory: Path,
    *,
    on_applied: Callable[[MigrationFile], None] | None = None,
) -> list[MigrationFile]:
    """Apply every pending migration in order; returns those applied."""
    done: list[MigrationFile] = []
    with psycopg.connect(db_url, autocommit=True) as conn:
        for migration in plan_migrations(conn, directory).pending:
            statements = migration.statements()
            with conn.transaction():
                conn.execute("set local lock_timeout = '4s'")
                apply_script(conn, migration.path, statements)
                conn.execute(
                    "insert into supabase_migrations.schema_migrations (version, name, statements) "
                    "values (%s, %s, %s)",
                    (migration.version, migration.name, [s.text for s in statements]),
                )
                # A migration may `set role`; record its history as the migrating user.
                conn.execute("reset role")
            conn.execute("reset all")
            done.append(migration)
            if on_applied is not None:
                on_applied(migration)
    return done


def apply_seed(db_url: str, seed_path: Path, *, record_as: str = "supabase/seed.sql") -> bool:
    """Run the seed file in one transaction and record its hash; False when there is no file."""
    if not seed_path.is_file():
        return False
    text = seed_path.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with psycopg.connect(db_url, autocommit=True) as conn, conn.transaction():
        apply_script(conn, seed_path, split_statements(text))
        conn.execute("reset role")
        conn.execute(
            "insert into supabase_migrations.seed_files (path, hash) values (%s, %s) "
            "on conflict (path) do update set hash = excluded.hash",
            (record_as, digest),
        )
    return True


def seeded(db_url: str) -> bool:
    """Whether a seed has ever been applied to this database."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select exists (select 1 from supabase_migrations.seed_files)"
        ).fetchone()
    return bool(row and row[0])
