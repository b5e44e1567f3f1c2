"""The escalation decision as a table: mode x signal x escalation filter x gates."""

from __future__ import annotations

from typing import Any

import pytest

from halo_supabase.ai.contact_rules import ContactFilter, TraitRule
from halo_supabase.ai.escalation import (
    EscalationSettings,
    TurnSignals,
    decide,
    signals_for_turn,
)

ENTERPRISE = {"plan": "Enterprise", "renewal_status": "at_risk", "company": {"plan": "Scale"}}
FREE = {"plan": "free"}
ONLY_PAYING = ContactFilter((TraitRule("plan", "in", ["pro", "enterprise"]),))

SIGNALS: dict[str, dict[str, Any]] = {
    "none": {"confidence": 90},
    "tool": {"escalate_tool_called": True, "confidence": 90},
    "phrase": {"escalation_phrase": True, "confidence": 90},
    "low_confidence": {"confidence": 30},
    "button": {"human_requested": True, "confidence": 90},
}
GATES_PASSED = {"ai_turns": 3, "knowledge_searched": True}
GATES_CLOSED = {"ai_turns": 1, "knowledge_searched": False}

# (mode, signal, filter, gates) -> (escalate, reason); filter: None, "match" or "no_match".
TABLE = [
    # Off: only the customer's button escalates.
    ("off", "none", None, "passed", False, "mode_off"),
    ("off", "tool", None, "passed", False, "mode_off"),
    ("off", "phrase", None, "passed", False, "mode_off"),
    ("off", "low_confidence", None, "passed", False, "mode_off"),
    ("off", "button", None, "closed", True, "customer_button"),
    ("off", "button", "no_match", "closed", True, "customer_button"),
    # Always: any signal, gates ignored; filters still restrict who.
    ("always", "none", None, "closed", False, "no_signal"),
    ("always", "tool", None, "closed", True, "escalate_tool"),
    ("always", "phrase", None, "closed", True, "escalation_phrase"),
    ("always", "low_confidence", None, "closed", True, "low_confidence"),
    ("always", "button", None, "closed", True, "customer_button"),
    ("always", "tool", "match", "closed", True, "escalate_tool"),
    ("always", "phrase", "match", "closed", True, "escalation_phrase"),
    ("always", "low_confidence", "match", "closed", True, "low_confidence"),
    ("always", "tool", "no_match", "closed", False, "filtered_out"),
    ("always", "phrase", "no_match", "closed", False, "filtered_out"),
    ("always", "low_confidence", "no_match", "closed", False, "filtered_out"),
    ("always", "button", "no_match", "closed", True, "customer_button"),
    # Conditional: the tool is always trusted; phrase and confidence wait for the gates.
    ("conditional", "none", None, "passed", False, "no_signal"),
    ("conditional", "tool", None, "closed", True, "escalate_tool"),
    ("conditional", "tool", None, "passed", True, "escalate_tool"),
    ("conditional", "phrase", None, "closed", False, "knowledge_search_required"),
    ("conditional", "phrase", None, "passed", True, "escalation_phrase"),
    ("conditional", "low_confidence", None, "closed", False, "knowledge_search_required"),
    ("conditional", "low_confidence", None, "passed", True, "low_confidence"),
    ("conditional", "button", None, "closed", True, "customer_button"),
    ("conditional", "tool", "match", "closed", True, "escalate_tool"),
    ("conditional", "phrase", "match", "passed", True, "escalation_phrase"),
    ("conditional", "low_confidence", "match", "passed", True, "low_confidence"),
    ("conditional", "tool", "no_match", "closed", False, "filtered_out"),
    ("conditional", "phrase", "no_match", "passed", False, "filtered_out"),
    ("conditional", "low_confidence", "no_match", "passed", False, "filtered_out"),
]


@pytest.mark.parametrize(("mode", "signal", "filter_", "gates", "escalate", "reason"), TABLE)
def test_decision_table(
    mode: str, signal: str, filter_: str | None, gates: str, escalate: bool, reason: str
) -> None:
    settings = EscalationSettings(
        mode=mode,  # type: ignore[arg-type]
        escalation_filter=ONLY_PAYING if filter_ else None,
    )
    traits = FREE if filter_ == "no_match" else ENTERPRISE
    signals = TurnSignals(
        **SIGNALS[signal],
        **(GATES_PASSED if gates == "passed" else GATES_CLOSED),
        contact_traits=traits,
    )
    decision = decide(settings, signals)
    assert (decision.escalate, decision.reason) == (escalate, reason)


