"""Trait rules used by escalation and priority filters."""

from __future__ import annotations

from typing import Any

import pytest

from halo_supabase.ai.contact_rules import ContactFilter, TraitRule

CONTACT = {
    "plan": "Pro",
    "monthly_spend": "1200",
    "tags": ["beta", "vip"],
    "company": {"industry": "retail", "employee_count": 40},
    "renewal_date": None,
}


@pytest.mark.parametrize(
    ("rule", "matches"),
    [
        (TraitRule("plan", "eq", "pro"), True),
        (TraitRule("plan", "neq", "pro"), False),
        (TraitRule("plan", "in", ["enterprise", "PRO"]), True),
        (TraitRule("plan", "not_in", ["enterprise"]), True),
        (TraitRule("tags", "contains", "vip"), True),
        (TraitRule("company.industry", "contains", "ret"), True),
        (TraitRule("monthly_spend", "gte", 1000), True),
        (TraitRule("company.employee_count", "lt", 10), False),
        (TraitRule("renewal_date", "exists"), False),
        (TraitRule("missing", "not_exists"), True),
        (TraitRule("missing", "eq", "x"), False),
        (TraitRule("missing", "neq", "x"), True),
        (TraitRule("plan", "gt", 3), False),
    ],
)
def test_rule(rule: TraitRule, matches: bool) -> None:
    assert rule.matches(CONTACT) is matches


@pytest.mark.parametrize(("match", "expected"), [("all", False), ("any", True)])
def test_filter_joins_rules(match: Any, expected: bool) -> None:
    rules = (TraitRule("plan", "eq", "pro"), TraitRule("plan", "eq", "free"))
    assert ContactFilter(rules, match).matches(CONTACT) is expected


def test_empty_filter_matches_everyone() -> None:
    assert ContactFilter().matches({})


def test_filter_from_json_refuses_unknown_join() -> None:
    with pytest.raises(ValueError, match="'all' or 'any'"):
        ContactFilter.from_json({"match": "some", "rules": []})
