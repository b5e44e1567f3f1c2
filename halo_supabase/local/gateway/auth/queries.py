"""Named SQL blocks loaded from this package's `sql/` files.

A file holds blocks that each start with a `-- name: <name>` line; the SQL stays in `.sql` files
where it can be read and linted as SQL.
"""

from __future__ import annotations

import re
from importlib import resources

__all__ = ["load_queries"]

_BLOCK_START = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def load_queries(filename: str) -> dict[str, str]:
    text = resources.files(__package__).joinpath("sql", filename).read_text(encoding="utf-8")
    parts = _BLOCK_START.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"{filename}: query {name!r} is defined twice")
        queries[name] = body.strip()
    return queries
