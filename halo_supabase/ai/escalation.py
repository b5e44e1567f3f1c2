"""Whether an AI turn escalates to a human: a pure function of agent settings and turn signals.

The escalation worker calls :func:`decide` once per AI reply (and once when the customer presses
the widget's "talk to a human" button) and creates the ticket when ``decision.escalate`` is true.

Semantics (Halo's agent escalation settings, product spec §5.6):

* **Agent type** ``internal`` never escalates, whatever the signals or the button.
* **The widget button** (``human_requested``) escalates in every mode, including Off: the customer
  asked explicitly, and Off only stops *automatic* escalation. Filters do not apply to it.
* **Mode Off**: no automatic escalation, not even the ``escalate`` tool.
* **Signals**: (1) the AI called the ``escalate`` tool; (2) escalation phrasing: the AI's reply
  hands off to a human (:func:`reply_hands_off`) or the customer's message asks for one
  (:func:`customer_requests_human`); (3) the reply's confidence (0-100) is *strictly* under the
  threshold (default 50; threshold 0 disables this signal).
* **Escalation filters** (segment rules on contact traits): when set, only matching contacts are
  escalated automatically; a non-matching contact is never escalated by any signal.
* **Mode Always**: any signal escalates.
* **Mode Conditional**: signal 1 is always trusted and escalates at once. Signals 2 and 3 count
  only once the gates pass: the AI called knowledge search at least once (when *require knowledge
  search* is on), called web search (when *require web search* is on and the web-search skill is
  enabled), and has taken at least *max attempts* turns (1-10). The spec phrases the last gate both
  as "max attempts not yet reached" and as "AI turns before gates lift"; Halo's escalation page
  says the AI must have "tried at least N times before escalating", which is what this implements.
* **Priority filters**: when an escalation happens and the contact matches, the ticket is created
  with priority (the Priority view) instead of plain Open.

The decision's ``reason`` is a stable code for logs and the ticket (never message text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from halo_supabase.ai.contact_rules import ContactFilter
from halo_supabase.ai.escalation_phrases import customer_requests_human, reply_hands_off

__all__ = [
    "EscalationDecision",
    "EscalationSettings",
    "Reason",
    "TurnSignals",
    "customer_requests_human",
    "decide",
    "reply_hands_off",
    "signals_for_turn",
]

EscalationMode = Literal["off", "always", "conditional"]
AgentType = Literal["customer_facing", "internal", "sales", "help_center"]
Reason = Literal[
    # escalates
    "customer_button",
    "escalate_tool",
    "escalation_phrase",
    "low_confidence",
    # does not
    "internal_agent",
    "mode_off",
    "no_signal",
    "filtered_out",
    "knowledge_search_required",
    "web_search_required",
    "attempts_not_reached",
]


@dataclass(frozen=True)
class EscalationSettings:
    """One agent's escalation configuration (Actions > Ticket Escalation)."""

    mode: EscalationMode = "conditional"
    confidence_threshold: int = 50
    max_attempts: int = 3
    require_knowledge_search: bool = True
    require_web_search: bool = False
    web_search_enabled: bool = False
    escalation_filter: ContactFilter | None = None
    priority_filter: ContactFilter | None = None
    agent_type: AgentType = "customer_facing"

    def __post_init__(self) -> None:
        if self.mode not in ("off", "always", "conditional"):
            raise ValueError(
                f"escalation mode must be off, always or conditional, not {self.mode!r}"
            )
        if not 0 <= self.confidence_threshold <= 100:
            raise ValueError(f"confidence threshold must be 0-100, got {self.confidence_threshold}")
        if not 1 <= self.max_attempts <= 10:
            raise ValueError(f"max attempts must be 1-10, got {self.max_attempts}")

    @classmethod
    def from_json(
        cls,
        data: Mapping[str, Any],
        agent_type: AgentType,
        *,
        web_search_enabled: bool = False,
    ) -> EscalationSettings:
        """Read a row of ``api.escalation_settings`` (missing keys take Halo's defaults).

        ``escalation_filters`` and ``priority_filters`` are the stored jsonb arrays
        (see :mod:`halo_supabase.ai.contact_rules`); whether the web-search skill is on comes
        from the agent, not from this row.
        """
        return cls(
            mode=data.get("mode", "conditional"),
            confidence_threshold=int(data.get("confidence_threshold", 50)),
            max_attempts=int(data.get("max_attempts", 3)),
            require_knowledge_search=bool(data.get("require_knowledge_search", True)),
            require_web_search=bool(data.get("require_web_search", False)),
            web_search_enabled=web_search_enabled,
            escalation_filter=ContactFilter.from_stored(data.get("escalation_filters") or []),
            priority_filter=ContactFilter.from_stored(data.get("priority_filters") or []),
            agent_type=agent_type,
        )