@pytest.mark.parametrize("signal", ["tool", "phrase", "low_confidence", "button"])
@pytest.mark.parametrize("mode", ["off", "always", "conditional"])
def test_internal_agents_never_escalate(mode: str, signal: str) -> None:
    settings = EscalationSettings(mode=mode, agent_type="internal")  # type: ignore[arg-type]
    signals = TurnSignals(**SIGNALS[signal], **GATES_PASSED)
    assert decide(settings, signals).reason == "internal_agent"
    assert not decide(settings, signals).escalate


@pytest.mark.parametrize(
    ("ai_turns", "knowledge", "web", "require_web", "web_enabled", "reason"),
    [
        (3, False, False, False, False, "knowledge_search_required"),
        (3, True, False, True, True, "web_search_required"),
        (3, True, False, True, False, "low_confidence"),  # web search skill off: gate ignored
        (2, True, True, True, True, "attempts_not_reached"),
        (3, True, True, True, True, "low_confidence"),
    ],
)
def test_conditional_gates_one_by_one(
    ai_turns: int, knowledge: bool, web: bool, require_web: bool, web_enabled: bool, reason: str
) -> None:
    settings = EscalationSettings(
        max_attempts=3, require_web_search=require_web, web_search_enabled=web_enabled
    )
    signals = TurnSignals(
        confidence=10, ai_turns=ai_turns, knowledge_searched=knowledge, web_searched=web
    )
    assert decide(settings, signals).reason == reason


def test_knowledge_search_gate_can_be_switched_off() -> None:
    settings = EscalationSettings(require_knowledge_search=False, max_attempts=1)
    assert decide(settings, TurnSignals(confidence=10)).escalate


@pytest.mark.parametrize(
    ("confidence", "threshold", "escalates"),
    [(49, 50, True), (50, 50, False), (None, 50, False), (0, 0, False), (99, 100, True)],
)
def test_confidence_must_be_strictly_under_the_threshold(
    confidence: int | None, threshold: int, escalates: bool
) -> None:
    settings = EscalationSettings(mode="always", confidence_threshold=threshold)
    assert decide(settings, TurnSignals(confidence=confidence)).escalate is escalates


@pytest.mark.parametrize(
    ("traits", "priority"),
    [(ENTERPRISE, True), (FREE, False), ({}, False)],
)
def test_priority_filter_bumps_matching_contacts(traits: dict[str, Any], priority: bool) -> None:
    vip = ContactFilter(
        (TraitRule("renewal_status", "eq", "at_risk"), TraitRule("company.plan", "eq", "scale")),
        match="any",
    )
    settings = EscalationSettings(mode="always", priority_filter=vip)
    decision = decide(settings, TurnSignals(escalate_tool_called=True, contact_traits=traits))
    assert decision.escalate and decision.priority is priority


def test_no_escalation_carries_no_priority() -> None:
    settings = EscalationSettings(mode="off", priority_filter=ONLY_PAYING)
    decision = decide(settings, TurnSignals(escalate_tool_called=True, contact_traits=ENTERPRISE))
    assert decision.priority is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("confidence_threshold", 101, "0-100"),
        ("max_attempts", 0, "1-10"),
        ("max_attempts", 11, "1-10"),
        ("mode", "sometimes", "off, always or conditional"),
    ],
)
def test_invalid_settings_say_what_is_allowed(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EscalationSettings(**{field: value})


def test_settings_from_a_stored_row_take_halo_defaults() -> None:
    row = {
        "mode": "always",
        "escalation_filters": [],
        "priority_filters": [
            {"trait": "plan", "op": "eq", "value": "enterprise"},
            {
                "match": "any",
                "rules": [
                    {"trait": "renewal_status", "op": "eq", "value": "at_risk"},
                    {"trait": "company.plan", "op": "eq", "value": "scale"},
                ],
            },
        ],
    }
    settings = EscalationSettings.from_json(row, agent_type="customer_facing")
    assert settings.confidence_threshold == 50 and settings.max_attempts == 3
    assert settings.mode == "always" and settings.escalation_filter is None
    assert settings.priority_filter is not None
    assert settings.priority_filter.matches(ENTERPRISE)
    assert not settings.priority_filter.matches({"plan": "enterprise"})


def test_signals_are_read_from_a_real_turn() -> None:
    signals = signals_for_turn(
        reply="Je vous mets en relation avec un conseiller.",
        customer_message="Je ne comprends rien à cette facture",
        confidence=80,
        tool_calls=["knowledge_search"],
        ai_turns=1,
        knowledge_searched=False,
        web_searched=False,
    )
    assert signals.escalation_phrase and signals.knowledge_searched
    assert not signals.escalate_tool_called
    customer_only = signals_for_turn(
        reply="Sure, one moment.",
        customer_message="Can I talk to a real person?",
        confidence=None,
        tool_calls=["escalate"],
        ai_turns=2,
        knowledge_searched=True,
        web_searched=False,
    )
    assert customer_only.escalation_phrase and customer_only.escalate_tool_called
