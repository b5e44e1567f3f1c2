"""The conversation signals queue in SQL, as the service role: what claim and apply promise when
two workers, a lease expiry, the 500 ms rule or a bad call get in the way."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.conftest import as_user
from tests.db.demo import ACME

Conn = psycopg.Connection[tuple[Any, ...]]


@pytest.fixture
def conn(project_db: str) -> Iterator[Conn]:
    with psycopg.connect(project_db, autocommit=True) as connection:
        yield connection


def service(conn: Conn, sql: str, *params: Any) -> Any:
    with conn.transaction():
        as_user(conn, "service_role", None)
        row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def conversation_with_messages(conn: Conn, *texts: str) -> str:
    conversation = str(
        service(conn, "select (api.start_conversation(%s, %s)).id", ACME, uuid.uuid4().hex)
    )
    for text in texts:
        service(
            conn,
            "select (api.append_message(p_conversation_id => %s, p_kind => 'chat',"
            " p_author_kind => 'customer', p_body_text => %s)).id",
            conversation,
            text,
        )
    return conversation


def claim(conn: Conn, token: str, conversation: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    data = service(conn, "select api.claim_conversation_signals(%s::uuid)", token)
    items = [i for i in data["items"] if i["conversation_id"] == conversation]
    return items, data["conversations"].get(conversation, {})


def apply(
    conn: Conn, token: str, conversation: str, item_ids: list[int], base: int
) -> dict[str, Any]:
    signal = {
        "conversation_id": conversation,
        "base_messages": base,
        "item_ids": item_ids,
        "sentiment_state": {"messages": base + len(item_ids)},
        "sentiment": -0.5,
        "mood": "angry",
    }
    rows = service(
        conn,
        "select api.apply_conversation_signals(%s::uuid, %s::jsonb)",
        token,
        json.dumps([signal]),
    )
    (row,) = rows
    return dict(row)


def queued(conn: Conn, conversation: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select kind, lease_token is not null from halo.conversation_signal_queue"
        " where conversation_id = %s order by id",
        (conversation,),
    ).fetchall()


def test_every_customer_chat_message_is_queued_and_applied_once(conn: Conn) -> None:
    conversation = conversation_with_messages(conn, "hello", "anyone?")
    assert queued(conn, conversation) == [("message", False), ("message", False)]
    token = str(uuid.uuid4())
    items, facts = claim(conn, token, conversation)
    assert [i["text"] for i in items] == ["hello", "anyone?"]
    assert facts["state"] == "live" and facts["sentiment_state"] == {}
    assert apply(conn, token, conversation, [i["id"] for i in items], 0)["status"] == "applied"
    assert queued(conn, conversation) == []
    row = conn.execute(
        "select mood, sentiment, sentiment_state from halo.conversations where id = %s",
        (conversation,),
    ).fetchone()
    assert row == ("angry", -0.5, {"messages": 2})


def test_a_second_update_within_500_ms_is_deferred_and_a_stale_base_conflicts(conn: Conn) -> None:
    conversation = conversation_with_messages(conn, "one")
    token = str(uuid.uuid4())
    items, _ = claim(conn, token, conversation)
    apply(conn, token, conversation, [i["id"] for i in items], 0)
    service(
        conn,
        "select (api.append_message(p_conversation_id => %s, p_kind => 'chat',"
        " p_author_kind => 'customer', p_body_text => 'two')).id",
        conversation,
    )
    # As if the last update had been streamed just now (a machine stall cannot make it stale).
    conn.execute(
        "update halo.conversations set signal_at = now() + interval '2 seconds' where id = %s",
        (conversation,),
    )
    items, facts = claim(conn, token, conversation)
    assert 500 < facts["ready_in_ms"] <= 2500
    deferred = apply(conn, token, conversation, [i["id"] for i in items], 1)
    assert deferred["status"] == "deferred" and 500 < deferred["retry_in_ms"] <= 2500
    assert queued(conn, conversation) == [("message", True)]  # still held by this worker
    # Another worker's base (0) is stale: its items go back to the queue, nothing is written.
    conn.execute("update halo.conversations set signal_at = null where id = %s", (conversation,))
    assert apply(conn, token, conversation, [i["id"] for i in items], 0)["status"] == "conflict"
    assert queued(conn, conversation) == [("message", False)]
    state = conn.execute(
        "select sentiment_state from halo.conversations where id = %s", (conversation,)
    ).fetchone()
    assert state == ({"messages": 1},)


def test_a_worker_whose_lease_was_taken_over_writes_nothing(conn: Conn) -> None:
    conversation = conversation_with_messages(conn, "hi")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    items, _ = claim(conn, first, conversation)
    conn.execute(
        "update halo.conversation_signal_queue set leased_until = now() - interval '1 second'"
        " where conversation_id = %s",
        (conversation,),
    )
    taken, _ = claim(conn, second, conversation)
    assert [i["id"] for i in taken] == [i["id"] for i in items]
    assert apply(conn, first, conversation, [i["id"] for i in items], 0)["status"] == "lease_lost"
    mood = conn.execute("select mood from halo.conversations where id = %s", (conversation,))
    assert mood.fetchone() == (None,)
    assert apply(conn, second, conversation, [i["id"] for i in taken], 0)["status"] == "applied"


def test_score_items_dedupe_and_release_without_a_collision(conn: Conn) -> None:
    conversation = conversation_with_messages(conn)
    service(conn, "select (api.complete_conversation(%s, 'resolved')).id", conversation)
    assert queued(conn, conversation) == [("score", False)]
    token = str(uuid.uuid4())
    items, facts = claim(conn, token, conversation)
    assert facts["outcome"] == "resolved"
    conn.execute("select halo.queue_conversation_score(%s)", (conversation,))
    conn.execute("select halo.queue_conversation_score(%s)", (conversation,))
    assert queued(conn, conversation) == [("score", True), ("score", False)]
    released = service(
        conn, "select api.release_conversation_signals(%s::uuid, %s)", token, [items[0]["id"]]
    )
    assert released == 0  # the held one is dropped: one is already waiting
    assert queued(conn, conversation) == [("score", False)]


def test_items_that_keep_failing_are_dropped_and_bad_calls_are_refused(conn: Conn) -> None:
    conversation = conversation_with_messages(conn, "poison")
    conn.execute(
        "update halo.conversation_signal_queue set attempts = 5 where conversation_id = %s",
        (conversation,),
    )
    data = service(conn, "select api.claim_conversation_signals(%s::uuid)", str(uuid.uuid4()))
    assert data["dropped"] >= 1 and queued(conn, conversation) == []
    for sql, params in (
        ("select api.claim_conversation_signals(null)", ()),
        ("select api.claim_conversation_signals(%s::uuid, 0)", (str(uuid.uuid4()),)),
        ("select api.apply_conversation_signals(%s::uuid, '{}')", (str(uuid.uuid4()),)),
    ):
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            service(conn, sql, *params)
    with conn.transaction():
        as_user(conn, "authenticated", {"role": "authenticated", "sub": str(uuid.uuid4())})
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select api.claim_conversation_signals(%s::uuid)", (str(uuid.uuid4()),))
