"""Postgres Changes filters, checked in Python against the typed row.

Grammar (what realtime-py 2.34.1 documents and the current server accepts): `column=op.value`
with op in eq, neq, lt, lte, gt, gte, in (`in.(a,b)`), like, ilike, is (null/true/false), match,
imatch (regular expressions), isdistinct (NULL-safe inequality); `not.` negates any of them;
commas join conditions with AND (`amount=gt.100,status=in.(open,pending)`). As
`realtime.check_equality_op` does, the filter's text is converted to the column's type first.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from halo_supabase.local.gateway.realtime.values import to_json

__all__ = ["Condition", "Filter", "FilterError", "parse_filter"]

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "neq": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}
_PATTERNS = frozenset({"like", "ilike", "match", "imatch"})
_OPERATORS = frozenset({*_COMPARISONS, *_PATTERNS, "in", "is", "isdistinct"})
_IS_VALUES: dict[str, Any] = {"null": None, "true": True, "false": False}


class FilterError(ValueError):
    """A filter outside the grammar; the join is refused with the reason."""


def _like(pattern: str, insensitive: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if insensitive else 0))


@dataclass(frozen=True)
class Condition:
    column: str
    op: str
    value: str
    negated: bool = False

    def values(self) -> list[str]:
        if self.op != "in":
            return [self.value]
        inner = self.value
        if not (inner.startswith("(") and inner.endswith(")")):
            raise FilterError(f"`in` filter needs a list in parentheses: {inner}")
        return [item.strip().strip('"') for item in inner[1:-1].split(",")]

    def holds(self, record: dict[str, Any], type_name: str) -> bool:
        actual = record.get(self.column)
        if self.op == "is":
            return (actual is _IS_VALUES[self.value.lower()]) != self.negated
        if self.op == "isdistinct":
            return bool(actual != to_json(type_name, self.value)) != self.negated
        if actual is None:
            return False  # SQL: a comparison with NULL is never true, negated or not
        return self._compare(actual, type_name) != self.negated

    def _compare(self, actual: Any, type_name: str) -> bool:
        if self.op in _PATTERNS:
            text = str(actual)
            if self.op in ("like", "ilike"):
                return _like(self.value, self.op == "ilike").fullmatch(text) is not None
            flags = re.IGNORECASE if self.op == "imatch" else 0
            return re.search(self.value, text, flags) is not None
        wanted = [to_json(type_name, value) for value in self.values()]
        if self.op == "in":
            return actual in wanted
        try:
            return _COMPARISONS[self.op](actual, wanted[0])
        except TypeError:
            return _COMPARISONS[self.op](str(actual), str(wanted[0]))


@dataclass(frozen=True)
class Filter:
    """Conditions that must all hold."""

    conditions: tuple[Condition, ...]

    @property
    def columns(self) -> set[str]:
        return {c.column for c in self.conditions}

    def matches(self, record: dict[str, Any], type_of: dict[str, str]) -> bool:
        return all(
            c.column in type_of and c.holds(record, type_of[c.column]) for c in self.conditions
        )


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses (`in.(a,b)` keeps its list)."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _condition(text: str) -> Condition:
    column, sep, rest = text.partition("=")
    negated = rest.startswith("not.")
    op, dot, value = rest.removeprefix("not.").partition(".")
    if not sep or not dot or not column.strip() or op not in _OPERATORS:
        raise FilterError(f"invalid filter: {text}")
    if op == "is" and value.lower() not in _IS_VALUES:
        raise FilterError(f"`is` takes null, true or false: {text}")
    if op in ("match", "imatch"):
        try:
            re.compile(value)
        except re.error as exc:
            raise FilterError(f"invalid regular expression in {text}: {exc}") from None
    condition = Condition(column.strip(), op, value, negated)
    condition.values()
    return condition


def parse_filter(text: str) -> Filter:
    return Filter(tuple(_condition(part.strip()) for part in _split(text)))
