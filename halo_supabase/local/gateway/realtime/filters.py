"""Postgres Changes filters: `column=op.value` (eq, neq, lt, lte, gt, gte, in), checked in Python.

Values are compared after converting the filter's text to the column's JSON type, the way
`realtime.check_equality_op` casts the filter value to the column type before comparing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from halo_supabase.local.gateway.realtime.values import to_json

__all__ = ["Filter", "FilterError", "parse_filter"]

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "neq": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


class FilterError(ValueError):
    """A filter outside the grammar; the join gets Realtime's "Unable to subscribe" message."""


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: str

    def values(self) -> list[str]:
        if self.op != "in":
            return [self.value]
        inner = self.value
        if not (inner.startswith("(") and inner.endswith(")")):
            raise FilterError(f"`in` filter needs a list in parentheses: {inner}")
        return [item.strip().strip('"') for item in inner[1:-1].split(",")]

    def matches(self, record: dict[str, Any], type_name: str) -> bool:
        actual = record.get(self.column)
        if actual is None:
            return False
        wanted = [to_json(type_name, value) for value in self.values()]
        if self.op == "in":
            return actual in wanted
        try:
            return _COMPARISONS[self.op](actual, wanted[0])
        except TypeError:
            return _COMPARISONS[self.op](str(actual), str(wanted[0]))


def parse_filter(text: str) -> Filter:
    column, sep, rest = text.partition("=")
    op, dot, value = rest.partition(".")
    if not sep or not dot or not column or op not in (*_COMPARISONS, "in"):
        raise FilterError(f"invalid filter: {text}")
    parsed = Filter(column.strip(), op, value)
    parsed.values()
    return parsed
