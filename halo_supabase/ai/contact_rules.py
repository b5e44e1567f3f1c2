"""Segment-style rules on a contact's traits, as escalation and priority filters use them.

A :class:`ContactFilter` is a list of rules joined by ``all`` (and) or ``any`` (or); a rule compares
one trait (``plan``, ``renewal_status``, a custom field, ``company.plan``...) with a value, and a
rule may itself be a nested filter. Traits come as one mapping; dotted names reach into nested
mappings (``company.plan``).

Stored shape (``escalation_settings.escalation_filters`` / ``priority_filters``, jsonb arrays): a
list whose elements all must match, each either a rule ``{"trait", "op", "value"}`` or a group
``{"match": "all"|"any", "rules": [...]}``. An empty list means "no filter".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ContactFilter", "TraitRule"]

Operator = Literal[
    "eq", "neq", "in", "not_in", "contains", "exists", "not_exists", "gt", "gte", "lt", "lte"
]
_NUMERIC = {"gt", "gte", "lt", "lte"}


def _lookup(traits: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    value: Any = traits
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return value is not None, value


def _same(left: Any, right: Any) -> bool:
    # Traits arrive from JSON and forms: "Pro" and "pro" are the same plan.
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    return bool(left == right)


@dataclass(frozen=True)
class TraitRule:
    """One comparison: ``trait op value``."""

    trait: str
    op: Operator
    value: Any = None

    def matches(self, traits: Mapping[str, Any]) -> bool:
        present, actual = _lookup(traits, self.trait)
        if self.op == "exists":
            return present
        if self.op == "not_exists":
            return not present
        if self.op == "neq":
            return not present or not _same(actual, self.value)
        if self.op == "not_in":
            return not present or not any(_same(actual, v) for v in self.value)
        if not present:
            return False
        if self.op == "eq":
            return _same(actual, self.value)
        if self.op == "in":
            return any(_same(actual, v) for v in self.value)
        if self.op == "contains":
            if isinstance(actual, str):
                return str(self.value).casefold() in actual.casefold()
            return isinstance(actual, list | tuple | set) and any(
                _same(item, self.value) for item in actual
            )
        if self.op in _NUMERIC:
            try:
                left, right = float(actual), float(self.value)
            except (TypeError, ValueError):
                return False
            return {"gt": left > right, "gte": left >= right, "lt": left < right}.get(
                self.op, left <= right
            )
        raise ValueError(f"unknown trait operator {self.op!r}")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TraitRule:
        return cls(str(data["trait"]), data["op"], data.get("value"))


@dataclass(frozen=True)
class ContactFilter:
    """Rules joined by ``all`` or ``any``; an empty filter matches every contact."""

    rules: tuple[TraitRule | ContactFilter, ...] = ()
    match: Literal["all", "any"] = "all"

    def matches(self, traits: Mapping[str, Any]) -> bool:
        if not self.rules:
            return True
        results = (rule.matches(traits) for rule in self.rules)
        return all(results) if self.match == "all" else any(results)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ContactFilter:
        """Read a group ``{"match": "all"|"any", "rules": [rule or group, ...]}``."""
        match = data.get("match", "all")
        if match not in ("all", "any"):
            raise ValueError(f"filter match must be 'all' or 'any', got {match!r}")
        return cls(_parse_rules(data.get("rules", ())), match)

    @classmethod
    def from_stored(cls, elements: Sequence[Mapping[str, Any]]) -> ContactFilter | None:
        """Read the stored jsonb array (all elements must match); None when it is empty."""
        return cls(_parse_rules(elements)) if elements else None


def _parse_rules(elements: Iterable[Mapping[str, Any]]) -> tuple[TraitRule | ContactFilter, ...]:
    return tuple(
        ContactFilter.from_json(e) if "rules" in e else TraitRule.from_json(e) for e in elements
    )
