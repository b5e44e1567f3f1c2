"""Bad input gets a precise error (SQLSTATE and message) and writes nothing at all."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import as_user
from tests.db.demo import ACME, ADMIN, AGENT, LIVE_CONVERSATION, MANAGER, OPEN_TICKET, claims

OTHER_CONTACT = "f0000000-0000-4000-8000-000000000009"  # a Globex contact
NOWHERE = "00000000-0000-4000-8000-00000000dead"

# (what, acting user or None for service_role, statement, SQLSTATE, message fragment)
BAD_INPUT: list[tuple[str, str | None, str, str, str]] = [
    (
        "unknown status",
        MANAGER,
        f"select api.set_ticket_status('{OPEN_TICKET}', 'closed')",
        "22023",
        "unknown status closed",
    ),
    (
        "snooze in the past",
        MANAGER,
        f"select api.set_ticket_status('{OPEN_TICKET}', 'snoozed', now() - interval '1 hour')",
        "22023",
        "snoozing needs p_snoozed_until in the future",
    ),
    (
        "new ticket resolved",
        AGENT,
        f"select api.create_ticket('{ACME}', 'x', p_status => 'resolved')",
        "22023",
        "a new ticket's status must be",
    ),
    (
        "metadata too big",
        AGENT,
        f"select api.create_ticket('{ACME}', 'x',"
        " p_metadata => jsonb_build_object('b', repeat('x', 50000)))",
        "22023",
        "the limit is 50000",
    ),
    (
        "contact of another workspace",
        AGENT,
        f"select api.create_ticket('{ACME}', 'x', p_contact_id => '{OTHER_CONTACT}')",
        "23503",
        f"contact {OTHER_CONTACT} does not exist in workspace {ACME}",
    ),
    (
        "unknown priority",
        AGENT,
        f"select api.create_ticket('{ACME}', 'x', p_priority => 'asap')",
        "23514",
        "ticket_priority",
    ),
    (
        "message without a thread",
        AGENT,
        "select api.append_message(p_body_text => 'hi')",
        "22023",
        "needs p_ticket_id or p_conversation_id",
    ),
    (
        "message to a missing ticket",
        AGENT,
        f"select api.append_message('{NOWHERE}', p_body_text => 'hi')",
        "P0002",
        f"ticket {NOWHERE} does not exist",
    ),
    (
        "empty message",
        AGENT,
        f"select api.append_message('{OPEN_TICKET}', p_body_text => '')",
        "22023",
        "needs a body or an attachment",
    ),
    (
        "mention of a stranger",
        AGENT,
        f"select api.append_message('{OPEN_TICKET}', p_kind => 'note', p_body_text => 'hey',"
        f" p_mentions => array['{NOWHERE}'::uuid])",
        "23503",
        "every mentioned user must be a member",
    ),
    (
        "teammate posing as customer",
        AGENT,
        f"select api.append_message('{OPEN_TICKET}', p_author_kind => 'customer',"
        " p_body_text => 'hi')",
        "42501",
        "writes as a teammate or an alias user",
    ),
    (
        "whisper on a ticket",
        AGENT,
        f"select api.append_message('{OPEN_TICKET}', p_kind => 'whisper', p_body_text => 'psst')",
        "23514",
        "messages_check",
    ),
    (
        "signal on a missing conversation",
        None,
        f"select api.record_conversation_signal('{NOWHERE}', 0.1)",
        "P0002",
        "does not exist or is not live",
    ),
    (
        "sentiment out of range",
        None,
        f"select api.record_conversation_signal('{LIVE_CONVERSATION}', 3)",
        "23514",
        "conversations_sentiment_check",
    ),
    (
        "limit too large",
        AGENT,
        f"select api.events_since('{ACME}', 0, 100000)",
        "22023",
        "p_limit must be between 1 and 1000",
    ),
    (
        "inbound delivery both inline and in Storage",
        None,
        "select api.receive_inbound_email('raw', 'support@acme.test', 'raw/x.eml', 'mime', 5,"
        " p_raw => 'Hi')",
        "22023",
        "pass either p_storage_path",
    ),
    (
        "inbound delivery stored nowhere",
        None,
        "select api.receive_inbound_email('raw', 'support@acme.test', null, 'mime', 5)",
        "22023",
        "pass either p_storage_path",
    ),
    (
        "inbound delivery too big to keep inline",
        None,
        "select api.receive_inbound_email('raw', 'support@acme.test', null, 'mime', 70000,"
        " p_raw => repeat('x', 70000))",
        "22023",
        "payloads over 64 KiB go to Storage",
    ),
    (
        "a Priority ticket of low priority",
        AGENT,
        f"select api.create_ticket('{ACME}', 'x', p_status => 'priority', p_priority => 'low')",
        "22023",
        "status priority needs priority high or urgent",
    ),
    (
        "a label with a comma on a new ticket",
        AGENT,
        f"select api.create_ticket('{ACME}', 'x', p_labels => array['billing', 'a,b'])",
        "22023",
        "invalid label 'a,b': 1-50 characters, no commas",
    ),
    (
        "a label too long through update_ticket",
        MANAGER,
        f"select api.update_ticket('{OPEN_TICKET}', p_labels => array[repeat('x', 51)])",
        "22023",
        "1-50 characters, no commas",
    ),
    (
        "a null among the labels to remove",
        MANAGER,
        f"select api.set_ticket_labels('{OPEN_TICKET}', '{{}}', array[null]::text[])",
        "22023",
        "p_remove holds a null",
    ),
    (
        "inbound form payload inline",
        None,
        "select api.receive_inbound_email('mailgun', 'support@acme.test', null, 'form', 2,"
        " p_raw => '{}')",
        "22023",
        "form payloads (with files) go to Storage",
    ),
]

COUNTS = (
    "select (select count(*) from halo.tickets), (select count(*) from halo.messages),"
    " (select count(*) from halo.events), (select count(*) from halo.jobs),"
    " (select last_ticket_number from halo.workspace_counters where workspace_id = %s),"
    " (select count(*) from halo.inbound_emails)"
)


@pytest.mark.parametrize("case", BAD_INPUT, ids=lambda c: c[0])
def test_bad_input_is_refused_precisely_and_writes_nothing(
    project_db: str, case: tuple[str, str | None, str, str, str]
) -> None:
    _, user, sql, sqlstate, fragment = case
    with psycopg.connect(project_db, autocommit=True) as conn:
        before = conn.execute(COUNTS, (ACME,)).fetchone()
        with pytest.raises(psycopg.Error) as raised, conn.transaction():
            as_user(
                conn,
                "authenticated" if user else "service_role",
                claims(user) if user else {"role": "service_role"},
            )
            conn.execute(sql)
        assert raised.value.sqlstate == sqlstate, raised.value
        assert fragment in str(raised.value)
        assert conn.execute(COUNTS, (ACME,)).fetchone() == before


def test_a_revoked_api_key_stays_revoked(project_db: str) -> None:
    """An admin revokes a key by setting revoked_at; clearing or moving it afterwards is refused,
    so a key that leaked cannot come back."""
    with psycopg.connect(project_db, autocommit=True) as conn:
        row = conn.execute("select id from api.create_api_key(%s, 'to revoke')", (ACME,)).fetchone()
        assert row is not None
        key_id = row[0]
        with conn.transaction():
            as_user(conn, "authenticated", claims(ADMIN))
            revoked = conn.execute(
                "update api.api_keys set revoked_at = now() where id = %s returning revoked_at",
                (key_id,),
            ).fetchone()
        assert revoked is not None and revoked[0] is not None
        for change in ("null", "now() + interval '1 day'"):
            with pytest.raises(psycopg.Error) as raised, conn.transaction():
                as_user(conn, "authenticated", claims(ADMIN))
                conn.execute(
                    f"update api.api_keys set revoked_at = {change} where id = %s", (key_id,)
                )
            assert raised.value.sqlstate == "22023"
            assert "a revoked key cannot be restored" in str(raised.value)
        still = conn.execute(
            "select revoked_at from api.api_keys where id = %s", (key_id,)
        ).fetchone()
        assert still == revoked
