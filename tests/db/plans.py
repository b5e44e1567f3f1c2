"""Plans of the statements a function runs inside, read through auto_explain.

`nested_plans(conn)` makes auto_explain report every statement's plan with actual row counts as a
notice (nested statements of PL/pgSQL functions included) and returns the list it fills. Load it
before `set role`: loading a library needs the superuser the test connects as.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

__all__ = ["nested_plans", "rows_read"]

_SETTINGS = {
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_nested_statements": "on",
    "auto_explain.log_format": "json",
    "auto_explain.log_level": "notice",
}


def nested_plans(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Start collecting the plans of everything `conn` runs from now on."""
    conn.execute("load 'auto_explain'")
    for name, value in _SETTINGS.items():
        conn.execute("select set_config(%s, %s, false)", (name, value))
    plans: list[dict[str, Any]] = []

    def collect(notice: psycopg.errors.Diagnostic) -> None:
        text = notice.message_primary or ""
        if "{" in text:
            plans.append(json.loads(text[text.index("{") :])["Plan"])

    conn.add_notice_handler(collect)
    return plans


def rows_read(node: dict[str, Any], relation: str | None = None) -> int:
    """The most rows any node of a plan read (returned plus dropped by its filters); only the
    scans of `relation` when it is given."""
    counts = [rows_read(child, relation) for child in node.get("Plans", [])]
    if relation is None or node.get("Relation Name") == relation:
        counts.append(
            int(node.get("Actual Rows", 0)) * int(node.get("Actual Loops", 1) or 1)
            + int(node.get("Rows Removed by Filter", 0))
        )
    return max(counts, default=0)
