"""A reply must reach someone (issue 14, item 7): a chat on a ticket without a conversation, or an
email to a contact without an address, is refused with 22023 naming the channels the ticket can
take, through api.reply_to_ticket and api.append_message alike, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.conftest import as_user
from tests.db.demo import ACME, AGENT, AI_AGENT, MANAGER, OPEN_TICKET, claims

Conn = psycopg.Connection[tuple[Any, ...]]
CHAT_TICKET = "a1000000-0000-4000-8000-000000000003"  # SSO login loop, from a conversation
REPLY = "select (api.reply_to_ticket(%s, %s, 'Hello', 1000000000)).kind"
NO_CHAT = (
    "ticket #1 cannot take a chat reply: it has no conversation, so a chat reaches no one;"
    " it can take email, note"
)


@pytest.fixture
def conn(project_db: str) -> Iterator[Conn]:
    with psycopg.connect(project_db) as connection, connection.transaction(force_rollback=True):
        yield connection


def act_as(conn: Conn, user: str | None) -> None:
    conn.execute("reset role")
    if user is None:
        as_user(conn, "service_role", None)
    else:
        as_user(conn, "authenticated", claims(user))


def refused(conn: Conn, sql: str, *params: object) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught, conn.transaction():
        conn.execute(sql, params)
    assert caught.value.sqlstate == "22023", caught.value
    return caught.value


def messages_on(conn: Conn, ticket: str) -> int:
    row = conn.execute(
        "select count(*) from api.messages where ticket_id = %s", (ticket,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_chat_reply_on_an_email_ticket_is_refused_naming_its_channels(conn: Conn) -> None:
    act_as(conn, AGENT)
    before = messages_on(conn, OPEN_TICKET)
    error = refused(conn, REPLY, OPEN_TICKET, "chat")
    assert error.diag.message_primary == NO_CHAT
    assert json.loads(error.diag.message_detail or "") == {"channels": ["email", "note"]}
    assert error.diag.message_hint == "Reply as email or note."
    # The lower door refuses it too, for a teammate and for a worker writing as the AI.
    other_door = "select api.append_message(%s, p_kind => 'chat', p_body_text => 'Hello')"
    assert refused(conn, other_door, OPEN_TICKET).diag.message_primary == NO_CHAT
    act_as(conn, None)
    as_ai = (
        "select api.append_message(%s, p_kind => 'chat', p_body_text => 'Hello',"
        " p_author_kind => 'ai_agent', p_author_ai_agent_id => %s)"
    )
    assert refused(conn, as_ai, OPEN_TICKET, AI_AGENT).diag.message_primary == NO_CHAT
    act_as(conn, AGENT)
    assert messages_on(conn, OPEN_TICKET) == before
    # The channels it names work.
    assert [conn.execute(REPLY, (OPEN_TICKET, kind)).fetchone() for kind in ("email", "note")] == [
        ("email",),
        ("note",),
    ]


def test_chat_needs_a_conversation_and_email_an_address(conn: Conn) -> None:
    act_as(conn, AGENT)
    assert conn.execute(REPLY, (CHAT_TICKET, "chat")).fetchone() == ("chat",)
    act_as(conn, MANAGER)
    row = conn.execute(
        "select (api.create_ticket(%s, 'No one to write to')).id", (ACME,)
    ).fetchone()
    assert row is not None
    bare = str(row[0])
    error = refused(conn, REPLY, bare, "email")
    assert error.diag.message_primary.endswith(
        "cannot take an email reply: its contact has no email address; it can take note"
    )
    assert json.loads(error.diag.message_detail or "") == {"channels": ["note"]}
    assert conn.execute(REPLY, (bare, "note")).fetchone() == ("note",)
