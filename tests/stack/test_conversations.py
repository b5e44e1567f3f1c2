"""Live AI conversations end to end (issue 8, part A): the AI runtime's calls through supabase-py
and the gateway with the service key, teammates with their own JWTs, the escalation worker on the
real runtime, and what dashboards hear on Realtime."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest
from postgrest.exceptions import APIError
from realtime import RealtimeSubscribeStates

from halo_supabase.models import Conversation, Ticket
from supabase import acreate_client
from tests.db.demo import AGENT, MANAGER
from tests.stack.conftest import Stack
from tests.stack.conversation_support import (
    escalation_worker,
    jobs_of,
    new_agent,
    new_contact,
    settled,
    tickets_of,
)
from tests.stack.inbox_support import Inbox, inbox, refused
from tests.stack.realtime_support import Inbox as Heard

__all__ = ["inbox"]  # the fixture, imported so pytest finds it

pytestmark = pytest.mark.asyncio(loop_scope="session")

KB = ["knowledge_search"]
ENTERPRISE = [{"trait": "plan", "op": "eq", "value": "enterprise"}]


@dataclass(frozen=True)
class Row:
    """One line of the decision table: settings, the contact, the AI turns, what must happen."""

    name: str
    settings: dict[str, Any]
    turns: list[dict[str, Any]]
    expected: str | None  # the ticket's status, or None for no escalation
    agent_type: str = "customer_facing"
    traits: dict[str, Any] = field(default_factory=dict)
    human_button: bool = False


def turn(
    text: str = "Here is what I found.", confidence: int = 90, tools: list[str] | None = None
) -> dict[str, Any]:
    return {"text": text, "confidence": confidence, "tools": tools or []}


TABLE = [
    Row(
        "conditional: escalate tool on the first turn is trusted",
        {},
        [turn(tools=["escalate"])],
        "open",
    ),
    Row(
        "conditional: low confidence before max attempts waits",
        {},
        [turn(confidence=30, tools=KB)],
        None,
    ),
    Row(
        "conditional: low confidence once the gates lift",
        {},
        [turn(tools=KB), turn(), turn(confidence=30)],
        "open",
    ),
    Row(
        "conditional: confidence at the threshold is not under it",
        {},
        [turn(tools=KB), turn(), turn(confidence=50)],
        None,
    ),
    Row(
        "conditional: phrasing once the gates lift",
        {},
        [turn(tools=KB), turn(), turn("Je vous transfère à un conseiller.")],
        "open",
    ),
    Row(
        "conditional: knowledge search required and missing",
        {},
        [turn(), turn(), turn(confidence=10)],
        None,
    ),
    Row(
        "conditional: knowledge search not required",
        {"require_knowledge_search": False, "max_attempts": 1},
        [turn(confidence=10)],
        "open",
    ),
    Row("always: low confidence at once", {"mode": "always"}, [turn(confidence=40)], "open"),
    Row(
        "always: phrasing at once",
        {"mode": "always"},
        [turn("Let me connect you with a human agent.")],
        "open",
    ),
    Row("always: confident and no phrase", {"mode": "always"}, [turn(confidence=80)], None),
    Row(
        "always: threshold 0 turns confidence off",
        {"mode": "always", "confidence_threshold": 0},
        [turn(confidence=0)],
        None,
    ),
    Row(
        "off: not even the escalate tool",
        {"mode": "off"},
        [turn(confidence=5, tools=["escalate"])],
        None,
    ),
    Row(
        "off: the widget's human button still escalates",
        {"mode": "off"},
        [turn()],
        "open",
        human_button=True,
    ),
    Row(
        "internal agents never escalate",
        {"mode": "always"},
        [turn(confidence=5, tools=["escalate"])],
        None,
        "internal",
    ),
    Row(
        "escalation filter: other contacts are never escalated",
        {"escalation_filters": ENTERPRISE},
        [turn(tools=["escalate"])],
        None,
        traits={"plan": "free"},
    ),
    Row(
        "escalation filter: matching contact escalates",
        {"escalation_filters": ENTERPRISE},
        [turn(tools=["escalate"])],
        "open",
        traits={"plan": "Enterprise"},
    ),
    Row(
        "priority filter: matching contact gets Priority",
        {"priority_filters": ENTERPRISE},
        [turn(tools=["escalate"])],
        "priority",
        traits={"plan": "enterprise"},
    ),
]


async def play(inbox: Inbox, row: Row) -> UUID:
    agent = new_agent(inbox, row.agent_type, **row.settings)
    contact = new_contact(inbox, **row.traits)
    runtime = inbox.service
    conversation = runtime.start_conversation(
        inbox.workspace, f"table-{uuid.uuid4().hex[:8]}", ai_agent_id=agent, contact_id=contact
    )
    for step in row.turns:
        runtime.add_conversation_message(conversation.id, "user", "My sync keeps failing.")
        runtime.add_conversation_message(
            conversation.id,
            "ai",
            step["text"],
            confidence=step["confidence"],
            tool_calls=step["tools"],
        )
    if row.human_button:
        runtime.request_human(conversation.id)
    return conversation.id


async def test_escalation_decision_table(stack: Stack, inbox: Inbox) -> None:
    async with escalation_worker(stack.url, stack.service_role_key):
        played = [(row, await play(inbox, row)) for row in TABLE]
        outcomes = {}
        for row, conversation in played:
            await settled(inbox, conversation)
            tickets = tickets_of(inbox, conversation)
            assert len(tickets) <= 1, row.name
            outcomes[row.name] = tickets[0].status if tickets else None
    assert outcomes == {row.name: row.expected for row in TABLE}
    internal = next(c for r, c in played if r.agent_type == "internal")
    assert jobs_of(inbox, internal) == []  # nothing to decide: no job at all
    # Every decision is kept on the conversation, with why, for the Live Feed; an agent that
    # cannot escalate (internal, mode Off) has no job, so no decision, unless the button asks.
    kept = {
        row.name: inbox.service.rows(Conversation, id=conversation)[0]
        for row, conversation in played
    }
    undecided = {
        row.name
        for row in TABLE
        if row.agent_type == "internal"
        or (row.settings.get("mode") == "off" and not row.human_button)
    }
    assert {name: c.escalation_decision for name, c in kept.items()} == {
        row.name: None
        if row.name in undecided
        else ("escalated" if row.expected else "not_escalated")
        for row in TABLE
    }
    reasons = {name: c.escalation_reason for name, c in kept.items()}
    assert reasons["conditional: low confidence before max attempts waits"] == (
        "attempts_not_reached"
    )
    assert reasons["conditional: knowledge search required and missing"] == (
        "knowledge_search_required"
    )
    assert reasons["always: confident and no phrase"] == "no_signal"
    assert reasons["off: the widget's human button still escalates"] == "customer_button"


async def test_an_escalation_is_broadcast_and_ends_the_conversation_as_escalated(
    stack: Stack, inbox: Inbox
) -> None:
    agent = new_agent(inbox, require_knowledge_search=False, max_attempts=1)
    contact = new_contact(inbox, plan="pro")
    dashboard = await acreate_client(stack.url, stack.anon_key)
    await dashboard.realtime.set_auth(inbox.agent_token)
    heard = Heard()
    channel = dashboard.channel(f"workspace:{inbox.workspace}", {"config": {"private": True}})
    channel.on_broadcast("ticket.created", heard.callback())
    channel.on_broadcast("conversation.signal", heard.callback())
    states: list[str] = []
    await channel.subscribe(lambda state, _error: states.append(state))
    assert states[0] == RealtimeSubscribeStates.SUBSCRIBED
    try:
        async with escalation_worker(stack.url, stack.service_role_key):
            runtime = inbox.service
            conversation = runtime.start_conversation(
                inbox.workspace, ai_agent_id=agent, contact_id=contact
            )
            runtime.add_conversation_message(conversation.id, "user", "I was charged twice!")
            runtime.add_conversation_message(
                conversation.id, "ai", "Let me search.", confidence=70, tool_calls=[KB[0]]
            )

            def decided(decision: str) -> Callable[[list[Any]], bool]:
                return lambda got: any(
                    m["payload"].get("escalation_decision") == decision
                    and m["payload"].get("conversation_id") == str(conversation.id)
                    for m in got
                )

            await heard.wait(decided("not_escalated"))
            runtime.add_conversation_message(
                conversation.id,
                "ai",
                "I am handing this to the billing team.",
                confidence=20,
                tool_calls=[{"name": "escalate", "arguments": {"reason": "double charge"}}],
            )
            items = await heard.wait(decided("escalated"))
    finally:
        await dashboard.realtime.close()
    mine = [
        m["payload"] for m in items if m["payload"].get("conversation_id") == str(conversation.id)
    ]
    [created] = [p for p in mine if p["event"] == "ticket.created"]
    # The teammate heard why the first turn did not escalate, then why the second did.
    decisions = [
        (p["escalation_decision"], p["escalation_reason"])
        for p in mine
        if p["event"] == "conversation.signal" and "escalation_decision" in p["changed"]
    ]
    assert decisions == [("not_escalated", "no_signal"), ("escalated", "escalate_tool")]
    [ticket] = tickets_of(inbox, conversation.id)
    assert created["ticket_id"] == str(ticket.id) and created["status"] == "open"
    assert ticket.escalation_reason == "The AI escalated: double charge"
    assert ticket.metadata["escalation"]["tools_tried"] == ["escalate", "knowledge_search"]
    assert ticket.metadata["contact"]["traits"] == {"plan": "pro"}
    done = inbox.service.rows(Conversation, id=conversation.id)[0]
    assert (done.state, done.outcome, done.ai_paused) == ("completed", "escalated", True)
    with pytest.raises(APIError) as caught:
        inbox.service.add_conversation_message(conversation.id, "ai", "One more thing")
    assert caught.value.code == "PT409"


async def test_two_members_taking_over_at_once_get_one_ticket_and_one_clear_refusal(
    inbox: Inbox,
) -> None:
    conversation = inbox.service.start_conversation(inbox.workspace, ai_agent_id=new_agent(inbox))
    inbox.service.add_conversation_message(conversation.id, "user", "Can a person help me?")
    results = await asyncio.gather(
        asyncio.to_thread(inbox.agent.take_over, conversation.id),
        asyncio.to_thread(inbox.manager.take_over, conversation.id),
        return_exceptions=True,
    )
    tickets = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(tickets) == 1 and len(errors) == 1, results
    [error] = errors
    assert isinstance(error, APIError) and error.code == "PT409"
    assert "already taken over by" in str(error.message)
    [ticket] = tickets_of(inbox, conversation.id)
    assert ticket.status == "in_progress"
    assert str(ticket.assignee_id) in (AGENT, MANAGER)
    assert ticket.assignee_id == tickets[0].assignee_id
    joined = inbox.service.messages(conversation_id=conversation.id, kind="system")
    assert len(joined) == 1 and str(joined[0].body_text).endswith("from Acme Support joined")


async def test_takeover_and_pass_back_signal_the_ai_runtime_on_the_conversation_topic(
    stack: Stack, inbox: Inbox
) -> None:
    conversation = inbox.service.start_conversation(inbox.workspace, ai_agent_id=new_agent(inbox))
    runtime = await acreate_client(stack.url, stack.service_role_key)
    heard = Heard()
    channel = runtime.channel(f"conversation:{conversation.id}", {"config": {"private": True}})
    for event in ("conversation.paused", "conversation.resumed", "message.created"):
        channel.on_broadcast(event, heard.callback())
    states: list[str] = []
    await channel.subscribe(lambda state, _error: states.append(state))
    assert states[0] == RealtimeSubscribeStates.SUBSCRIBED
    try:
        ticket = inbox.agent.take_over(conversation.id)
        assert inbox.agent.take_over(conversation.id).id == ticket.id  # again: a no-op
        refused(lambda: inbox.service.add_conversation_message(conversation.id, "ai", "Hi"))
        inbox.agent.append_message(conversation_id=conversation.id, body_text="Hi, Remy here.")
        assert inbox.agent.pass_back_to_ai(conversation.id).ai_paused is False
        inbox.service.add_conversation_message(conversation.id, "ai", "Back to me!", confidence=90)
        items = await heard.wait(
            lambda got: len([m for m in got if m["event"] == "conversation.resumed"]) == 1
        )
    finally:
        await runtime.realtime.close()
    signals = [
        (m["event"], m["payload"].get("reason")) for m in items if m["event"] != "message.created"
    ]
    assert signals == [("conversation.paused", "takeover"), ("conversation.resumed", "pass_back")]
    paused = next(m["payload"] for m in items if m["event"] == "conversation.paused")
    assert paused["ai_paused"] is True and paused["ticket_id"] == str(ticket.id)
    # The teammate's reply reached the live conversation (and its ticket: one thread).
    authors = [m["payload"]["author_kind"] for m in items if m["event"] == "message.created"]
    assert "teammate" in authors
    replies = inbox.service.messages(conversation_id=conversation.id, author_kind="teammate")
    assert [r.ticket_id for r in replies] == [ticket.id]


async def test_replies_queued_while_the_widget_is_closed_arrive_until_acknowledged(
    inbox: Inbox,
) -> None:
    runtime = inbox.service
    conversation = runtime.start_conversation(inbox.workspace, ai_agent_id=new_agent(inbox))
    runtime.add_conversation_message(
        conversation.id, "user", "I need to leave, answer later please"
    )
    assert runtime.set_widget_open(conversation.id, False) == []
    ticket = inbox.agent.take_over(conversation.id)
    inbox.agent.reply_to_ticket(ticket.id, "chat", "Found it: your plan renews on the 3rd.", 10**9)
    inbox.agent.reply_to_ticket(ticket.id, "note", "Internal: checked billing", 10**9)
    delivered = runtime.set_widget_open(conversation.id, True)
    assert [m.body_text for m in delivered] == [
        "Remy from Acme Support joined",
        "Found it: your plan renews on the 3rd.",
    ]
    # Until the runtime confirms it showed them, every opening delivers them again.
    assert runtime.set_widget_open(conversation.id, True) == delivered
    shown = [m.id for m in delivered]
    assert runtime.acknowledge_widget_replies(conversation.id, shown) == 2
    assert runtime.acknowledge_widget_replies(conversation.id, shown) == 0  # a retry
    assert runtime.set_widget_open(conversation.id, True) == []
    # While the widget is open nothing queues: replies go out live, and to a poller.
    cursor = runtime.conversation_updates(conversation.id, limit=1000)["after_seq"]
    inbox.agent.reply_to_ticket(ticket.id, "chat", "Anything else?", 10**9)
    assert runtime.set_widget_open(conversation.id, True) == []
    polled = runtime.conversation_updates(conversation.id, after_seq=cursor)
    assert [e["message"]["body_text"] for e in polled["events"]] == ["Anything else?"]


async def test_identify_relinks_an_anonymous_visitors_conversations_and_tickets(
    inbox: Inbox,
) -> None:
    runtime = inbox.service
    anonymous = f"anon-{uuid.uuid4().hex[:8]}"
    first = runtime.start_conversation(
        inbox.workspace, anonymous_id=anonymous, ai_agent_id=new_agent(inbox)
    )
    second = runtime.start_conversation(inbox.workspace, anonymous_id=anonymous)
    assert first.visitor_id == second.visitor_id and first.contact_id is None
    runtime.add_conversation_message(first.id, "user", "Hello from nowhere")
    ticket = inbox.agent.take_over(first.id)
    assert ticket.contact_id is None
    email = f"{anonymous}@example.org"
    moved = runtime.identify_visitor(inbox.workspace, anonymous, email=email, name="Lisa")
    assert (moved["conversations"], moved["tickets"], moved["messages"]) == (2, 1, 1)
    contact = UUID(moved["contact_id"])
    assert all(
        c.contact_id == contact
        for c in (
            inbox.service.rows(Conversation, id=first.id)
            + inbox.service.rows(Conversation, id=second.id)
        )
    )
    assert inbox.service.rows(Ticket, id=ticket.id)[0].contact_id == contact
    # Identifying again (same email) finds the same contact and moves nothing.
    again = runtime.identify_visitor(inbox.workspace, anonymous, email=email.upper())
    assert again["contact_id"] == str(contact) and again["conversations"] == 0
    assert (
        refused(lambda: runtime.identify_visitor(inbox.workspace, "never-seen", email=email)).code
        == "P0002"
    )


async def test_heartbeats_and_ending_a_session(inbox: Inbox) -> None:
    runtime = inbox.service
    conversation = runtime.start_conversation(inbox.workspace, ai_agent_id=new_agent(inbox))
    runtime.conversation_heartbeat(conversation.id)
    live = runtime.rows(Conversation, id=conversation.id)[0]
    assert live.last_user_activity_at is not None
    assert (
        refused(
            lambda: runtime.conversation_heartbeat(conversation.id, workspace_id=uuid.uuid4())
        ).code
        == "P0002"
    )
    done = runtime.complete_conversation(conversation.id, end_reason="timed_out")
    assert (done.state, done.outcome) == ("completed", "abandoned")
    assert (
        refused(
            lambda: runtime.add_conversation_message(conversation.id, "ai", "Still there?")
        ).code
        == "PT409"
    )
