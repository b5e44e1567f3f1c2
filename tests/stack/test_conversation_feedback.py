"""Teammates' feedback on the AI through the REST API: the training whisper, corrections, thumbs,
and the Live Feed / Completed lists, each as the member who would do it and as those who may not."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from uuid import UUID

import pytest
from realtime import RealtimeSubscribeStates

from halo_supabase.models import Contact, Message
from supabase import acreate_client
from tests.db.demo import ACME, AI_AGENT
from tests.stack.conftest import Stack
from tests.stack.inbox_support import Inbox, inbox, refused
from tests.stack.realtime_support import Inbox as Heard

__all__ = ["inbox"]


def conversation(inbox: Inbox, contact: UUID | None = None) -> UUID:
    row = inbox.service.start_conversation(
        inbox.workspace,
        session_id=f"fb-{uuid.uuid4().hex}",
        ai_agent_id=UUID(AI_AGENT),
        contact_id=contact,
    )
    return UUID(str(row.id))


def say(inbox: Inbox, conversation_id: UUID, author_kind: str, text: str) -> Message:
    extra = {"author_ai_agent_id": UUID(AI_AGENT)} if author_kind == "ai_agent" else {}
    message: Message = inbox.service.append_message(
        conversation_id=conversation_id,
        kind="chat",
        author_kind=author_kind,
        body_text=text,
        **extra,
    )
    return message


def feedback_count(inbox: Inbox, message: Message) -> int:
    return len(inbox.service.message_feedback(message_id=message.id))


def unrate(inbox: Inbox, message: Message) -> Any:
    """The agent takes their thumb back (a null rating)."""
    return inbox.agent.rate_ai_message(message.id)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_whisper_reaches_the_ai_runtime_and_trains_on_an_identified_visitor(
    stack: Stack, inbox: Inbox
) -> None:
    runtime = await acreate_client(stack.url, stack.service_role_key)
    identified = conversation(inbox, inbox.contact())
    heard = Heard()
    channel = runtime.channel(f"conversation:{identified}", {"config": {"private": True}})
    channel.on_broadcast("ai.whisper", lambda message: heard.add(message["payload"]))
    states: list[object] = []
    await channel.subscribe(lambda state, _error: states.append(state))
    while not states:
        await asyncio.sleep(0.05)
    assert states[-1] == RealtimeSubscribeStates.SUBSCRIBED

    whisper = inbox.agent.whisper_to_ai(identified, "  Offer the 10% loyalty discount.  ")
    assert (whisper.kind, whisper.direction) == ("whisper", "internal")
    (note,) = await heard.wait(1, timeout=10)
    assert note["text"] == "Offer the 10% loyalty discount."
    assert note["message_id"] == str(whisper.id)
    (entry,) = inbox.service.training_entries(source_message_id=whisper.id)
    assert (entry.scope, entry.source) == ("contact", "whisper")
    assert note["training_entry_id"] == str(entry.id)
    await runtime.remove_all_channels()

    # The AI runtime reads what it has not answered yet; its next reply consumes it.
    pending = inbox.service.pending_whispers(identified)
    assert [m.id for m in pending] == [whisper.id]
    say(inbox, identified, "ai_agent", "We can offer you a 10% discount.")
    assert inbox.service.pending_whispers(identified) == []

    anonymous = conversation(inbox)
    transient = inbox.agent.whisper_to_ai(anonymous, "Be brief.")
    assert inbox.service.training_entries(source_message_id=transient.id) == []


def test_whisper_permissions_and_bad_input(inbox: Inbox) -> None:
    live = conversation(inbox)
    assert refused(lambda: inbox.viewer.whisper_to_ai(live, "x")).code == "42501"
    assert refused(lambda: inbox.outsider.whisper_to_ai(live, "x")).code == "P0002"
    assert refused(lambda: inbox.agent.whisper_to_ai(live, "   ")).code == "22023"
    assert refused(lambda: inbox.agent.whisper_to_ai(uuid.uuid4(), "x")).code == "P0002"
    inbox.service.complete_conversation(live, outcome="resolved")
    error = refused(lambda: inbox.agent.whisper_to_ai(live, "x"))
    assert error.code == "22023" and "completed" in (error.message or "")
    # Nothing was written by the refused calls.
    assert inbox.service.messages(conversation_id=live) == []


def test_thumbs_on_ai_messages(inbox: Inbox) -> None:
    chat = conversation(inbox)
    customer = say(inbox, chat, "customer", "Where is my parcel?")
    answer = say(inbox, chat, "ai_agent", "It left our warehouse yesterday.")
    assert inbox.agent.rate_ai_message(answer.id, 1).rating == 1
    # One rating per teammate, changed in place.
    assert inbox.agent.rate_ai_message(answer.id, -1).rating == -1
    assert inbox.manager.rate_ai_message(answer.id, 1).rating == 1
    assert feedback_count(inbox, answer) == 2
    assert unrate(inbox, answer) is None  # no feedback row left
    assert feedback_count(inbox, answer) == 1

    for call, code in (
        (lambda: inbox.agent.rate_ai_message(answer.id, 2), "22023"),
        (lambda: inbox.agent.rate_ai_message(customer.id, 1), "22023"),
        (lambda: inbox.viewer.rate_ai_message(answer.id, 1), "42501"),
        (lambda: inbox.outsider.rate_ai_message(answer.id, 1), "P0002"),
        (lambda: inbox.agent.rate_ai_message(uuid.uuid4(), 1), "P0002"),
    ):
        assert refused(call).code == code
    assert feedback_count(inbox, answer) == 1


def test_corrections_become_training_and_are_edited_in_place(inbox: Inbox) -> None:
    chat = conversation(inbox)
    answer = say(inbox, chat, "ai_agent", "Refunds take 30 days.")
    first = inbox.agent.correct_ai_message(answer.id, "Refunds take 5 business days.")
    assert first.correction == "Refunds take 5 business days."
    inbox.agent.rate_ai_message(answer.id, -1)
    inbox.agent.correct_ai_message(answer.id, "Refunds take 5 days.")
    (entry,) = inbox.service.training_entries(source_message_id=answer.id)
    assert (entry.scope, entry.source, entry.body_text) == (
        "workspace",
        "correction",
        "Refunds take 5 days.",
    )
    # Taking the thumb back keeps the correction.
    kept = unrate(inbox, answer)
    assert (kept.rating, kept.correction) == (None, "Refunds take 5 days.")

    assert refused(lambda: inbox.agent.correct_ai_message(answer.id, "")).code == "22023"
    assert refused(lambda: inbox.viewer.correct_ai_message(answer.id, "x")).code == "42501"
    assert refused(lambda: inbox.outsider.correct_ai_message(answer.id, "x")).code == "P0002"
    assert len(inbox.service.training_entries(source_message_id=answer.id)) == 1


def test_live_feed_and_completed_rows(inbox: Inbox) -> None:
    contact = inbox.contact()
    inbox.service.update(Contact, {"name": "Ada Lovelace"}, id=contact)
    named, anonymous = conversation(inbox, contact), conversation(inbox)
    say(inbox, named, "customer", "Hello, is anyone there?")
    inbox.service.record_conversation_signal(named, mood="confused", topic="Login")

    acme = UUID(ACME)
    live = {row.id: row for row in inbox.viewer.list_conversations(acme, "live", limit=200)}
    assert (live[named].user_name, live[named].agent_name) == ("Ada Lovelace", "Ava")
    assert (live[named].mood, live[named].topic, live[named].user_active) == (
        "confused",
        "Login",
        True,
    )
    assert (live[anonymous].user_name, live[anonymous].user_active) == ("Anonymous", False)

    inbox.service.complete_conversation(named, outcome="escalated")
    completed = inbox.viewer.list_conversations(acme, "completed", limit=200)
    row = next(r for r in completed if r.id == named)
    assert (row.outcome, row.user_active, row.user_name) == ("escalated", False, "Ada Lovelace")
    assert named not in {r.id for r in inbox.viewer.list_conversations(acme, "live", limit=200)}
    assert refused(lambda: inbox.outsider.list_conversations(acme)).code == "42501"
