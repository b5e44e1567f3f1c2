"""Every repository path the docs name exists.

README.md, ARCHITECTURE.md and docs/**/*.md name files in two ways: inside backticks
(`supabase/schemas/tickets.sql`, also as a word of a command such as `pytest tests/unit`) and as
markdown link targets (`[x](decisions/0001-declared-schema.md)`, relative to the doc). A word in
backticks counts as a path only when it starts with one of the repository's top-level folders or
is one of its top-level files, so URLs, `api.tickets`, `workspace:<id>` and commands are left
alone; a pytest node id or a `:line` suffix names its file. In a fenced block every word of a
line that starts at the margin is read the same way (indented lines of a layout tree are relative
to the folder above them, so they are not read). `<placeholder>` and `*` make a pattern, which must
match at least one path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

ROOT_FOLDERS = (
    ".ci/",
    "dashboard/",
    "docs/",
    "halo_supabase/",
    "scripts/",
    "supabase/",
    "tests/",
    "typings/",
    "workers/",
)
ROOT_FILES = frozenset(
    {".env.example", "ARCHITECTURE.md", "Makefile", "README.md", "pyproject.toml"}
)
# Written at run time and gitignored, so absent from a fresh checkout; the docs must name them.
GENERATED = frozenset({"supabase/functions/.env"})

CODE_SPAN = re.compile(r"(`+)(.+?)\1")
LINK_TARGET = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")
PLACEHOLDER = re.compile(r"<[^<>/]*>")
LOCATION = re.compile(r"(::\S*|:\d+)$")
# Punctuation a sentence or a command puts around a path.
EDGE = "\"'.,;:()[]{}"


@dataclass(frozen=True)
class NamedPath:
    """A path a doc names: the doc, the line, the path relative to the repository."""

    doc: str
    line: int
    path: str
    relative_to_doc: bool = False


def _as_repo_path(word: str) -> str | None:
    """The repository path a word in backticks names, or None when it is not one."""
    word = word.strip(EDGE)
    if "://" in word or word.startswith("/"):
        return None
    if word in ROOT_FILES:
        return word
    if word.startswith(ROOT_FOLDERS):
        return LOCATION.sub("", word.split("#", 1)[0])
    return None


def named_paths(text: str, doc: str) -> list[NamedPath]:
    """The repository paths a markdown text names, in order, with their line numbers."""
    found: list[NamedPath] = []
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            spans = [] if line[:1].isspace() else [line]
        else:
            spans = [m.group(2) for m in CODE_SPAN.finditer(line)]
        for span in spans:
            for word in span.split():
                path = _as_repo_path(word)
                if path:
                    found.append(NamedPath(doc, number, path))
        if in_fence:
            continue
        outside_code = CODE_SPAN.sub("", line)
        for match in LINK_TARGET.finditer(outside_code):
            target = match.group(1).split("#", 1)[0]
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # an anchor in the same doc, or a URL / mailto:
            found.append(NamedPath(doc, number, target, relative_to_doc=True))
    return found


def _exists(named: NamedPath, root: Path) -> bool:
    base = (root / named.doc).parent if named.relative_to_doc else root
    pattern = PLACEHOLDER.sub("*", named.path).rstrip("/")
    if not named.relative_to_doc and pattern in GENERATED:
        return True
    if "*" in pattern:
        return any(base.glob(pattern))
    target = (base / pattern).resolve()
    return target.is_relative_to(root.resolve()) and target.exists()


def missing_paths(text: str, doc: str, root: Path = REPO) -> list[str]:
    """One message per path that `text` (the doc `doc`) names and `root` does not hold."""
    return [
        f"{named.doc}:{named.line}: {named.path} does not exist"
        for named in named_paths(text, doc)
        if not _exists(named, root)
    ]


def _docs() -> list[str]:
    docs = [REPO / "README.md", REPO / "ARCHITECTURE.md", *sorted((REPO / "docs").rglob("*.md"))]
    return [str(doc.relative_to(REPO)) for doc in docs if doc.exists()]


@pytest.mark.parametrize("doc", _docs())
def test_every_path_a_doc_names_exists(doc: str) -> None:
    missing = missing_paths((REPO / doc).read_text(encoding="utf-8"), doc)
    assert not missing, "\n".join(missing)


SAMPLE = """\
The schema lives in `supabase/schemas/` (see [the decision](decisions/0001-declared-schema.md)).
Run `pytest tests/unit -q` or `halo bench ingest --count 2000`; call `api.list_tickets` and join
`workspace:<id>`. Functions: `supabase/functions/<name>/index.ts`. Not here: `workers/gone.py`,
[a lost page](../nowhere.md), [a site](https://supabase.com/docs) and [top](#layout).
```
tests/unit/   pytest without services
  ghost.py    under the folder above: not read
halo_supabase/vanished.py
```
Run one test: `pytest tests/unit/test_a.py::test_b`; an error names `tests/unit/test_a.py:12`.
"""


def test_the_extractor_finds_paths_and_ignores_other_code(tmp_path: Path) -> None:
    assert [(p.line, p.path, p.relative_to_doc) for p in named_paths(SAMPLE, "docs/x.md")] == [
        (1, "supabase/schemas/", False),
        (1, "decisions/0001-declared-schema.md", True),
        (2, "tests/unit", False),
        (3, "supabase/functions/<name>/index.ts", False),
        (3, "workers/gone.py", False),
        (4, "../nowhere.md", True),
        (6, "tests/unit/", False),
        (8, "halo_supabase/vanished.py", False),
        (10, "tests/unit/test_a.py", False),
        (10, "tests/unit/test_a.py", False),
    ]


def test_a_missing_path_fails_with_doc_line_and_path(tmp_path: Path) -> None:
    for present in (
        "supabase/schemas/tickets.sql",
        "docs/decisions/0001-declared-schema.md",
        "tests/unit/test_a.py",
        "supabase/functions/conversations/index.ts",
    ):
        (tmp_path / present).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / present).write_text("")
    assert missing_paths(SAMPLE, "docs/x.md", root=tmp_path) == [
        "docs/x.md:3: workers/gone.py does not exist",
        "docs/x.md:4: ../nowhere.md does not exist",
        "docs/x.md:8: halo_supabase/vanished.py does not exist",
    ]


def test_a_placeholder_pattern_must_match_something(tmp_path: Path) -> None:
    text = "Each worker is `workers/<name>.py`."
    assert missing_paths(text, "README.md", root=tmp_path) == [
        "README.md:1: workers/<name>.py does not exist"
    ]
    (tmp_path / "workers").mkdir()
    (tmp_path / "workers" / "email_send.py").write_text("")
    assert missing_paths(text, "README.md", root=tmp_path) == []
