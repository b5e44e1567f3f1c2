"""Teammates' feedback on the AI through the REST API: the training whisper, corrections, thumbs,
and the Live Feed / Completed lists, each as the member who would do it and as those who may not."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from realtime import RealtimeSubscribeStates

from supabase import acreate_client
from tests.db.demo import ACME, AI_AGENT
from tests.stack.conftest import Stack
from tests.stack.inbox_support import Inbox, inbox, refused
from tests.stack.realtime_support import Inbox as Heard

__all__ = ["inbox"]


def conversation(inbox: Inbox, contact: uuid.UUID | None = None) -> str:
    row = inbox.service.call(
        "start_conversation",
        workspace_id=inbox.workspace,
        session_id=f"fb-{uuid.uuid4().hex}",
        ai_agent_id=AI_AGENT,
        contact_id=contact,
    )
    return str(row["id"])


def say(inbox: Inbox, conversation_id: str, author_kind: str, text: str) -> dict[str, Any]:
    extra = {"author_ai_agent_id": AI_AGENT} if author_kind == "ai_agent" else {}
    row: dict[str, Any] = inbox.service.call(
        "append_message",
        conversation_id=conversation_id,
        kind="chat",
        author_kind=author_kind,
        body_text=text,
        **extra,
    )
    return row


def training_entries(inbox: Inbox, **filters: str) -> list[dict[str, Any]]:
    query = inbox.raw.schema("api").from_("training_entries").select("*")
    for column, value in filters.items():
        query = query.eq(column, value)
    rows: list[dict[str, Any]] = query.execute().data
    return rows


def unrate(inbox: Inbox, message_id: str) -> Any:
    """The agent takes their thumb back (a null rating)."""
    return inbox.agent.call("rate_ai_message", message_id=message_id)


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

    whisper = inbox.agent.call(
        "whisper_to_ai", conversation_id=identified, text="  Offer the 10% loyalty discount.  "
    )
    assert (whisper["kind"], whisper["direction"]) == ("whisper", "internal")
    (note,) = await heard.wait(1, timeout=10)
    assert note["text"] == "Offer the 10% loyalty discount."
    assert note["message_id"] == whisper["id"]
    (entry,) = training_entries(inbox, source_message_id=whisper["id"])
    assert (entry["scope"], entry["source"]) == ("contact", "whisper")
    assert note["training_entry_id"] == entry["id"]
    await runtime.remove_all_channels()

    # The AI runtime reads what it has not answered yet; its next reply consumes it.
    pending = inbox.service.call("pending_whispers", conversation_id=identified)
    assert [m["id"] for m in pending] == [whisper["id"]]
    say(inbox, identified, "ai_agent", "We can offer you a 10% discount.")
    assert inbox.service.call("pending_whispers", conversation_id=identified) == []

    anonymous = conversation(inbox)
    transient = inbox.agent.call("whisper_to_ai", conversation_id=anonymous, text="Be brief.")
    assert training_entries(inbox, source_message_id=transient["id"]) == []


def test_whisper_permissions_and_bad_input(inbox: Inbox) -> None:
    live = conversation(inbox)
    assert (
        refused(lambda: inbox.viewer.call("whisper_to_ai", conversation_id=live, text="x")).code
        == "42501"
    )
    assert (
        refused(lambda: inbox.outsider.call("whisper_to_ai", conversation_id=live, text="x")).code
        == "P0002"
    )
    assert (
        refused(lambda: inbox.agent.call("whisper_to_ai", conversation_id=live, text="   ")).code
        == "22023"
    )
    missing = str(uuid.uuid4())
    assert (
        refused(lambda: inbox.agent.call("whisper_to_ai", conversation_id=missing, text="x")).code
        == "P0002"
    )
    inbox.service.call("complete_conversation", conversation_id=live, outcome="resolved")
    error = refused(lambda: inbox.agent.call("whisper_to_ai", conversation_id=live, text="x"))
    assert error.code == "22023" and "completed" in (error.message or "")
    # Nothing was written by the refused calls.
    messages = inbox.raw.schema("api").from_("messages").select("id").eq("conversation_id", live)
    assert messages.execute().data == []


def test_thumbs_on_ai_messages(inbox: Inbox) -> None:
    chat = conversation(inbox)
    customer = say(inbox, chat, "customer", "Where is my parcel?")
    answer = say(inbox, chat, "ai_agent", "It left our warehouse yesterday.")
    up = inbox.agent.call("rate_ai_message", message_id=answer["id"], rating=1)
    assert up["rating"] == 1
    down = inbox.agent.call("rate_ai_message", message_id=answer["id"], rating=-1)
    assert down["rating"] == -1  # one rating per teammate, changed in place
    manager = inbox.manager.call("rate_ai_message", message_id=answer["id"], rating=1)
    assert manager["rating"] == 1
    feedback = inbox.raw.schema("api").from_("message_feedback").select("*")
    assert len(feedback.eq("message_id", answer["id"]).execute().data) == 2
    assert unrate(inbox, answer["id"])["message_id"] is None  # no feedback row left
    assert len(feedback.eq("message_id", answer["id"]).execute().data) == 1

    for call, code in (
        (lambda: inbox.agent.call("rate_ai_message", message_id=answer["id"], rating=2), "22023"),
        (lambda: inbox.agent.call("rate_ai_message", message_id=customer["id"], rating=1), "22023"),
        (lambda: inbox.viewer.call("rate_ai_message", message_id=answer["id"], rating=1), "42501"),
        (
            lambda: inbox.outsider.call("rate_ai_message", message_id=answer["id"], rating=1),
            "P0002",
        ),
        (
            lambda: inbox.agent.call("rate_ai_message", message_id=str(uuid.uuid4()), rating=1),
            "P0002",
        ),
    ):
        assert refused(call).code == code
    assert len(feedback.eq("message_id", answer["id"]).execute().data) == 1


def test_corrections_become_training_and_are_edited_in_place(inbox: Inbox) -> None:
    chat = conversation(inbox)
    answer = say(inbox, chat, "ai_agent", "Refunds take 30 days.")
    first = inbox.agent.call(
        "correct_ai_message", message_id=answer["id"], correction="Refunds take 5 business days."
    )
    assert first["correction"] == "Refunds take 5 business days."
    inbox.agent.call("rate_ai_message", message_id=answer["id"], rating=-1)
    inbox.agent.call(
        "correct_ai_message", message_id=answer["id"], correction="Refunds take 5 days."
    )
    (entry,) = training_entries(inbox, source_message_id=answer["id"])
    assert (entry["scope"], entry["source"], entry["body_text"]) == (
        "workspace",
        "correction",
        "Refunds take 5 days.",
    )
    # Taking the thumb back keeps the correction.
    kept = unrate(inbox, answer["id"])
    assert (kept["rating"], kept["correction"]) == (None, "Refunds take 5 days.")

    assert (
        refused(
            lambda: inbox.agent.call("correct_ai_message", message_id=answer["id"], correction="")
        ).code
        == "22023"
    )
    assert (
        refused(
            lambda: inbox.viewer.call("correct_ai_message", message_id=answer["id"], correction="x")
        ).code
        == "42501"
    )
    assert (
        refused(
            lambda: inbox.outsider.call(
                "correct_ai_message", message_id=answer["id"], correction="x"
            )
        ).code
        == "P0002"
    )
    assert len(training_entries(inbox, source_message_id=answer["id"])) == 1


def test_live_feed_and_completed_rows(inbox: Inbox) -> None:
    contact = inbox.contact()
    inbox.raw.schema("api").from_("contacts").update({"name": "Ada Lovelace"}).eq(
        "id", str(contact)
    ).execute()
    named, anonymous = conversation(inbox, contact), conversation(inbox)
    say(inbox, named, "customer", "Hello, is anyone there?")
    inbox.service.call(
        "record_conversation_signal", conversation_id=named, mood="confused", topic="Login"
    )

    live = {
        row["id"]: row
        for row in inbox.viewer.call(
            "list_conversations", workspace_id=ACME, view="live", limit=200
        )
    }
    assert (live[named]["user_name"], live[named]["agent_name"]) == (
        "Ada Lovelace",
        "Ava",
    )
    assert (live[named]["mood"], live[named]["topic"], live[named]["user_active"]) == (
        "confused",
        "Login",
        True,
    )
    assert (live[anonymous]["user_name"], live[anonymous]["user_active"]) == ("Anonymous", False)

    inbox.service.call("complete_conversation", conversation_id=named, outcome="escalated")
    completed = inbox.viewer.call(
        "list_conversations", workspace_id=ACME, view="completed", limit=200
    )
    row = next(r for r in completed if r["id"] == named)
    assert (row["outcome"], row["user_active"], row["user_name"]) == (
        "escalated",
        False,
        "Ada Lovelace",
    )
    assert named not in {
        r["id"]
        for r in inbox.viewer.call("list_conversations", workspace_id=ACME, view="live", limit=200)
    }
    assert (
        refused(lambda: inbox.outsider.call("list_conversations", workspace_id=ACME)).code
        == "42501"
    )
