"""The declared schema (`supabase/schemas/`) and its drift from the migrations.

`supabase/schemas/` holds the current schema, one file per concept, applied in the order that
`supabase/config.toml` lists under ``[db.migrations] schema_paths`` (the Supabase CLI's own
setting). Migrations are history: a baseline rendered from the schema files, then differences.
`drift` compares the catalogs of a database built from each, as ``pg_dump --schema-only`` prints
them entry by entry (tables, columns, constraints, indexes, functions with their bodies, views,
triggers, policies, grants, comments, publications), and names every entry that differs.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg

from halo_supabase.errors import MigrationError
from halo_supabase.local.bootstrap import apply_bootstrap
from halo_supabase.local.migrations import apply_migrations, apply_script
from halo_supabase.local.postgres import LocalCluster
from halo_supabase.local.sql_script import split_statements

__all__ = [
    "Difference",
    "apply_declared_schema",
    "catalog_entries",
    "drift",
    "drift_in_cluster",
    "render_baseline",
    "schema_files",
]

# `-- Name: tickets; Type: TABLE; Schema: halo; Owner: postgres`
_ENTRY_HEADER = re.compile(r"^-- Name: (.+?); Type: (.+?); Schema: (.+?); Owner: .*$", re.M)
# Schemas whose contents are not the project's declared schema: the CLI's migration history.
_NOT_DECLARED = ("supabase_migrations",)


def schema_files(supabase_dir: Path) -> list[Path]:
    """The schema files in the order `config.toml` lists them; every file in the folder is listed."""
    config = tomllib.loads((supabase_dir / "config.toml").read_text("utf-8"))
    listed = config.get("db", {}).get("migrations", {}).get("schema_paths", [])
    files = [(supabase_dir / entry).resolve() for entry in listed]
    on_disk = {p.resolve() for p in (supabase_dir / "schemas").glob("*.sql")}
    missing = sorted(str(p) for p in files if p not in on_disk)
    unlisted = sorted(str(p) for p in on_disk - set(files))
    if missing or unlisted:
        problems = [f"listed but missing: {', '.join(missing)}"] if missing else []
        problems += [f"not listed: {', '.join(unlisted)}"] if unlisted else []
        raise MigrationError(
            supabase_dir / "config.toml",
            0,
            "[db.migrations] schema_paths must list every file of supabase/schemas/ once, in "
            "dependency order; " + "; ".join(problems),
        )
    return files


def apply_declared_schema(db_url: str, supabase_dir: Path) -> list[Path]:
    """Build the schema from `supabase/schemas/` in one transaction; returns the files applied."""
    files = schema_files(supabase_dir)
    with psycopg.connect(db_url) as conn:
        for path in files:
            apply_script(conn, path, split_statements(path.read_text("utf-8")))
    return files


def render_baseline(supabase_dir: Path) -> str:
    """The schema files joined in order: the text of a baseline migration."""
    parts = [
        "-- Baseline: the schema of supabase/schemas/ as of this migration, file by file.\n"
        "-- Later migrations hold only differences; tests/db/test_schema_drift.py keeps both equal.\n"
    ]
    for path in schema_files(supabase_dir):
        name = path.relative_to(supabase_dir.resolve())
        parts.append(f"\n-- {'=' * 96}\n-- {name}\n-- {'=' * 96}\n\n{path.read_text('utf-8')}")
    return "".join(parts)


def catalog_entries(db_url: str, pg_dump: Path) -> dict[str, str]:
    """`pg_dump --schema-only` of the database, split into its entries by name and type."""
    url = urlsplit(db_url)
    command = [
        str(pg_dump),
        "--schema-only",
        "--no-owner",
        *(f"--exclude-schema={schema}" for schema in _NOT_DECLARED),
        "--host",
        url.hostname or "127.0.0.1",
        "--port",
        str(url.port or 5432),
        "--username",
        unquote(url.username or "postgres"),
        "--dbname",
        url.path.lstrip("/"),
    ]
    env = {"PGPASSWORD": unquote(url.password or ""), "PGCONNECT_TIMEOUT": "10"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump failed ({done.returncode}): {done.stderr.strip()}")
    headers = list(_ENTRY_HEADER.finditer(done.stdout))
    entries: dict[str, str] = {}
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(done.stdout)
        name, kind, schema = header.groups()
        body = done.stdout[header.end() : end]
        # Drop pg_dump's separators and its per-run `\restrict` key; keep the definition.
        lines = [
            line
            for line in body.splitlines()
            if line.strip() and line != "--" and not line.startswith(("\\restrict", "\\unrestrict"))
        ]
        entries[f"{kind} {schema}.{name}" if schema != "-" else f"{kind} {name}"] = "\n".join(lines)
    return entries


@dataclass(frozen=True)
class Difference:
    """One catalog entry that is not the same in the two databases."""

    entry: str  # e.g. "FUNCTION api.create_ticket(uuid, text)"
    where: str  # "only in schemas", "only in migrations" or "differs"
    detail: str

    def __str__(self) -> str:
        return f"{self.entry}: {self.where}" + (f"\n{self.detail}" if self.detail else "")


def drift(schemas_url: str, migrations_url: str, pg_dump: Path) -> list[Difference]:
    """Every entry that differs between a database built from schemas and one from migrations."""
    declared = catalog_entries(schemas_url, pg_dump)
    migrated = catalog_entries(migrations_url, pg_dump)
    found: list[Difference] = []
    for entry in sorted(declared.keys() | migrated.keys()):
        if entry not in migrated:
            found.append(Difference(entry, "only in schemas", ""))
        elif entry not in declared:
            found.append(Difference(entry, "only in migrations", ""))
        elif declared[entry] != migrated[entry]:
            diff = difflib.unified_diff(
                migrated[entry].splitlines(),
                declared[entry].splitlines(),
                "migrations",
                "schemas",
                n=1,
                lineterm="",
            )
            found.append(Difference(entry, "differs", "\n".join(list(diff)[:40])))
    return found


def drift_in_cluster(cluster: LocalCluster, supabase_dir: Path) -> list[Difference]:
    """Build both databases as scratch databases of a running cluster, compare them, drop them."""
    names = ("halo_drift_schemas", "halo_drift_migrations")
    try:
        for name in names:
            cluster.recreate_database(name)
            apply_bootstrap(cluster.url(name))
        apply_declared_schema(cluster.url(names[0]), supabase_dir)
        apply_migrations(cluster.url(names[1]), supabase_dir / "migrations")
        return drift(cluster.url(names[0]), cluster.url(names[1]), cluster.binaries.tool("pg_dump"))
    finally:
        for name in names:
            cluster.drop_database(name)
