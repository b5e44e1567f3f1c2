"""What applying an inbound email costs PostgreSQL (supabase/schemas/inbound_email.sql): the dedupe probe
keeps a plan that reads one index entry however the messages table grows, and a new email
ticket is written once (the message trigger skips an update that would change nothing)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.db.demo import ACME
from tests.db.plans import nested_plans, rows_read

pytestmark = pytest.mark.db

Conn = psycopg.Connection[tuple[object, ...]]


def act_as_service(conn: Conn) -> None:
    conn.execute("set role service_role")
    conn.execute("select set_config('request.jwt.claims', '{\"role\": \"service_role\"}', false)")


@pytest.fixture
def service(inbox_db: str) -> Iterator[Conn]:
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        act_as_service(conn)
        yield conn


def delivery(inbox_db: str) -> str:
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        row = conn.execute(
            "insert into halo.inbound_emails (workspace_id, provider, recipient, storage_path,"
            " payload_format, size_bytes) values (%s, 'raw', 'support@acme.test', %s, 'mime', 10)"
            " returning id",
            (ACME, f"p/{uuid.uuid4()}.eml"),
        ).fetchone()
    assert row is not None
    return str(row[0])


def email(sender: str, **extra: object) -> dict[str, Any]:
    return {
        "kind": "new",
        "from_email": sender,
        "subject": "The export button does nothing",
        "body_text": "I click it and nothing happens.",
        "message_id": f"{uuid.uuid4()}@customer.example",
        **extra,
    }


def apply(conn: Conn, inbound_id: str, parsed: dict[str, Any]) -> dict[str, Any]:
    row = conn.execute(
        "select api.apply_inbound_email(%s, %s::jsonb)", (inbound_id, json.dumps(parsed))
    ).fetchone()
    assert row is not None
    return dict(row[0])  # type: ignore[call-overload]


def ticket_updates(conn: Conn) -> int:
    """Updates of halo.tickets made so far by the current transaction."""
    row = conn.execute(
        "select coalesce(n_tup_upd, 0) from pg_stat_xact_user_tables"
        " where schemaname = 'halo' and relname = 'tickets'"
    ).fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def test_only_the_message_id_index_answers_a_workspace_lookup(service: Conn) -> None:
    """In `halo bench ingest` the probe's cached plan sometimes used messages_workspace_id_idx
    (an equal-cost tie while the table was small) and then read every message of the workspace
    on each email. The planner now has no such index to pick."""
    rows = service.execute(
        "select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid"
        " join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]"
        " where i.indrelid = 'halo.messages'::regclass and a.attname = 'workspace_id'"
    ).fetchall()
    assert rows == [("messages_email_message_id_key",)]


def test_the_dedupe_probe_reads_one_index_entry_as_the_table_grows(inbox_db: str) -> None:
    """A generic plan made while halo.messages holds only the seed, reused after thousands of
    messages arrive, as a gateway connection reuses it."""
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        conn.execute("set plan_cache_mode = force_generic_plan")
        plans = nested_plans(conn)
        act_as_service(conn)
        assert apply(conn, delivery(inbox_db), email("first@customer.example"))["result"] == (
            "applied"
        )
        with psycopg.connect(inbox_db, autocommit=True) as writer:
            writer.execute(
                "insert into halo.messages (ticket_id, kind, direction, author_kind, body_text,"
                " email_message_id) select t.id, 'email', 'inbound', 'customer', 'Noted.',"
                " 'bulk.' || n || '@acme.test' from generate_series(1, 3000) n,"
                " (select id from halo.tickets where workspace_id = %s limit 1) t",
                (ACME,),
            )
        plans.clear()
        duplicate = email("first@customer.example", message_id="bulk.2999@acme.test")
        assert apply(conn, delivery(inbox_db), duplicate) == {"result": "duplicate"}
        assert apply(conn, delivery(inbox_db), email("second@customer.example"))["result"] == (
            "applied"
        )
    assert plans
    assert max(rows_read(plan, "messages") for plan in plans) < 10


def test_a_new_email_ticket_is_written_once(inbox_db: str) -> None:
    with psycopg.connect(inbox_db) as conn:
        act_as_service(conn)
        before = ticket_updates(conn)
        outcome = apply(conn, delivery(inbox_db), email(f"{uuid.uuid4().hex}@customer.example"))
        assert ticket_updates(conn) == before
        row = conn.execute(
            "select t.last_activity_at = m.created_at, t.last_customer_message_at = m.created_at,"
            " t.waiting_since = m.created_at, t.status_category::text"
            " from halo.tickets t join halo.messages m on m.ticket_id = t.id where m.id = %s",
            (outcome["message_id"],),
        ).fetchone()
        conn.commit()
    assert row == (True, True, True, "open")


def test_a_reply_still_moves_the_ticket(inbox_db: str, service: Conn) -> None:
    """The skip only drops updates that change nothing: a later reply moves the activity, and a
    reply to a resolved ticket reopens it."""
    sender = f"{uuid.uuid4().hex}@customer.example"
    first = apply(service, delivery(inbox_db), email(sender))
    ticket = first["ticket_id"]
    service.execute(
        "update halo.tickets set status_category = 'resolved', waiting_since = null,"
        " last_activity_at = now() - interval '1 hour' where id = %s",
        (ticket,),
    )
    with psycopg.connect(inbox_db) as conn:
        act_as_service(conn)
        before = ticket_updates(conn)
        reply = apply(conn, delivery(inbox_db), email(sender, ticket_candidates=[ticket]))
        assert ticket_updates(conn) == before + 1
        conn.commit()
    assert reply["ticket_id"] == ticket
    row = service.execute(
        "select t.status_category::text, t.last_activity_at = m.created_at,"
        " t.waiting_since = m.created_at from halo.tickets t, halo.messages m"
        " where t.id = %s and m.id = %s",
        (ticket, reply["message_id"]),
    ).fetchone()
    assert row == ("open", True, True)
