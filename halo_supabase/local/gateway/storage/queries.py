"""Storage's SQL statements, read by name from queries.sql."""

from __future__ import annotations

import re
from importlib.resources import files

__all__ = ["QUERIES"]


def _load() -> dict[str, str]:
    text = files(__package__).joinpath("queries.sql").read_text(encoding="utf-8")
    blocks = re.split(r"^-- name: (\w+)\n", text, flags=re.MULTILINE)
    return {name: sql.strip() for name, sql in zip(blocks[1::2], blocks[2::2], strict=True)}


QUERIES = _load()
