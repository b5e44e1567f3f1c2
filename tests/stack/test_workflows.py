"""Ticket workflows through the REST API with real member JWTs (supabase-py → gateway → RLS)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest

from halo_supabase.models import Message, Ticket, WorkspaceSettings
from tests.db.demo import AGENT, ALIAS, MANAGER
from tests.stack.conftest import Stack
from tests.stack.inbox_support import Inbox, inbox, refused

__all__ = ["inbox"]

# (action, status before, status after) for every valid move of transition_ticket.
VALID = [
    ("mark_priority", "open", "priority"),
    ("unmark_priority", "priority", "open"),
    ("start_progress", "open", "in_progress"),
    ("open", "in_progress", "open"),
    ("snooze", "open", "snoozed"),
    ("start_progress", "snoozed", "in_progress"),
    ("mark_priority", "in_progress", "priority"),
    ("snooze", "priority", "snoozed"),
    ("mark_priority", "snoozed", "priority"),
    ("unmark_priority", "priority", "open"),
    ("resolve", "open", "resolved"),
    ("reopen", "resolved", "open"),
    ("mark_spam", "open", "spam"),
    ("not_spam", "spam", "open"),
]


def test_every_valid_transition_in_turn(inbox: Inbox) -> None:
    ticket = inbox.ticket("Transitions")
    start = inbox.last_seq()
    for action, before, after in VALID:
        assert ticket.status == before, action
        until = datetime.now(UTC) + timedelta(days=1) if action == "snooze" else None
        ticket = inbox.manager.transition_ticket(ticket.id, action, snoozed_until=until)
        assert ticket.status == after, action
    names = [e.name for e in inbox.events(ticket.id, start)]
    assert names.count("ticket.status_changed") == len(VALID)
    assert "ticket.snoozed" in names and "ticket.woken" in names


@pytest.mark.parametrize(
    ("setup", "action", "status"),
    [
        ([], "reopen", "open"),
        ([], "not_spam", "open"),
        ([], "open", "open"),
        (["mark_priority"], "mark_priority", "priority"),
        (["resolve"], "start_progress", "resolved"),
        (["resolve"], "snooze", "resolved"),
        (["mark_spam"], "resolve", "spam"),
        (["mark_spam"], "mark_spam", "spam"),
    ],
)
def test_invalid_transitions_are_refused_with_hl001(
    inbox: Inbox, setup: list[str], action: str, status: str
) -> None:
    ticket = inbox.ticket("Invalid move")
    for step in setup:
        ticket = inbox.manager.transition_ticket(ticket.id, step)  # type: ignore[arg-type]
    error = refused(lambda: inbox.manager.transition_ticket(ticket.id, action))  # type: ignore[arg-type]
    assert error.code == "HL001"
    assert error.message == f"cannot {action.replace('_', ' ')} a ticket that is {status}"
    assert json.loads(str(error.details))["status"] == status
    assert _ticket(inbox, ticket.id).status == status


def test_bad_arguments_and_resolvers(inbox: Inbox) -> None:
    ticket = inbox.ticket("Arguments")
    assert refused(lambda: inbox.manager.transition_ticket(ticket.id, "close")).code == "22023"  # type: ignore[arg-type]
    past = datetime.now(UTC) - timedelta(minutes=1)
    assert (
        refused(lambda: inbox.manager.transition_ticket(ticket.id, "snooze", past)).code == "22023"
    )
    assert (
        refused(
            lambda: inbox.manager.transition_ticket(ticket.id, "resolve", resolved_by="ai")
        ).code
        == "42501"
    )
    assert inbox.manager.transition_ticket(ticket.id, "resolve").resolved_by == "human"
    other = inbox.ticket("AI resolves")
    assert (
        inbox.service.transition_ticket(other.id, "resolve", resolved_by="ai").status
        == "ai_resolved"
    )
    third = inbox.ticket("Auto resolves")
    assert inbox.service.transition_ticket(third.id, "resolve").resolved_by == "auto"


def test_permissions(inbox: Inbox) -> None:
    ticket = inbox.ticket("Permissions")
    assert refused(lambda: inbox.agent.transition_ticket(ticket.id, "resolve")).code == "42501"
    assert refused(lambda: inbox.viewer.transition_ticket(ticket.id, "resolve")).code == "42501"
    assert refused(lambda: inbox.outsider.transition_ticket(ticket.id, "resolve")).code == "P0002"
    seq = inbox.last_seq()
    assert (
        refused(lambda: inbox.viewer.reply_to_ticket(ticket.id, "chat", "hi", seq)).code == "42501"
    )
    assert (
        refused(lambda: inbox.outsider.reply_to_ticket(ticket.id, "chat", "hi", seq)).code
        == "P0002"
    )
    assert refused(lambda: inbox.agent.assign_ticket(ticket.id, UUID(AGENT))).code == "42501"
    assert refused(lambda: inbox.agent.set_ticket_labels(ticket.id, ["x"])).code == "42501"
    assert refused(lambda: inbox.agent.merge_tickets(ticket.id, ticket.id)).code == "22023"
    assert refused(lambda: inbox.viewer.set_ticket_ai_paused(ticket.id, True)).code == "42501"
    assert inbox.agent.reply_to_ticket(ticket.id, "note", "ok", seq).kind == "note"
    assert inbox.manager.assign_ticket(ticket.id, UUID(AGENT)).assignee_id == UUID(AGENT)
    assert inbox.manager.assign_ticket(ticket.id, None).assignee_id is None
    assert refused(lambda: inbox.manager.assign_ticket(ticket.id, UUID(int=5))).code == "23503"


def test_send_guard_refuses_replies_over_newer_messages(inbox: Inbox, stack: Stack) -> None:
    ticket = inbox.ticket("Send guard")
    seen = inbox.last_seq()
    inbox.customer_says(ticket, "Any news?")
    error = refused(lambda: inbox.agent.reply_to_ticket(ticket.id, "email", "Working on it", seen))
    assert error.code == "PT409"
    assert "customer message" in str(error.message)
    [change] = json.loads(str(error.details))
    assert (change["author_kind"], change["kind"]) == ("customer", "email")
    assert [m.body_text for m in _thread(inbox, ticket.id)] == ["Any news?"]

    # Over plain HTTP the conflict is a 409.
    token = inbox.agent_token
    response = httpx.post(
        f"{stack.url}/rest/v1/rpc/reply_to_ticket",
        headers={
            "apikey": stack.anon_key,
            "Authorization": f"Bearer {token}",
            "Content-Profile": "api",
        },
        json={
            "p_ticket_id": str(ticket.id),
            "p_kind": "email",
            "p_body_text": "x",
            "p_last_seen_seq": seen,
        },
    )
    assert response.status_code == 409

    seen = inbox.last_seq()
    inbox.agent.reply_to_ticket(ticket.id, "email", "Working on it", seen)
    # The agent's own reply is no conflict for the agent; a teammate's note is.
    inbox.agent.reply_to_ticket(ticket.id, "note", "Asked billing", seen)
    inbox.manager.reply_to_ticket(ticket.id, "note", "Billing says yes", inbox.last_seq())
    error = refused(lambda: inbox.agent.reply_to_ticket(ticket.id, "email", "Yes!", seen))
    assert error.code == "PT409" and "teammate note" in str(error.message)
    assert (
        refused(lambda: inbox.agent.reply_to_ticket(ticket.id, "whisper", "x", seen)).code
        == "22023"
    )  # type: ignore[arg-type]


def test_a_chat_reply_on_an_email_ticket_is_a_400_naming_its_channels(
    inbox: Inbox, stack: Stack
) -> None:
    ticket = inbox.ticket("Email only")
    response = httpx.post(
        f"{stack.url}/rest/v1/rpc/reply_to_ticket",
        headers={
            "apikey": stack.anon_key,
            "Authorization": f"Bearer {inbox.agent_token}",
            "Content-Profile": "api",
        },
        json={
            "p_ticket_id": str(ticket.id),
            "p_kind": "chat",
            "p_body_text": "Anyone there?",
            "p_last_seen_seq": inbox.last_seq(),
        },
    )
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "22023"
    assert "no conversation, so a chat reaches no one; it can take email, note" in error["message"]
    assert json.loads(error["details"]) == {"channels": ["email", "note"]}
    assert _thread(inbox, ticket.id) == []


def test_a_teammate_cannot_set_ai_resolved(inbox: Inbox) -> None:
    ticket = inbox.ticket("Not the AI")
    error = refused(lambda: inbox.manager.set_ticket_status(ticket.id, "ai_resolved"))
    assert error.code == "42501" and "AI Resolved" in str(error.message)
    assert inbox.service.set_ticket_status(ticket.id, "ai_resolved").status == "ai_resolved"


def test_reply_as_alias_user_and_auto_assign_on_reply(inbox: Inbox) -> None:
    ticket = inbox.ticket("Auto-assign")
    assert ticket.assignee_id is None
    inbox.agent.reply_to_ticket(ticket.id, "note", "Looking", inbox.last_seq())
    assert _ticket(inbox, ticket.id).assignee_id is None  # a note is not a reply
    message = inbox.agent.reply_to_ticket(
        ticket.id, "email", "Hello from the team", inbox.last_seq(), alias_user_id=UUID(ALIAS)
    )
    assert (message.author_kind, message.author_alias_user_id) == ("alias_user", UUID(ALIAS))
    assert _ticket(inbox, ticket.id).assignee_id == UUID(AGENT)
    inbox.manager.reply_to_ticket(ticket.id, "email", "Me too", inbox.last_seq())
    assert _ticket(inbox, ticket.id).assignee_id == UUID(AGENT)  # only the first replier


def test_auto_assign_off(inbox: Inbox) -> None:
    inbox.service.update(
        WorkspaceSettings, {"auto_assign_on_reply": False}, workspace_id=inbox.workspace
    )
    try:
        ticket = inbox.ticket("No auto-assign")
        inbox.agent.reply_to_ticket(ticket.id, "email", "Hi", inbox.last_seq())
        assert _ticket(inbox, ticket.id).assignee_id is None
    finally:
        inbox.service.update(
            WorkspaceSettings, {"auto_assign_on_reply": True}, workspace_id=inbox.workspace
        )


def test_mentions_feed_the_mentions_view(inbox: Inbox) -> None:
    ticket = inbox.ticket("Mentions")
    start = inbox.last_seq()
    note = inbox.manager.reply_to_ticket(
        ticket.id, "note", "@remy can you check? cc @nobody", start
    )
    assert note.mentions == [UUID(AGENT)]
    assert ticket.id in [t.id for t in inbox.agent.list_tickets(view="mentions")]
    assert ticket.id not in [t.id for t in inbox.manager.list_tickets(view="mentions")]
    events = inbox.events(ticket.id, start)
    [mention] = [e for e in events if e.name == "mention.created"]
    assert mention.data["user_id"] == AGENT
    assert inbox.agent.inbox_counts()["views"]["mentions"] >= 1
    email = inbox.manager.reply_to_ticket(
        ticket.id, "email", "@remy in an email is not a mention", inbox.last_seq()
    )
    assert email.mentions == []


def test_snooze_is_woken_by_the_scheduled_job(inbox: Inbox) -> None:
    ticket = inbox.ticket("Snooze timer")
    until = datetime.now(UTC) + timedelta(seconds=1)
    snoozed = inbox.manager.transition_ticket(ticket.id, "snooze", snoozed_until=until)
    assert snoozed.status == "snoozed"
    assert inbox.service.wake_ticket(ticket.id).status == "snoozed"  # not due yet
    time.sleep(1.2)
    jobs = [
        j
        for j in inbox.service.claim_jobs("ticket.wake", "test-waker", batch=100)
        if j.payload["ticket_id"] == str(ticket.id)
    ]
    assert len(jobs) == 1
    job = jobs[0]
    woken = inbox.service.wake_ticket(
        ticket.id, datetime.fromisoformat(job.payload["snoozed_until"])
    )
    assert job.lease_token is not None
    inbox.service.complete_job(job.id, job.lease_token)
    assert woken.status == "open"
    assert woken.waiting_since is not None and woken.waiting_since > until
    assert woken.last_activity_at > until
    [event] = [e for e in inbox.events(ticket.id) if e.name == "ticket.woken"]
    assert event.data["reason"] == "timer"
    assert inbox.service.wake_ticket(ticket.id).status == "open"  # idempotent


def test_snooze_is_woken_at_once_by_a_customer_reply(inbox: Inbox) -> None:
    ticket = inbox.ticket("Snooze reply")
    inbox.customer_says(ticket, "first")
    before = _ticket(inbox, ticket.id).waiting_since
    inbox.manager.transition_ticket(ticket.id, "snooze", datetime.now(UTC) + timedelta(days=2))
    inbox.customer_says(ticket, "Hello? Still there?")
    woken = _ticket(inbox, ticket.id)
    assert woken.status == "open" and woken.snoozed_until is None
    assert before is not None and woken.waiting_since is not None and woken.waiting_since > before
    reasons = [e.data["reason"] for e in inbox.events(ticket.id) if e.name == "ticket.woken"]
    assert reasons == ["customer_reply"]


def test_merge_unmerge_round_trip_and_follow_up_redirect(inbox: Inbox) -> None:
    customer = inbox.contact()
    source = inbox.ticket("Printer broken", customer, labels=["hardware"])
    target = inbox.ticket("Printer still broken", customer)
    inbox.customer_says(source, "It smokes")
    inbox.manager.reply_to_ticket(source.id, "note", "@remy look", inbox.last_seq())
    inbox.customer_says(target, "Any update?")
    source = inbox.manager.transition_ticket(source.id, "start_progress")

    merged = inbox.manager.merge_tickets(source.id, target.id)
    assert merged.labels == ["hardware"]
    assert _texts(inbox, target.id) == ["It smokes", "@remy look", "Any update?"]
    assert _texts(inbox, source.id) == []
    gone = _ticket(inbox, source.id)
    assert (gone.merged_into_id, gone.status) == (target.id, "resolved")
    assert target.id in [m.ticket_id for m in inbox.service.mentions(user_id=AGENT)]
    names = [e.name for e in inbox.events(source.id)]
    assert "ticket.merged" in names

    inbox.customer_says(source, "Follow-up to the old thread")  # e.g. an email reply
    assert _texts(inbox, target.id)[-1] == "Follow-up to the old thread"
    assert (
        refused(lambda: inbox.agent.reply_to_ticket(source.id, "chat", "x", inbox.last_seq())).code
        == "HL002"
    )
    assert refused(lambda: inbox.manager.merge_tickets(target.id, source.id)).code == "HL002"

    restored = inbox.manager.unmerge_ticket(source.id)
    assert (restored.merged_into_id, restored.status) == (None, "in_progress")
    assert _texts(inbox, source.id) == ["It smokes", "@remy look"]
    assert _texts(inbox, target.id) == ["Any update?", "Follow-up to the old thread"]
    assert refused(lambda: inbox.manager.unmerge_ticket(source.id)).code == "HL002"
    assert "ticket.unmerged" in [e.name for e in inbox.events(source.id)]


def test_merge_refuses_different_customers_and_needs_manage(inbox: Inbox) -> None:
    first, second = inbox.ticket("A"), inbox.ticket("B")
    error = refused(lambda: inbox.manager.merge_tickets(first.id, second.id))
    assert error.code == "HL002" and "same customer" in str(error.message)
    customer = inbox.contact()
    third, fourth = inbox.ticket("C", customer), inbox.ticket("D", customer)
    assert refused(lambda: inbox.agent.merge_tickets(third.id, fourth.id)).code == "42501"
    assert refused(lambda: inbox.outsider.merge_tickets(third.id, fourth.id)).code == "P0002"
    assert _ticket(inbox, third.id).merged_into_id is None


def test_pause_ai_and_pass_back(inbox: Inbox) -> None:
    ticket = inbox.ticket("AI pause")
    start = inbox.last_seq()
    assert inbox.agent.set_ticket_ai_paused(ticket.id, True).ai_paused is True
    assert inbox.agent.set_ticket_ai_paused(ticket.id, True).ai_paused is True  # no second event
    assert inbox.agent.set_ticket_ai_paused(ticket.id, False).ai_paused is False
    names = [e.name for e in inbox.events(ticket.id, start)]
    assert names.count("ticket.ai_paused") == 1 and names.count("ticket.ai_resumed") == 1


def test_labels_category_custom_fields_priority(inbox: Inbox) -> None:
    ticket = inbox.ticket("Fields")
    ticket = inbox.manager.set_ticket_labels(ticket.id, ["vip", "bug"])
    ticket = inbox.manager.set_ticket_labels(ticket.id, ["churn"], ["bug"])
    assert ticket.labels == ["churn", "vip"]
    assert refused(lambda: inbox.manager.set_ticket_labels(ticket.id, ["a,b"])).code == "22023"
    ticket = inbox.manager.update_ticket(
        ticket.id, category="bug", custom_fields={"plan": "pro"}, priority="urgent"
    )
    assert (ticket.category, ticket.custom_fields, ticket.status) == (
        "bug",
        {"plan": "pro"},
        "priority",
    )
    assert MANAGER  # the manager made every change above


def _ticket(inbox: Inbox, ticket_id: UUID) -> Ticket:
    [ticket] = inbox.service.rows(Ticket, id=ticket_id)
    return ticket


def _thread(inbox: Inbox, ticket_id: UUID) -> list[Message]:
    rows = inbox.service.rows(Message, ticket_id=ticket_id)
    return sorted((m for m in rows if m.kind != "system"), key=lambda m: m.created_at)


def _texts(inbox: Inbox, ticket_id: UUID) -> list[str | None]:
    return [m.body_text for m in _thread(inbox, ticket_id)]
