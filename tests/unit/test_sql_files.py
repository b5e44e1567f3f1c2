"""The one loader of the package's `.sql` files, and the rule it serves: no DDL in Python."""

from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path

import pytest

from halo_supabase.sql_files import load_queries, load_script
from tests.conftest import REPO


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """An importable package with an empty `sql/` folder: (its name, that folder)."""
    name = f"sql_probe_{uuid.uuid4().hex[:8]}"
    (tmp_path / name / "sql").mkdir(parents=True)
    (tmp_path / name / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name, tmp_path / name / "sql"


def test_named_statements_come_back_by_name_in_file_order(package: tuple[str, Path]) -> None:
    name, folder = package
    (folder / "things.sql").write_text(
        "-- What this file is for.\n\n"
        "-- name: second_thing\n-- Why it is written so.\nselect 2\n\n"
        "-- name: first_thing\nselect 1;\nselect 11\n"
    )
    assert load_queries(name, "things.sql") == {
        "second_thing": "-- Why it is written so.\nselect 2",
        "first_thing": "select 1;\nselect 11",
    }
    assert list(load_queries(name, "things.sql")) == ["second_thing", "first_thing"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("select 0;\n-- name: a\nselect 1\n", "SQL above the first `-- name:` line"),
        ("-- name: a\nselect 1\n-- name: a\nselect 2\n", "named twice"),
        ("-- name: Bad-Name\nselect 1\n", "not a lower-case identifier"),
        ("-- name: a\n\n-- name: b\nselect 1\n", "'a' is empty"),
    ],
)
def test_a_file_that_would_lose_or_confuse_a_statement_is_refused(
    package: tuple[str, Path], text: str, problem: str
) -> None:
    name, folder = package
    (folder / "broken.sql").write_text(text)
    with pytest.raises(ValueError, match=re.escape(problem)) as refused:
        load_queries(name, "broken.sql")
    assert f"{name}/sql/broken.sql" in str(refused.value)


def test_a_script_comes_back_whole(package: tuple[str, Path]) -> None:
    name, folder = package
    (folder / "schema.sql").write_text("create schema s;\ncreate table s.t (id int);\n")
    assert load_script(name, "schema.sql") == "create schema s;\ncreate table s.t (id int);\n"


_DDL = re.compile(
    r"\b(create|alter|drop)\s+(or\s+replace\s+)?(unique\s+)?"
    r"(table|index|function|procedure|schema|role|extension|view|policy|trigger|publication|"
    r"type|domain|sequence|database)\b|\b(grant|revoke)\s+\w+(\s*,\s*\w+)*\s+on\b",
    re.IGNORECASE,
)


def _strings(path: Path) -> list[tuple[int, str]]:
    """String constants (f-string parts joined) of a module, without its docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
            found.append((node.lineno, " ".join(str(p) for p in parts)))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            found.append((node.lineno, node.value))
    return found


def test_no_python_module_of_the_package_or_the_workers_holds_ddl() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{line}"
        for folder in ("halo_supabase", "workers")
        for path in sorted((REPO / folder).rglob("*.py"))
        for line, text in _strings(path)
        if _DDL.search(text)
    ]
    assert offenders == [], (
        f"DDL in Python strings at {offenders}: move it to a .sql file in the module's sql/ "
        "folder and read it with halo_supabase.sql_files"
    )
