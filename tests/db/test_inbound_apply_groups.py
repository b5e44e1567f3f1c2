"""api.apply_inbound_emails: a group of inbound emails in one call, each in its own
subtransaction, so one email's error is that email's outcome and the others are applied."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.db.demo import ACME

pytestmark = pytest.mark.db

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def service(inbox_db: str) -> Iterator[Conn]:
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        conn.execute("set role service_role")
        conn.execute(
            "select set_config('request.jwt.claims', '{\"role\": \"service_role\"}', false)"
        )
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


def email(sender: str, subject: str) -> dict[str, Any]:
    return {
        "kind": "new",
        "from_email": sender,
        "subject": subject,
        "body_text": f"{subject}: it does not work",
        "message_id": f"<{uuid.uuid4()}@example.com>",
    }


def apply(conn: Conn, items: object) -> list[dict[str, Any]]:
    row = conn.execute(
        "select api.apply_inbound_emails(%s::jsonb)", (json.dumps(items),)
    ).fetchone()
    assert row is not None
    return list(row[0])  # type: ignore[call-overload]


def test_each_email_is_applied_and_a_failing_one_is_only_its_own_outcome(
    inbox_db: str, service: Conn
) -> None:
    first, second = delivery(inbox_db), delivery(inbox_db)
    missing = str(uuid.uuid4())
    outcomes = apply(
        service,
        [
            {"inbound_id": first, "email": email("ada@example.com", "Grouped one")},
            {"inbound_id": missing, "email": email("bob@example.com", "Never stored")},
            {"inbound_id": second, "email": email("cy@example.com", "Grouped two")},
        ],
    )
    assert [o.get("result") for o in outcomes] == ["applied", None, "applied"]
    assert outcomes[1]["error"] == {
        "code": "P0002",
        "message": f"inbound email {missing} does not exist",
    }
    tickets = service.execute(
        "select t.subject, e.state from api.inbound_emails e join api.tickets t on t.id = e.ticket_id"
        " where e.id = any(%s::uuid[]) order by t.number",
        ([first, second],),
    ).fetchall()
    assert tickets == [("Grouped one", "applied"), ("Grouped two", "applied")]
    # Applying the same deliveries again is a replay, not new tickets.
    again = apply(service, [{"inbound_id": first, "email": email("ada@example.com", "x")}])
    assert again[0]["replayed"] is True and again[0]["ticket_id"] == outcomes[0]["ticket_id"]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "p_items must be an array of 1 to 500"),
        ({"inbound_id": "x"}, "p_items must be an array of 1 to 500"),
        ([{"inbound_id": 1, "email": {}}], 'needs a string "inbound_id" and an object "email"'),
        (
            [{"inbound_id": "x", "email": "new"}],
            'needs a string "inbound_id" and an object "email"',
        ),
    ],
)
def test_malformed_groups_are_refused_whole(
    inbox_db: str, service: Conn, items: object, message: str
) -> None:
    good = delivery(inbox_db)
    batch = [{"inbound_id": good, "email": email("dee@example.com", "Refused group")}]
    if isinstance(items, list) and items:
        batch += items
    else:
        batch = items  # type: ignore[assignment]
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        apply(service, batch)
    state = service.execute(
        "select state from api.inbound_emails where id = %s", (good,)
    ).fetchone()
    assert state == ("received",)


def test_only_the_service_role_may_apply(inbox_db: str) -> None:
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        conn.execute("set role authenticated")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select api.apply_inbound_emails('[]')")


def test_concurrent_groups_in_opposite_orders_do_not_deadlock(inbox_db: str) -> None:
    """Two email workers' groups with the same senders in opposite orders: each new ticket takes
    the workspace's ticket counter and each sender's contact row. Unless groups take the counters
    first, one group can hold a contact while waiting for the counter the other holds while
    waiting for that contact, and PostgreSQL fails one email with 40P01."""
    senders = [f"order{n}.{uuid.uuid4().hex[:8]}@example.com" for n in range(30)]
    outcomes: list[dict[str, Any]] = []
    for _ in range(3):
        groups = [
            [
                {"inbound_id": delivery(inbox_db), "email": email(sender, "Opposite orders")}
                for sender in order
            ]
            for order in (senders, senders[::-1])
        ]
        start = threading.Barrier(len(groups))

        def run(items: list[dict[str, Any]], start: threading.Barrier = start) -> None:
            with psycopg.connect(inbox_db, autocommit=True) as conn:
                conn.execute("set role service_role")
                start.wait()
                outcomes.extend(apply(conn, items))

        threads = [threading.Thread(target=run, args=(group,)) for group in groups]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [o for o in outcomes if "error" in o] == []
    assert len(outcomes) == 3 * 2 * len(senders)


def test_an_id_that_is_not_a_uuid_fails_only_its_own_email(inbox_db: str, service: Conn) -> None:
    good = delivery(inbox_db)
    outcomes = apply(
        service,
        [
            {"inbound_id": "not-a-uuid", "email": email("eve@example.com", "Bad id")},
            {"inbound_id": good, "email": email("fay@example.com", "Good id")},
        ],
    )
    assert outcomes[0]["error"]["code"] == "22P02"
    assert outcomes[1]["result"] == "applied"
