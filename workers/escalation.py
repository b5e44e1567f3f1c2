"""`conversation.escalate`: whether an AI turn hands the conversation to a human, and doing it.

Enqueued in the transaction of every AI message of a live, unpaused conversation that has no
ticket yet and whose agent can escalate (not internal, mode not Off), and by the widget's "talk
to a human" button (`api.request_human`). The handler reads the turn's context in one call
(`api.escalation_context`: the agent's settings, the reply, its confidence and tool calls, the
customer's message, the gates and the contact's traits), decides with the pure
:func:`halo_supabase.ai.escalation.decide`, and when it escalates calls
`api.escalate_conversation` once: the conversation's ticket (Open, or Priority when a priority
filter matches the contact) with the transcript, the conversation completed as Escalated, and the
`ticket.created` broadcast. Idempotent: a context of a conversation that already has a ticket is
null, and escalating twice returns the same ticket. Every decision, escalated or not, is kept on
the conversation with its reason code (`api.record_escalation_decision`), so a teammate watching
the Live Feed sees why (`conversation.signal`).
"""

from __future__ import annotations

import dataclasses
import logging
from uuid import UUID

from halo_supabase.ai.escalation import (
    EscalationDecision,
    EscalationSettings,
    decide,
    signals_for_turn,
)
from halo_supabase.client import HaloClient
from halo_supabase.client.documents import EscalationContext
from halo_supabase.runtime import Handler, JobContext
from halo_supabase.worker_host import WorkerDefinition, WorkerResources, job_worker

__all__ = ["DEFINITION", "KIND", "decision_for", "handle", "reason_text"]

KIND = "conversation.escalate"
log = logging.getLogger("halo.worker.escalation")


def decision_for(context: EscalationContext, human_requested: bool = False) -> EscalationDecision:
    """Decide on one `api.escalation_context` result."""
    settings = EscalationSettings.from_json(context.settings, context.agent_type)
    signals = signals_for_turn(
        reply=context.reply,
        customer_message=context.customer_message,
        confidence=context.confidence,
        tool_calls=[name for name in context.tool_calls if name],
        ai_turns=context.ai_turns,
        knowledge_searched=context.knowledge_searched,
        web_searched=context.web_searched,
        contact_traits=context.contact_traits,
    )
    if human_requested:
        signals = dataclasses.replace(signals, human_requested=True)
    return decide(settings, signals)


def reason_text(decision: EscalationDecision, context: EscalationContext) -> str:
    """The ticket's escalation reason, in words (the AI's own reason for the escalate tool)."""
    if decision.reason == "escalate_tool":
        given = context.escalate_reason
        return f"The AI escalated: {given}" if given else "The AI called the escalate tool"
    if decision.reason == "escalation_phrase":
        return "The conversation asked for a human (escalation phrasing)"
    if decision.reason == "low_confidence":
        threshold = context.settings.get("confidence_threshold", 50)
        return f"AI confidence {context.confidence} is under the threshold {threshold}"
    return "The customer asked for a human"


async def handle(context: JobContext) -> None:
    payload = context.job.payload
    conversation_id = UUID(str(payload["conversation_id"]))
    message_id = UUID(str(payload["message_id"])) if payload.get("message_id") else None
    turn = await context.api.escalation_context(conversation_id, message_id)
    if turn is None:
        log.info(
            "nothing to decide",
            extra={"action": "escalation.skipped", "job_id": context.job.id},
        )
        return
    decision = decision_for(turn, bool(payload.get("human_requested")))
    if not decision.escalate:
        await context.api.record_escalation_decision(
            conversation_id, False, decision.reason, message_id
        )
        log.info(
            "not escalated",
            extra={
                "action": "escalation.declined",
                "job_id": context.job.id,
                "conversation_id": str(conversation_id),
                "reason": decision.reason,
            },
        )
        return
    ticket = await context.api.escalate_conversation(
        conversation_id,
        reason_text(decision, turn),
        reason_code=decision.reason,
        priority=decision.priority,
    )
    await context.api.record_escalation_decision(conversation_id, True, decision.reason, message_id)
    log.info(
        "escalated",
        extra={
            "action": "escalation.created",
            "job_id": context.job.id,
            "conversation_id": str(conversation_id),
            "ticket_id": str(ticket.id),
            "reason": decision.reason,
            "priority": decision.priority,
        },
    )


def _handler(_: WorkerResources, __: HaloClient) -> Handler:
    return handle


DEFINITION: WorkerDefinition = job_worker("escalation", KIND, _handler)
