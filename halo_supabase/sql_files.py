"""The SQL the package runs, read from `.sql` files shipped inside it.

Python modules hold no SQL text of their own: each keeps its statements in a `sql/` folder beside
it (`halo_supabase/sql/`, `halo_supabase/local/sql/`, `local/gateway/auth/sql/`, ...), where they
can be read and linted as SQL. A file has one of two shapes:

* **named statements** (procrastinate's layout), read with :func:`load_queries`: each statement
  starts at a `-- name: <identifier>` line and runs to the next one; comments above the first
  name describe the file. The statements come back by name, in file order.
* **a script** applied whole (the bootstrap, a benchmark's schema), read with :func:`load_script`;
  callers that run it statement by statement split it with `local/sql_script.py`.

Project files outside the package (`supabase/migrations/`, `supabase/seed.sql`) are not read here:
`local/migrations.py` applies them from disk, with the same splitter.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable

__all__ = ["load_queries", "load_script", "sql_resource"]

_NAME_LINE = re.compile(r"^-- name: *(.*?)\s*$", re.MULTILINE)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_COMMENT_OR_BLANK = re.compile(r"^\s*(--.*)?$")


def sql_resource(package: str, filename: str) -> Traversable:
    """The file `filename` in the `sql/` folder of `package` (a dotted package name)."""
    return resources.files(package).joinpath("sql", filename)


def load_script(package: str, filename: str) -> str:
    """The whole text of a script in `package`'s `sql/` folder."""
    return sql_resource(package, filename).read_text(encoding="utf-8")


def load_queries(package: str, filename: str) -> dict[str, str]:
    """The named statements of a file in `package`'s `sql/` folder, by name, in file order.

    Raises ValueError, naming the file, for a name that is not a lower-case identifier, a name
    given twice, an empty statement, or SQL above the first name (it would never run).
    """
    where = f"{package.replace('.', '/')}/sql/{filename}"
    parts = _NAME_LINE.split(load_script(package, filename))
    header, blocks = parts[0], parts[1:]
    if not all(_COMMENT_OR_BLANK.match(line) for line in header.splitlines()):
        raise ValueError(f"{where}: SQL above the first `-- name:` line; give it a name")
    queries: dict[str, str] = {}
    for name, body in zip(blocks[0::2], blocks[1::2], strict=True):
        if not _IDENTIFIER.match(name):
            raise ValueError(f"{where}: `-- name: {name}` is not a lower-case identifier")
        if name in queries:
            raise ValueError(f"{where}: the statement {name!r} is named twice; rename one")
        if not body.strip():
            raise ValueError(f"{where}: the statement {name!r} is empty")
        queries[name] = body.strip()
    return queries
