"""`InboundEmailDocument` is the contract of `api.apply_inbound_email(s)`: its JSON schema names
exactly the keys the SQL function reads, and a document with every field set comes out of the
real function where the schema says it goes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from uuid import UUID

import psycopg
import pytest

from halo_supabase.client.documents import (
    InboundAttachment,
    InboundCc,
    InboundEmailDocument,
    InboundOutcome,
)
from tests.db.demo import ACME
from tests.db.postgres_transport import PostgresTransport

pytestmark = pytest.mark.db

Conn = psycopg.Connection[tuple[object, ...]]


def keys_read(conn: Conn, function: str, argument: str) -> set[str]:
    """The keys a SQL function reads from a jsonb argument (`arg->'key'`, `arg->>'key'`)."""
    row = conn.execute("select pg_get_functiondef(%s::regproc)", (function,)).fetchone()
    assert row is not None
    return set(re.findall(rf"\b{argument}\s*->>?\s*'([a-z_]+)'", str(row[0])))


@pytest.fixture
def conn(inbox_db: str) -> Iterator[Conn]:
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        yield conn


def test_the_schema_names_exactly_the_keys_the_function_reads(conn: Conn) -> None:
    schema = InboundEmailDocument.model_json_schema()
    assert set(schema["properties"]) == keys_read(conn, "api.apply_inbound_email", "p_email")
    assert set(schema["required"]) == {"kind", "from_email"}
    cc = schema["$defs"]["InboundCc"]
    assert set(cc["properties"]) == keys_read(conn, "api.apply_inbound_email", "cc")
    assert schema["properties"]["kind"]["enum"] == [
        "new",
        "reply",
        "forward",
        "auto_reply",
        "bounce",
    ]


def test_the_keys_detector_sees_a_key_the_schema_lacks(conn: Conn) -> None:
    """Control: the comparison above can fail (a function reading another key is noticed)."""
    conn.execute(
        "create function pg_temp.reads_more(p_email jsonb) returns text language sql"
        " as $$ select p_email->>'kind' || (p_email->>'priority') $$"
    )
    read = keys_read(conn, "pg_temp.reads_more", "p_email")
    assert read == {"kind", "priority"}
    assert read - set(InboundEmailDocument.model_json_schema()["properties"]) == {"priority"}


async def test_a_full_document_round_trips_through_the_real_function(conn: Conn) -> None:
    row = conn.execute(
        "insert into halo.inbound_emails (workspace_id, provider, recipient, storage_path,"
        " payload_format, size_bytes) values (%s, 'raw', 'support@acme.test', %s, 'mime', 10)"
        " returning id",
        (ACME, f"p/{uuid.uuid4()}.eml"),
    ).fetchone()
    assert row is not None
    inbound = UUID(str(row[0]))
    tag = uuid.uuid4().hex[:8]
    document = InboundEmailDocument(
        kind="forward",
        from_email=f"colleague-{tag}@acme-partner.example",
        from_name="Colleague",
        customer_email=f"ada-{tag}@customer.example",
        customer_name="Ada Lovelace",
        subject=f"Contract {tag}",
        message_id=f"{tag}@customer.example",
        in_reply_to=f"earlier-{tag}@customer.example",
        references=[f"first-{tag}@customer.example", f"earlier-{tag}@customer.example"],
        cc=[InboundCc(email=f"Bob-{tag}@customer.example")],
        body_text="The engine stopped.",
        body_html="<p>The engine stopped.</p>",
        headers={"subject": f"Contract {tag}", "defects": [], "reasons": ["forwarded"]},
        attachments=[
            InboundAttachment(
                name="log.txt",
                content_type="text/plain",
                size=3,
                storage_path=f"inbound-email/attachments/{ACME}/{inbound}/0-log.txt",
            )
        ],
        spam=True,
        spam_reasons=["rule:contract-test"],
        ticket_candidates=[uuid.uuid4()],  # a ticket that does not exist: not threaded
        message_id_candidates=[f"unknown-{tag}@example.com"],
    )
    service = PostgresTransport(conn, "service_role", None)

    [outcome] = await service.apply_inbound_emails([(inbound, document)])

    assert isinstance(outcome, InboundOutcome)
    assert (outcome.result, outcome.kind) == ("applied", "forward")
    ticket = conn.execute(
        "select t.subject, t.status_category::text, t.metadata, c.email, c.name"
        " from halo.tickets t join halo.contacts c on c.id = t.contact_id where t.id = %s",
        (outcome.ticket_id,),
    ).fetchone()
    assert ticket == (
        f"Contract {tag}",
        "spam",
        {
            "participants": [f"bob-{tag}@customer.example"],
            "inbound_address": "support@acme.test",
            "spam_reasons": ["rule:contract-test"],
        },
        f"ada-{tag}@customer.example",
        "Ada Lovelace",
    )
    message = conn.execute(
        "select body_text, body_html, email_message_id, email_in_reply_to, email_references,"
        " email_headers, attachments from halo.messages where id = %s",
        (outcome.message_id,),
    ).fetchone()
    dumped = document.model_dump(mode="json")
    assert message == (
        dumped["body_text"],
        dumped["body_html"],
        dumped["message_id"],
        dumped["in_reply_to"],
        dumped["references"],
        {**dumped["headers"], "halo_kind": "forward"},
        dumped["attachments"],
    )
    again = await service.apply_inbound_email(inbound, document)
    assert (again.result, again.message_id, again.replayed) == (
        "applied",
        outcome.message_id,
        True,
    )
