"""Run the pgTAP files in `supabase/tests/` against a database, as `supabase test db` does.

Files are found the way the Supabase CLI's `pg_prove --ext .pg --ext .sql -r supabase/tests`
finds them; each runs through psql and its TAP output is read here, so no Perl is needed.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from halo_supabase.errors import DatabaseTestError
from halo_supabase.local.postgres import PostgresBinaries
from halo_supabase.sql_files import load_queries

__all__ = ["TapResult", "discover_test_files", "ensure_pgtap", "run_test_file"]

_RESULT = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$")
_PLAN = re.compile(r"^1\.\.(\d+)")
_SQL = load_queries("halo_supabase.local", "pgtap.sql")


@dataclass
class TapResult:
    path: Path
    planned: int | None = None
    passed: int = 0
    failures: list[str] = field(default_factory=list)
    error: str = ""
    output: str = ""

    @property
    def ok(self) -> bool:
        ran = self.passed + len(self.failures)
        return (
            not self.error
            and not self.failures
            and self.planned is not None
            and self.planned == ran
            and ran > 0
        )

    def summary(self) -> str:
        if self.error:
            return f"{self.path}: psql failed: {self.error}"
        ran = self.passed + len(self.failures)
        lines = [f"{self.path}: {self.passed}/{self.planned} passed"]
        if self.planned != ran:
            lines.append(f"  planned {self.planned} tests but ran {ran}")
        lines += [f"  not ok {failure}" for failure in self.failures]
        return "\n".join(lines)


def discover_test_files(tests_dir: Path) -> list[Path]:
    if not tests_dir.is_dir():
        return []
    return sorted(p for p in tests_dir.rglob("*") if p.suffix in (".sql", ".pg") and p.is_file())


def ensure_pgtap(db_url: str, binaries: PostgresBinaries) -> None:
    """Create the pgtap extension in `extensions`, or say how to install it."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        available = conn.execute(_SQL["pgtap_available"]).fetchone()
        if not available or not available[0]:
            major = binaries.major_version
            raise DatabaseTestError(
                f"pgTAP is not installed for PostgreSQL {major} ({binaries.bindir}). As root: "
                f"`apt-get install postgresql-{major}-pgtap` (`make test` does this), or set "
                "HALO_POSTGRES_BINARIES=system to use a PostgreSQL that has it."
            )
        conn.execute(_SQL["create_pgtap"])


def run_test_file(path: Path, db_url: str, binaries: PostgresBinaries) -> TapResult:
    psql = binaries.tool("psql")
    if not psql.exists():
        raise DatabaseTestError(
            f"psql is missing from {binaries.bindir}; install postgresql-client"
        )
    done = subprocess.run(
        [str(psql), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db_url, "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PGOPTIONS": "--client-min-messages=warning"},
    )
    result = TapResult(path=path, output=done.stdout)
    for raw in done.stdout.splitlines():
        line = raw.strip()
        if plan := _PLAN.match(line):
            result.planned = int(plan.group(1))
        elif outcome := _RESULT.match(line):
            if outcome.group(1) == "ok":
                result.passed += 1
            else:
                result.failures.append(f"{outcome.group(2) or '?'} - {outcome.group(3)}")
    if done.returncode != 0:
        result.error = done.stderr.strip() or f"exit code {done.returncode}"
    return result
