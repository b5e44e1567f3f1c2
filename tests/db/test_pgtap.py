"""The pgTAP files in supabase/tests (what `supabase test db` runs), and the runner itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from halo_supabase.local.pgtap import discover_test_files, ensure_pgtap, run_test_file
from halo_supabase.local.postgres import PostgresBinaries

REPO = Path(__file__).resolve().parent.parent.parent
PGTAP_FILES = discover_test_files(REPO / "supabase" / "tests")


def test_there_are_database_tests() -> None:
    assert PGTAP_FILES, "supabase/tests has no pgTAP files"


@pytest.mark.parametrize("path", PGTAP_FILES, ids=lambda p: p.name)
def test_pgtap_file_passes(path: Path, project_db: str, binaries: PostgresBinaries) -> None:
    ensure_pgtap(project_db, binaries)
    result = run_test_file(path, project_db, binaries)
    assert result.ok, result.summary() + "\n" + result.output


def test_runner_reports_failures_and_plan_mismatches(
    fresh_db: str, binaries: PostgresBinaries, tmp_path: Path
) -> None:
    ensure_pgtap(fresh_db, binaries)
    failing = tmp_path / "failing.test.sql"
    failing.write_text(
        "begin; select plan(3);\n"
        "select ok(true, 'fine');\n"
        "select is(1, 2, 'one is two');\n"
        "select * from finish(); rollback;\n"
    )
    result = run_test_file(failing, fresh_db, binaries)
    assert not result.ok
    assert result.passed == 1
    assert result.failures == ["2 - one is two"]
    assert "planned 3 tests but ran 2" in result.summary()


def test_runner_reports_sql_errors(
    fresh_db: str, binaries: PostgresBinaries, tmp_path: Path
) -> None:
    ensure_pgtap(fresh_db, binaries)
    broken = tmp_path / "broken.test.sql"
    broken.write_text("begin; select plan(1);\nselect ok(no_such_function());\nrollback;\n")
    result = run_test_file(broken, fresh_db, binaries)
    assert not result.ok
    assert "no_such_function" in result.error
