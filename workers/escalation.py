"""`conversation.escalate`: whether an AI turn hands the conversation to a human, and doing it.

Enqueued in the transaction of every AI message of a live, unpaused conversation that has no
ticket yet and whose agent can escalate (not internal, mode not Off), and by the widget's "talk
to a human" button (`api.request_human`). The handler reads the turn's context in one RPC
(`api.escalation_context`: the agent's settings, the reply, its confidence and tool calls, the
customer's message, the gates and the contact's traits), decides with the pure
:func:`halo_supabase.ai.escalation.decide`, and when it escalates calls
`api.escalate_conversation` once: the conversation's ticket (Open, or Priority when a priority
filter matches the contact) with the transcript, the conversation completed as Escalated, and the
`ticket.created` broadcast. Idempotent: a context of a conversation that already has a ticket is
null, and escalating twice returns the same ticket.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, cast

from halo_supabase.ai.escalation import (
    EscalationDecision,
    EscalationSettings,
    decide,
    signals_for_turn,
)
from halo_supabase.runtime import JobContext

__all__ = ["KIND", "decision_for", "handle", "reason_text"]

KIND = "conversation.escalate"
log = logging.getLogger("halo.worker.escalation")


def decision_for(context: dict[str, Any], human_requested: bool = False) -> EscalationDecision:
    """Decide on one `api.escalation_context` result."""
    settings = EscalationSettings.from_json(context["settings"], context["agent_type"])
    signals = signals_for_turn(
        reply=str(context.get("reply") or ""),
        customer_message=context.get("customer_message"),
        confidence=context.get("confidence"),
        tool_calls=[str(name) for name in context.get("tool_calls") or []],
        ai_turns=int(context.get("ai_turns") or 0),
        knowledge_searched=bool(context.get("knowledge_searched")),
        web_searched=bool(context.get("web_searched")),
        contact_traits=context.get("contact_traits") or {},
    )
    if human_requested:
        signals = dataclasses.replace(signals, human_requested=True)
    return decide(settings, signals)


def reason_text(decision: EscalationDecision, context: dict[str, Any]) -> str:
    """The ticket's escalation reason, in words (the AI's own reason for the escalate tool)."""
    if decision.reason == "escalate_tool":
        given = context.get("escalate_reason")
        return f"The AI escalated: {given}" if given else "The AI called the escalate tool"
    if decision.reason == "escalation_phrase":
        return "The conversation asked for a human (escalation phrasing)"
    if decision.reason == "low_confidence":
        threshold = context["settings"].get("confidence_threshold", 50)
        return f"AI confidence {context.get('confidence')} is under the threshold {threshold}"
    return "The customer asked for a human"


async def handle(context: JobContext) -> None:
    payload: dict[str, Any] = context.job.payload
    api = context.client.schema("api")
    conversation_id = str(payload["conversation_id"])
    # postgrest-py annotates params as dict[str, str]; any JSON is sent unchanged.
    response = await api.rpc(
        "escalation_context",
        cast(
            "dict[str, str]",
            {"p_conversation_id": conversation_id, "p_message_id": payload.get("message_id")},
        ),
    ).execute()
    turn = cast("dict[str, Any] | None", response.data)
    if turn is None:
        log.info(
            "nothing to decide",
            extra={"action": "escalation.skipped", "job_id": context.job.id},
        )
        return
    decision = decision_for(turn, bool(payload.get("human_requested")))
    if not decision.escalate:
        log.debug(
            "not escalated",
            extra={"action": "escalation.declined", "reason": decision.reason},
        )
        return
    ticket = (
        await api.rpc(
            "escalate_conversation",
            cast(
                "dict[str, str]",
                {
                    "p_conversation_id": conversation_id,
                    "p_reason": reason_text(decision, turn),
                    "p_reason_code": decision.reason,
                    "p_priority": decision.priority,
                },
            ),
        ).execute()
    ).data
    log.info(
        "escalated",
        extra={
            "action": "escalation.created",
            "job_id": context.job.id,
            "conversation_id": conversation_id,
            "ticket_id": cast("dict[str, Any]", ticket)["id"],
            "reason": decision.reason,
            "priority": decision.priority,
        },
    )
