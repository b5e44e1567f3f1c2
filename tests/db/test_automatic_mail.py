"""The database treats exactly the kinds `Kind.automatic` names as automatic mail.

`halo_supabase/email/classify.py` decides what mail is automatic; the worker sends its kind to
`api.apply_inbound_email`, and the database acts on it: automatic mail never opens a ticket and
never reopens a resolved one. For every kind, both consequences must match `Kind.automatic`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from halo_supabase.email.classify import Kind
from tests.db.demo import ACME

Conn = psycopg.Connection[tuple[object, ...]]
CUSTOMER = "automatic-probe@customer.example"


@pytest.fixture
def service(inbox_db: str) -> Iterator[Conn]:
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        conn.execute("set role service_role")
        conn.execute(
            "select set_config('request.jwt.claims', '{\"role\": \"service_role\"}', false)"
        )
        yield conn


def apply(conn: Conn, kind: Kind, **document: object) -> dict[str, object]:
    """Record a delivery and apply an email of `kind` from CUSTOMER to it."""
    row = conn.execute(
        "select api.receive_inbound_email('raw', 'support@acme.test', %s, 'mime', 10)",
        (f"raw/{uuid.uuid4()}.eml",),
    ).fetchone()
    assert row is not None
    inbound_id = row[0]["id"]  # type: ignore[index]
    email = {
        "kind": str(kind),
        "from_email": CUSTOMER,
        "subject": f"A {kind} probe",
        "body_text": "probe",
        "message_id": f"{uuid.uuid4()}@customer.example",
        **document,
    }
    applied = conn.execute(
        "select api.apply_inbound_email(%s, %s::jsonb)", (inbound_id, json.dumps(email))
    ).fetchone()
    assert applied is not None
    return dict(applied[0])  # type: ignore[call-overload]


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_only_automatic_mail_is_refused_a_new_ticket(service: Conn, kind: Kind) -> None:
    outcome = apply(service, kind)
    assert (outcome["result"] == "ignored") is kind.automatic, outcome


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_only_automatic_mail_leaves_a_resolved_ticket_resolved(service: Conn, kind: Kind) -> None:
    opened = apply(service, Kind.NEW)
    ticket = str(opened["ticket_id"])
    service.execute(
        "update halo.tickets set status_category = 'resolved', resolved_by = 'human',"
        " resolved_at = now() where id = %s and workspace_id = %s",
        (ticket, ACME),
    )
    outcome = apply(service, kind, ticket_candidates=[ticket])
    assert outcome["result"] == "applied" and outcome["ticket_id"] == ticket, outcome
    row = service.execute(
        "select status_category from halo.tickets where id = %s", (ticket,)
    ).fetchone()
    assert row is not None
    assert (row[0] == "resolved") is kind.automatic, (kind, row[0])
