"""The conversation API in SQL (issue 8, part A): each test acts as PostgREST would (role + JWT
claims) on the seeded demo workspace inside a transaction that is rolled back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.conftest import as_user
from tests.db.demo import (
    ACME,
    AGENT,
    AI_AGENT,
    CONTACT,
    GLOBEX,
    LIVE_CONVERSATION,
    MANAGER,
    OUTSIDER,
    VIEWER,
    claims,
)

Conn = psycopg.Connection[tuple[Any, ...]]
INTERNAL_AGENT = "d0000000-0000-4000-8000-000000000002"
ANON_CONVERSATION = "91000000-0000-4000-8000-000000000002"
DONE_CONVERSATION = "91000000-0000-4000-8000-000000000003"
PAUSE_SIGNALS = ("conversation.paused", "conversation.resumed")


@pytest.fixture
def conn(project_db: str) -> Iterator[Conn]:
    with psycopg.connect(project_db) as connection, connection.transaction(force_rollback=True):
        yield connection


def service(conn: Conn) -> None:
    as_user(conn, "service_role", None)


def member(conn: Conn, user: str) -> None:
    conn.execute("reset role")
    as_user(conn, "authenticated", claims(user))


def one(conn: Conn, sql: str, *params: object) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def fails(conn: Conn, sqlstate: str, sql: str, *params: object) -> str:
    """Run `sql` in a savepoint; it must fail with `sqlstate`. Returns the message."""
    with pytest.raises(psycopg.Error) as caught, conn.transaction():
        conn.execute(sql, params)
    assert caught.value.sqlstate == sqlstate, caught.value
    return str(caught.value)


def staged_events(conn: Conn, conversation: str) -> list[tuple[str, str | None]]:
    """The events this transaction staged for a conversation (name, reason), in order."""
    conn.execute("reset role")
    rows = conn.execute(
        "select name, data->>'reason' from halo.pending_events where conversation_id = %s order by id",
        (conversation,),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def say(conn: Conn, conversation: str, role: str, text: str, **extra: object) -> dict[str, Any]:
    args = ", ".join(f"p_{k} => %s" for k in extra)
    sql = (
        "select to_jsonb(m) from api.add_conversation_message(%s, %s, %s"
        + (", " + args if args else "")
        + ") m"
    )
    values = [json.dumps(v) if isinstance(v, list | dict) else v for v in extra.values()]
    result: dict[str, Any] = one(conn, sql, conversation, role, text, *values)
    return result


def new_conversation(conn: Conn, agent: str = AI_AGENT, **extra: object) -> str:
    args = "".join(f", p_{k} => %s" for k in extra)
    return str(
        one(
            conn,
            f"select (api.start_conversation(%s, %s, p_ai_agent_id => %s{args})).id",
            ACME,
            f"sess-{uuid.uuid4().hex[:8]}",
            agent,
            *extra.values(),
        )
    )


def test_bad_messages_are_refused_precisely_and_write_nothing(conn: Conn) -> None:
    service(conn)
    before = one(conn, "select count(*) from halo.messages")
    fails(conn, "P0002", "select api.add_conversation_message(%s, 'user', 'hi')", str(uuid.uuid4()))
    message = fails(
        conn,
        "P0002",
        "select api.add_conversation_message(%s, 'user', 'hi', p_workspace_id => %s)",
        LIVE_CONVERSATION,
        GLOBEX,
    )
    assert "does not exist in this workspace" in message
    assert "0-100" in fails(
        conn,
        "22023",
        "select api.add_conversation_message(%s, 'ai', 'hi', p_confidence => 101::smallint)",
        LIVE_CONVERSATION,
    )
    assert "20000" in fails(
        conn,
        "22023",
        "select api.add_conversation_message(%s, 'user', %s)",
        LIVE_CONVERSATION,
        "x" * 20001,
    )
    fails(conn, "22023", "select api.add_conversation_message(%s, 'bot', 'hi')", LIVE_CONVERSATION)
    fails(conn, "22023", "select api.add_conversation_message(%s, 'user', '  ')", LIVE_CONVERSATION)
    fails(
        conn,
        "22023",
        "select api.add_conversation_message(%s, 'ai', 'hi', p_tool_calls => '[{\"nom\": 1}]')",
        LIVE_CONVERSATION,
    )
    fails(
        conn,
        "22023",
        "select api.add_conversation_message(%s, 'teammate', 'hi')",
        LIVE_CONVERSATION,
    )
    assert one(conn, "select count(*) from halo.messages") == before


def test_an_ai_reply_enqueues_one_escalation_job_unless_escalation_cannot_happen(
    conn: Conn,
) -> None:
    service(conn)
    reply = say(
        conn,
        LIVE_CONVERSATION,
        "ai",
        "Let me check",
        confidence=40,
        tool_calls=["knowledge_search"],
    )
    jobs = conn.execute(
        "select payload from halo.jobs where kind = 'conversation.escalate' and dedupe_key = %s",
        ("escalate:" + reply["id"],),
    ).fetchall()
    assert [j[0]["message_id"] for j in jobs] == [reply["id"]]
    assert (
        one(conn, "select ai_confidence from halo.conversations where id = %s", LIVE_CONVERSATION)
        == 40
    )

    internal = new_conversation(conn, INTERNAL_AGENT)
    say(conn, internal, "ai", "Done", confidence=10, tool_calls=["escalate"])
    conn.execute("reset role")
    conn.execute(
        "update halo.escalation_settings set mode = 'off' where ai_agent_id = %s", (AI_AGENT,)
    )
    service(conn)
    off = new_conversation(conn)
    say(conn, off, "ai", "Done", confidence=10)
    queued = one(
        conn,
        "select count(*) from halo.jobs where kind = 'conversation.escalate'"
        " and payload->>'conversation_id' in (%s, %s)",
        internal,
        off,
    )
    assert queued == 0


def test_a_transcript_shows_each_ai_turns_confidence_tools_and_merge_origin(conn: Conn) -> None:
    service(conn)
    reply = say(
        conn,
        LIVE_CONVERSATION,
        "ai",
        "Your plan renews on the 3rd",
        confidence=72,
        tool_calls=["knowledge_search", {"name": "billing.lookup", "arguments": {"seats": 25}}],
    )
    turn = "select to_jsonb(r) - 'created_at' from api.ai_replies r where message_id = %s"
    member(conn, VIEWER)
    assert one(conn, turn, reply["id"]) == {
        "message_id": reply["id"],
        "conversation_id": LIVE_CONVERSATION,
        "workspace_id": ACME,
        "confidence": 72,
        "tool_calls": [
            {"name": "knowledge_search"},
            {"name": "billing.lookup", "arguments": {"seats": 25}},
        ],
    }
    member(conn, OUTSIDER)
    assert conn.execute(turn, (reply["id"],)).fetchall() == []

    # A merged message remembers the ticket it came from.
    member(conn, MANAGER)
    source, target = (
        one(conn, "select (api.create_ticket(%s, %s, p_contact_id => %s)).id", ACME, s, CONTACT)
        for s in ("Refund", "Refund again")
    )
    note = one(conn, "select (api.reply_to_ticket(%s, 'note', 'Checked', 1000000000)).id", source)
    one(conn, "select api.merge_tickets(%s, %s)", source, target)
    assert one(conn, "select merged_from_ticket_id from api.messages where id = %s", note) == source


def test_the_last_escalation_decision_is_kept_on_the_conversation_and_signalled(
    conn: Conn,
) -> None:
    conn.execute("set constraints all immediate")
    service(conn)
    record = "select to_jsonb(c) from api.record_escalation_decision(%s, %s, %s) c"
    kept = one(conn, record, LIVE_CONVERSATION, False, "attempts_not_reached")
    assert (kept["escalation_decision"], kept["escalation_reason"]) == (
        "not_escalated",
        "attempts_not_reached",
    )
    assert kept["escalation_decided_at"] is not None
    # A teammate reads it in the Live Feed row and hears it as conversation.signal.
    member(conn, VIEWER)
    feed = one(
        conn,
        "select to_jsonb(f) from api.list_conversations(%s, 'live', p_limit => 200) f"
        " where f.id = %s",
        ACME,
        LIVE_CONVERSATION,
    )
    assert (feed["escalation_decision"], feed["escalation_reason"]) == (
        "not_escalated",
        "attempts_not_reached",
    )
    signal = one(
        conn,
        "select data from api.events where conversation_id = %s and name = 'conversation.signal'"
        " order by seq desc limit 1",
        LIVE_CONVERSATION,
    )
    assert signal["escalation_reason"] == "attempts_not_reached"
    assert "escalation_decision" in signal["changed"]
    # Jobs may finish out of order: a decision on an older AI turn does not overwrite the last.
    service(conn)
    first = say(conn, LIVE_CONVERSATION, "ai", "Let me look", confidence=80)["id"]
    second = say(conn, LIVE_CONVERSATION, "ai", "Found it", confidence=85)["id"]
    # As if said in an earlier transaction (this test's transaction has one now()).
    conn.execute("reset role")
    conn.execute(
        "update halo.messages set created_at = created_at - interval '1 second' where id = %s",
        (first,),
    )
    service(conn)
    by_turn = "select escalation_reason from api.record_escalation_decision(%s, false, %s, %s)"
    assert one(conn, by_turn, LIVE_CONVERSATION, "no_signal", second) == "no_signal"
    assert one(conn, by_turn, LIVE_CONVERSATION, "low_confidence", first) == "no_signal"
    # Refused precisely, and nothing changes.
    assert "p_reason must be a reason code" in fails(
        conn, "22023", record, LIVE_CONVERSATION, False, "Not yet!"
    )
    assert "p_escalated" in fails(conn, "22023", record, LIVE_CONVERSATION, None, "mode_off")
    fails(conn, "P0002", record, str(uuid.uuid4()), False, "mode_off")
    member(conn, AGENT)
    fails(conn, "42501", record, LIVE_CONVERSATION, True, "low_confidence")


def test_the_conversation_ticket_opens_once_with_transcript_context_and_tools(conn: Conn) -> None:
    service(conn)
    say(conn, LIVE_CONVERSATION, "ai", "Searching", confidence=35, tool_calls=["knowledge_search"])
    say(
        conn,
        LIVE_CONVERSATION,
        "ai",
        "I will get someone",
        confidence=20,
        tool_calls=[{"name": "escalate", "arguments": {"reason": "billing dispute"}}],
    )
    ticket = one(
        conn,
        "select to_jsonb(t) from api.escalate_conversation(%s, 'Billing dispute', 'escalate_tool', true) t",
        LIVE_CONVERSATION,
    )
    again = one(
        conn,
        "select to_jsonb(t) from api.escalate_conversation(%s, 'Again', 'escalate_tool') t",
        LIVE_CONVERSATION,
    )
    assert again["id"] == ticket["id"]
    assert (ticket["status"], ticket["source"], ticket["channel"]) == (
        "priority",
        "ai_escalation",
        "chat",
    )
    assert ticket["escalation_reason"] == "Billing dispute"
    assert ticket["ai_confidence"] == 20
    assert ticket["metadata"]["escalation"]["tools_tried"] == ["escalate", "knowledge_search"]
    assert ticket["metadata"]["escalation"]["ai_turns"] == 2  # the seeded reply predates ai_replies
    assert ticket["metadata"]["contact"]["id"] == ticket["contact_id"]
    thread = one(conn, "select count(*) from halo.messages where ticket_id = %s", ticket["id"])
    in_conversation = one(
        conn, "select count(*) from halo.messages where conversation_id = %s", LIVE_CONVERSATION
    )
    assert thread == in_conversation == 5
    conv = one(
        conn, "select to_jsonb(c) from halo.conversations c where id = %s", LIVE_CONVERSATION
    )
    assert (conv["state"], conv["outcome"], conv["ai_paused"]) == ("completed", "escalated", True)
    events = [name for name, _ in staged_events(conn, LIVE_CONVERSATION)]
    assert events.count("ticket.created") == 1
    assert "conversation.paused" in events and "conversation.completed" in events
    service(conn)
    # The customer keeps writing: it joins the ticket's thread; the AI may not answer any more.
    later = say(conn, LIVE_CONVERSATION, "user", "Hello?")
    assert later["ticket_id"] == ticket["id"]
    fails(conn, "PT409", "select api.add_conversation_message(%s, 'ai', 'Hi')", LIVE_CONVERSATION)


def test_takeover_pass_back_and_the_other_teammate_is_refused(conn: Conn) -> None:
    member(conn, AGENT)
    ticket = one(conn, "select to_jsonb(t) from api.take_over(%s) t", ANON_CONVERSATION)
    assert (ticket["status"], ticket["assignee_id"], ticket["source"]) == (
        "in_progress",
        AGENT,
        "takeover",
    )
    assert one(conn, "select (api.take_over(%s)).id", ANON_CONVERSATION) == uuid.UUID(ticket["id"])
    notice = one(
        conn,
        "select body_text from halo.messages where conversation_id = %s and kind = 'system'",
        ANON_CONVERSATION,
    )
    assert notice == "Remy from Acme Support joined"
    member(conn, MANAGER)
    assert "already taken over by Remy" in fails(
        conn, "PT409", "select api.take_over(%s)", ANON_CONVERSATION
    )
    member(conn, VIEWER)
    fails(conn, "42501", "select api.take_over(%s)", ANON_CONVERSATION)
    fails(conn, "42501", "select api.pass_back_to_ai(%s)", ANON_CONVERSATION)
    service(conn)
    fails(conn, "PT409", "select api.add_conversation_message(%s, 'ai', 'Hi')", ANON_CONVERSATION)

    member(conn, AGENT)
    assert one(conn, "select (api.pass_back_to_ai(%s)).ai_paused", ANON_CONVERSATION) is False
    signals = [e for e in staged_events(conn, ANON_CONVERSATION) if e[0] in PAUSE_SIGNALS]
    assert signals == [("conversation.paused", "takeover"), ("conversation.resumed", "pass_back")]
    # After the pass back another teammate may take it over: the same ticket changes hands.
    member(conn, MANAGER)
    assert one(conn, "select (api.take_over(%s)).assignee_id", ANON_CONVERSATION) == uuid.UUID(
        MANAGER
    )


def test_taking_over_a_completed_conversation_opens_its_ticket_from_the_transcript(
    conn: Conn,
) -> None:
    service(conn)
    done = new_conversation(conn)
    say(conn, done, "user", "My export is empty")
    say(conn, done, "ai", "Try again tomorrow", confidence=70)
    one(conn, "select api.complete_conversation(%s)", done)
    member(conn, AGENT)
    ticket = one(conn, "select to_jsonb(t) from api.take_over(%s) t", done)
    assert (ticket["subject"], ticket["status"]) == ("My export is empty", "in_progress")
    transcript = conn.execute(
        "select author_kind from halo.messages where ticket_id = %s order by created_at",
        (ticket["id"],),
    ).fetchall()
    assert [r[0] for r in transcript] == ["customer", "ai_agent", "system"]


def test_taking_over_reopens_a_resolved_ticket_and_links_its_older_transcript(conn: Conn) -> None:
    member(conn, AGENT)
    ticket = one(conn, "select to_jsonb(t) from api.take_over(%s) t", DONE_CONVERSATION)
    assert (ticket["subject"], ticket["status"], ticket["assignee_id"]) == (
        "Reset password",
        "in_progress",
        AGENT,
    )
    kinds = conn.execute(
        "select author_kind from halo.messages where ticket_id = %s and kind = 'chat'",
        (ticket["id"],),
    ).fetchall()
    assert sorted(r[0] for r in kinds) == ["ai_agent", "customer"]


def test_replies_wait_for_a_closed_widget_and_come_back_until_acknowledged(conn: Conn) -> None:
    service(conn)
    assert (
        conn.execute(
            "select * from api.set_widget_open(%s, false)", (LIVE_CONVERSATION,)
        ).fetchall()
        == []
    )
    member(conn, AGENT)
    one(conn, "select api.take_over(%s)", LIVE_CONVERSATION)
    one(
        conn,
        "select api.append_message(p_conversation_id => %s, p_body_text => 'I am on it')",
        LIVE_CONVERSATION,
    )
    one(
        conn,
        "select api.append_message(p_conversation_id => %s, p_kind => 'whisper', p_body_text => 'psst')",
        LIVE_CONVERSATION,
    )
    service(conn)

    def open_widget() -> list[tuple[str, str]]:
        return [
            (str(r[0]), r[1])
            for r in conn.execute(
                "select id, body_text from api.set_widget_open(%s, true)", (LIVE_CONVERSATION,)
            ).fetchall()
        ]

    delivered = open_widget()
    assert [text for _, text in delivered] == ["Remy from Acme Support joined", "I am on it"]
    # The runtime never confirmed them (it crashed, the response was lost): they come again.
    assert open_widget() == delivered
    assert conn.execute(
        "select deliveries from halo.queued_replies where conversation_id = %s order by seq",
        (LIVE_CONVERSATION,),
    ).fetchall() == [(2,), (2,)]
    joined, reply = (message_id for message_id, _ in delivered)
    ack = "select api.acknowledge_widget_replies(%s, %s::uuid[])"
    assert one(conn, ack, LIVE_CONVERSATION, [joined]) == 1
    assert open_widget() == [(reply, "I am on it")]
    # A retried acknowledgement, and another conversation's id, change nothing.
    assert one(conn, ack, LIVE_CONVERSATION, [joined, "00000000-0000-4000-8000-000000000000"]) == 0
    assert one(conn, ack, LIVE_CONVERSATION, [reply]) == 1
    assert open_widget() == []


def closed_earlier(conn: Conn, conversation: str, seconds: int) -> Any:
    """Close the widget, then move the close `seconds` into the past (one transaction, one now())."""
    service(conn)
    conn.execute("select api.set_widget_open(%s, false)", (conversation,))
    conn.execute("reset role")
    closed_at = one(
        conn,
        "update halo.widget_states set changed_at = now() - make_interval(secs => %s)"
        " where conversation_id = %s returning changed_at",
        seconds,
        conversation,
    )
    service(conn)
    return closed_at


def test_a_closed_widget_completes_its_conversation_after_a_quiet_grace_period(
    conn: Conn,
) -> None:
    complete = "select to_jsonb(c) from api.complete_closed_conversation(%s, %s) c"
    jobs = (
        "select payload, visible_at - now() from halo.jobs"
        " where kind = 'conversation.widget_closed' and payload->>'conversation_id' = %s"
        " order by id"
    )
    # Closing enqueues the check, due after the 60 s grace period.
    service(conn)
    quiet = new_conversation(conn)
    conn.execute("select api.set_widget_open(%s, false)", (quiet,))
    conn.execute("reset role")
    [(payload, due_in)] = conn.execute(jobs, (quiet,)).fetchall()
    assert (payload["conversation_id"], due_in.total_seconds()) == (quiet, 60)
    # Still within the grace period: nothing yet.
    service(conn)
    assert one(conn, complete, quiet, payload["closed_at"])["state"] == "live"

    # Closed 61 s ago and quiet since: completed as closed, outcome resolved.
    closed_at = closed_earlier(conn, quiet, 61)
    done = one(conn, complete, quiet, closed_at)
    assert (done["state"], done["outcome"], done["metadata"]["end_reason"]) == (
        "completed",
        "resolved",
        "closed",
    )

    # Reopened within the grace period: the old close's job changes nothing.
    reopened = new_conversation(conn)
    closed_at = closed_earlier(conn, reopened, 61)
    conn.execute("select api.set_widget_open(%s, true)", (reopened,))
    assert one(conn, complete, reopened, closed_at)["state"] == "live"

    # The customer wrote after closing: still live, checked again a grace period after that.
    active = new_conversation(conn)
    closed_at = closed_earlier(conn, active, 61)
    say(conn, active, "user", "One more thing")
    assert one(conn, complete, active, closed_at)["state"] == "live"
    conn.execute("reset role")
    later = conn.execute(jobs, (active,)).fetchall()[-1]
    assert later[0]["closed_at"] is not None and later[1].total_seconds() == 60

    service(conn)
    assert "p_closed_at" in fails(conn, "22023", complete, active, None)
    fails(conn, "P0002", complete, str(uuid.uuid4()), closed_at)
    member(conn, AGENT)
    fails(conn, "42501", complete, active, closed_at)


def test_acknowledging_replies_names_what_is_wrong(conn: Conn) -> None:
    service(conn)
    ack = "select api.acknowledge_widget_replies(%s, {})"
    assert "p_message_ids is required" in fails(
        conn, "22023", ack.format("null"), LIVE_CONVERSATION
    )
    too_many = ack.format("array_fill(gen_random_uuid(), array[1001])")
    assert "at most 1000" in fails(conn, "22023", too_many, LIVE_CONVERSATION)
    # With another workspace's API key the conversation does not exist.
    other = "select api.acknowledge_widget_replies(%s, '{}', %s)"
    assert "does not exist" in fails(conn, "P0002", other, LIVE_CONVERSATION, GLOBEX)


def test_identify_relinks_the_visitors_conversations_tickets_and_messages(conn: Conn) -> None:
    member(conn, AGENT)
    ticket = one(conn, "select (api.take_over(%s)).id", ANON_CONVERSATION)
    service(conn)
    fails(conn, "P0002", "select api.identify_visitor(%s, 'nobody')", ACME)
    fails(conn, "22023", "select api.identify_visitor(%s, 'anon-7f3a9c')", ACME)
    moved = one(
        conn,
        "select api.identify_visitor(%s, 'anon-7f3a9c', p_email => 'lisa@example.org', p_name => 'Lisa')",
        ACME,
    )
    assert (moved["conversations"], moved["tickets"], moved["messages"]) == (1, 1, 1)
    contact = moved["contact_id"]
    assert str(one(conn, "select contact_id from halo.tickets where id = %s", ticket)) == contact
    assert (
        str(one(conn, "select contact_id from halo.conversations where id = %s", ANON_CONVERSATION))
        == contact
    )
    # A new session of the identified visitor starts with its contact.
    later = new_conversation(conn, anonymous_id="anon-7f3a9c")
    assert (
        str(one(conn, "select contact_id from halo.conversations where id = %s", later)) == contact
    )


def test_ending_a_conversation_derives_its_outcome(conn: Conn) -> None:
    service(conn)
    closed = new_conversation(conn)
    timed_out = new_conversation(conn)
    outcome = "select (api.complete_conversation(%s, p_end_reason => %s)).outcome"
    assert one(conn, outcome, closed, "closed") == "resolved"
    assert one(conn, outcome, timed_out, "timed_out") == "abandoned"
    assert one(conn, outcome, timed_out, "closed") == "abandoned"  # already ended: unchanged
    fails(conn, "22023", outcome, closed, "vanished")


def updates(conn: Conn, after_seq: int, limit: int = 100) -> dict[str, Any]:
    result: dict[str, Any] = one(
        conn, "select api.conversation_updates(%s, %s, %s)", LIVE_CONVERSATION, after_seq, limit
    )
    return result


def test_conversation_updates_carry_what_the_customer_sees_and_miss_nothing(conn: Conn) -> None:
    # The test's transaction is rolled back: number its events as they happen, not at commit.
    conn.execute("set constraints all immediate")
    service(conn)
    cursor = updates(conn, 0, 1000)["after_seq"]
    one(
        conn,
        "select api.add_conversation_message(%s, 'user', 'Where is my parcel?')",
        LIVE_CONVERSATION,
    )
    member(conn, AGENT)
    one(conn, "select api.take_over(%s)", LIVE_CONVERSATION)
    for kind, text in [("chat", "It left the depot today"), ("whisper", "psst"), ("note", "VIP")]:
        one(
            conn,
            "select api.append_message(p_conversation_id => %s, p_kind => %s::halo.message_kind,"
            " p_body_text => %s)",
            LIVE_CONVERSATION,
            kind,
            text,
        )
    service(conn)
    page = updates(conn, cursor)
    seen = [(e["event"], e.get("message", {}).get("body_text")) for e in page["events"]]
    assert seen == [
        ("message.created", "Where is my parcel?"),
        ("conversation.ai_paused_changed", None),
        ("conversation.paused", None),
        ("message.created", "Remy from Acme Support joined"),
        ("message.created", "It left the depot today"),
    ]  # not the whisper, the note or the ticket's own events
    assert page["events"][2]["data"] == {"reason": "takeover", "ai_paused": True}
    # The cursor moves past what was left out, to the conversation's last event.
    conn.execute("reset role")
    last = one(
        conn, "select max(seq) from halo.events where conversation_id = %s", LIVE_CONVERSATION
    )
    service(conn)
    assert (page["after_seq"], page["more"]) == (last, False)
    assert updates(conn, page["after_seq"]) == {"events": [], "after_seq": last, "more": False}
    # Read one event at a time: the same events, and `more` until a page comes back short.
    paged, after, more = [], cursor, True
    while more:
        step = updates(conn, after, 1)
        paged += step["events"]
        after, more = step["after_seq"], step["more"]
    assert paged == page["events"] and after == last


def test_conversation_updates_name_a_bad_cursor_or_limit(conn: Conn) -> None:
    service(conn)
    sql = "select api.conversation_updates(%s, %s, %s)"
    assert "p_after_seq must be 0 or more" in fails(conn, "22023", sql, LIVE_CONVERSATION, -1, 10)
    assert "p_limit must be between 1 and 1000" in fails(
        conn, "22023", sql, LIVE_CONVERSATION, 0, 1001
    )
    other = "select api.conversation_updates(%s, p_workspace_id => %s)"
    assert "does not exist" in fails(conn, "P0002", other, LIVE_CONVERSATION, GLOBEX)