@dataclass(frozen=True)
class TurnSignals:
    """What happened in the conversation up to and including this AI turn."""

    escalate_tool_called: bool = False
    escalation_phrase: bool = False
    confidence: int | None = None
    ai_turns: int = 1
    knowledge_searched: bool = False
    web_searched: bool = False
    human_requested: bool = False
    contact_traits: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EscalationDecision:
    escalate: bool
    reason: Reason
    priority: bool = False


def signals_for_turn(
    *,
    reply: str,
    customer_message: str | None,
    confidence: int | None,
    tool_calls: list[str],
    ai_turns: int,
    knowledge_searched: bool,
    web_searched: bool,
    contact_traits: Mapping[str, Any] | None = None,
) -> TurnSignals:
    """Build the signals of one AI turn from its reply, the customer's message and tool calls."""
    phrase = reply_hands_off(reply) is not None or (
        customer_message is not None and customer_requests_human(customer_message) is not None
    )
    return TurnSignals(
        escalate_tool_called="escalate" in tool_calls,
        escalation_phrase=phrase,
        confidence=confidence,
        ai_turns=ai_turns,
        knowledge_searched=knowledge_searched or "knowledge_search" in tool_calls,
        web_searched=web_searched or "web_search" in tool_calls,
        contact_traits=contact_traits or {},
    )


def _gate(settings: EscalationSettings, signals: TurnSignals) -> Reason | None:
    if settings.require_knowledge_search and not signals.knowledge_searched:
        return "knowledge_search_required"
    if settings.require_web_search and settings.web_search_enabled and not signals.web_searched:
        return "web_search_required"
    if signals.ai_turns < settings.max_attempts:
        return "attempts_not_reached"
    return None


def decide(settings: EscalationSettings, signals: TurnSignals) -> EscalationDecision:
    """Escalate or not, why, and with which priority (see the module docstring)."""
    if settings.agent_type == "internal":
        return EscalationDecision(False, "internal_agent")
    priority = (
        settings.priority_filter is not None
        and bool(settings.priority_filter.rules)
        and settings.priority_filter.matches(signals.contact_traits)
    )
    if signals.human_requested:
        return EscalationDecision(True, "customer_button", priority)
    if settings.mode == "off":
        return EscalationDecision(False, "mode_off")

    low_confidence = (
        signals.confidence is not None and signals.confidence < settings.confidence_threshold
    )
    candidates: tuple[tuple[Reason, bool], ...] = (
        ("escalate_tool", signals.escalate_tool_called),
        ("escalation_phrase", signals.escalation_phrase),
        ("low_confidence", low_confidence),
    )
    fired = [reason for reason, on in candidates if on]
    if not fired:
        return EscalationDecision(False, "no_signal")
    if settings.escalation_filter is not None and not settings.escalation_filter.matches(
        signals.contact_traits
    ):
        return EscalationDecision(False, "filtered_out")
    if settings.mode == "always" or fired[0] == "escalate_tool":
        return EscalationDecision(True, fired[0], priority)
    blocked = _gate(settings, signals)
    if blocked is not None:
        return EscalationDecision(False, blocked)
    return EscalationDecision(True, fired[0], priority)
