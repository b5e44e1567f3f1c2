"""The rows a ticket list renders (api.list_tickets -> api.ticket_rows) and the unread state behind
them (api.mark_ticket_read, api.unread_counts, ticket.read), as each member of the demo workspace
sees them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pytest

from tests.conftest import as_user
from tests.db.demo import ACME, AGENT, GLOBEX, MANAGER, OUTSIDER, VIEWER, claims

Conn = psycopg.Connection[dict[str, Any]]
HANK = "f0000000-0000-4000-8000-000000000001"  # of Globex
GLOBEX_COMPANY = "e0000000-0000-4000-8000-000000000001"
GLOBEX_HANK = "f0000000-0000-4000-8000-000000000009"
LIVE_CHAT = "91000000-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def conn(inbox_db: str) -> Iterator[Conn]:
    """Each call commits: messages of one transaction would share one time."""
    with psycopg.connect(
        inbox_db, autocommit=True, row_factory=psycopg.rows.dict_row
    ) as connection:
        yield connection


def run(
    conn: Conn, user: str | None, sql: str, params: Sequence[object] = ()
) -> list[dict[str, Any]]:
    """Runs one statement as `user` (service_role when None) in its own transaction."""
    with conn.transaction():
        if user is None:
            as_user(conn, "service_role", None)  # type: ignore[arg-type]
        else:
            as_user(conn, "authenticated", claims(user))  # type: ignore[arg-type]
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def new_ticket(conn: Conn, conversation: str | None = None) -> str:
    """An urgent ticket of Hank Scorpio (Globex) assigned to Maya, labelled outage and vip."""
    row = conn.execute(
        "insert into halo.tickets (workspace_id, subject, priority, channel, contact_id, company_id,"
        " assignee_id, labels, conversation_id, ai_confidence)"
        " values (%s, 'Production outage', 'urgent', 'api', %s, %s, %s, '{outage,vip}', %s, 31)"
        " returning id",
        (ACME, HANK, GLOBEX_COMPANY, MANAGER, conversation),
    ).fetchone()
    assert row is not None
    return str(row["id"])


def row_of(conn: Conn, user: str, ticket: str, view: str = "everything") -> dict[str, Any]:
    rows = run(
        conn,
        user,
        "select * from api.list_tickets(%s, %s, p_limit => 200) where id = %s",
        (ACME, view, ticket),
    )
    assert len(rows) == 1, f"ticket {ticket} not in the first {view} page"
    return rows[0]


def customer_writes(conn: Conn, ticket: str, text: str) -> str:
    rows = run(
        conn,
        None,
        "select id from api.append_message(%s, p_kind => 'email', p_body_text => %s,"
        " p_author_kind => 'customer', p_author_contact_id => %s)",
        (ticket, text, HANK),
    )
    return str(rows[0]["id"])


def test_a_row_carries_what_the_list_shows(conn: Conn) -> None:
    ticket = new_ticket(conn)
    customer_writes(conn, ticket, "The EU cluster\n\n  is   down again. " + "x" * 300)
    row = row_of(conn, VIEWER, ticket, "all")
    assert (row["subject"], row["status"], row["priority"], row["channel"]) == (
        "Production outage",
        "priority",
        "urgent",
        "api",
    )
    assert row["number"] > 0 and row["last_activity_at"] == row["last_message_at"]
    assert (row["contact_name"], row["contact_email"], row["contact_initials"]) == (
        "Hank Scorpio",
        "hank@globex.example",
        "HS",
    )
    assert (row["company_name"], str(row["assignee_id"]), row["assignee_name"]) == (
        "Globex",
        MANAGER,
        "Maya",
    )
    assert row["last_message_preview"].startswith("The EU cluster is down again. xxx")
    assert len(row["last_message_preview"]) == 140
    assert (
        row["last_message_kind"],
        row["last_message_author_kind"],
        row["last_message_author_name"],
    ) == (
        "email",
        "customer",
        "Hank Scorpio",
    )
    assert (row["labels"], row["snoozed_until"], row["unread"]) == (["outage", "vip"], None, True)


def test_a_conversation_ticket_shows_mood_and_ai_confidence(conn: Conn) -> None:
    conn.execute(
        "update halo.conversations set mood = 'frustrated', ai_confidence = 42 where id = %s",
        (LIVE_CHAT,),
    )
    row = row_of(conn, AGENT, new_ticket(conn, LIVE_CHAT))
    assert (row["mood"], row["conversation_ai_confidence"], row["ai_confidence"]) == (
        "frustrated",
        42,
        31,
    )
    assert row_of(conn, AGENT, new_ticket(conn))["mood"] is None


def test_the_last_message_names_a_teammate_and_skips_system_rows(conn: Conn) -> None:
    ticket = new_ticket(conn)
    customer_writes(conn, ticket, "Help")
    run(
        conn,
        AGENT,
        "select api.append_message(%s, p_kind => 'note', p_body_text => 'Looking')",
        (ticket,),
    )
    run(conn, MANAGER, "select api.transition_ticket(%s, 'resolve')", (ticket,))  # a system message
    row = row_of(conn, MANAGER, ticket)
    assert (row["last_message_preview"], row["last_message_author_name"]) == ("Looking", "Remy")
    assert (str(row["last_message_author_user_id"]), row["last_message_kind"]) == (AGENT, "note")


def test_another_workspace_sees_nothing_of_acme_through_the_rows(conn: Conn) -> None:
    ticket = new_ticket(conn)
    customer_writes(conn, ticket, "Acme's secret")
    conn.execute(
        "insert into halo.tickets (workspace_id, subject, contact_id, assignee_id) values (%s, 'Globex own', %s, %s)",
        (GLOBEX, GLOBEX_HANK, OUTSIDER),
    )
    rows = run(
        conn,
        OUTSIDER,
        "select workspace_id, contact_name, assignee_name, last_message_preview, unread from api.ticket_rows",
    )
    assert [tuple(map(str, r.values())) for r in rows] == [
        (GLOBEX, "Hank Scorpio", "Gina", "None", "False")
    ]
    assert not run(conn, OUTSIDER, "select 1 from api.ticket_rows where id = %s", (ticket,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run(conn, OUTSIDER, "select * from api.list_tickets(%s, 'all')", (ACME,))


def test_keyset_pages_of_rows_cover_the_view_once(conn: Conn) -> None:
    sql = "select id from api.tickets where workspace_id = %s order by number desc, id desc"
    expected = [r["id"] for r in run(conn, MANAGER, sql, (ACME,))]
    seen: list[Any] = []
    after: tuple[str | None, Any] = (None, None)
    while page := run(
        conn,
        MANAGER,
        "select id, number from api.list_tickets(%s, 'everything', p_sort => 'number.desc',"
        " p_after_value => %s, p_after_id => %s, p_limit => 3)",
        (ACME, after[0], after[1]),
    ):
        seen += [r["id"] for r in page]
        after = (str(page[-1]["number"]), page[-1]["id"])
    assert seen == expected and len(expected) > 3


def mark_read(conn: Conn, user: str, ticket: str, message: str | None = None) -> dict[str, Any]:
    return run(conn, user, "select * from api.mark_ticket_read(%s, %s)", (ticket, message))[0]


def test_opening_a_ticket_marks_it_read_for_that_member_only(conn: Conn) -> None:
    ticket = new_ticket(conn)
    first = customer_writes(conn, ticket, "Still down")
    assert row_of(conn, AGENT, ticket)["unread"] is True
    marker = mark_read(conn, AGENT, ticket)
    assert str(marker["last_read_message_id"]) == first
    row = row_of(conn, AGENT, ticket)
    assert (row["unread"], row["last_read_at"]) == (False, marker["last_read_at"])
    assert row_of(conn, MANAGER, ticket)["unread"] is True

    # A new customer message makes it unread again; the member's own reply reads it.
    customer_writes(conn, ticket, "Hello?")
    assert row_of(conn, AGENT, ticket)["unread"] is True
    run(
        conn,
        AGENT,
        "select api.append_message(%s, p_kind => 'email', p_body_text => 'On it')",
        (ticket,),
    )
    assert row_of(conn, AGENT, ticket)["unread"] is False
    assert row_of(conn, MANAGER, ticket)["unread"] is True

    # A marker never moves back.
    newest = mark_read(conn, AGENT, ticket)
    again = mark_read(conn, AGENT, ticket, first)
    assert again["last_read_message_id"] == newest["last_read_message_id"] != first


def test_marking_read_emits_ticket_read_once_per_move(conn: Conn) -> None:
    ticket = new_ticket(conn)
    customer_writes(conn, ticket, "Any news?")
    mark_read(conn, VIEWER, ticket)
    mark_read(conn, VIEWER, ticket)  # nothing new: no event
    events = run(
        conn,
        VIEWER,
        "select name, data from api.events where ticket_id = %s and name = 'ticket.read'",
        (ticket,),
    )
    assert [e["data"]["user_id"] for e in events] == [VIEWER]
    assert set(events[0]["data"]) == {"user_id", "last_read_message_id", "last_read_at"}


def test_read_markers_are_each_members_own(conn: Conn) -> None:
    ticket = new_ticket(conn)
    mark_read(conn, MANAGER, ticket)
    mark_read(conn, AGENT, ticket)
    mine = run(conn, AGENT, "select user_id from api.ticket_reads where ticket_id = %s", (ticket,))
    assert [str(r["user_id"]) for r in mine] == [AGENT]
    changed = run(
        conn,
        AGENT,
        "update halo.ticket_reads set last_read_at = now() where user_id = %s returning 1",
        (MANAGER,),
    )
    assert changed == []
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run(
            conn,
            AGENT,
            "insert into halo.ticket_reads (user_id, ticket_id, workspace_id, last_read_at)"
            " values (%s, %s, %s, now())",
            (VIEWER, ticket, ACME),
        )


@pytest.mark.parametrize(
    ("user", "message", "sqlstate", "says"),
    [
        (AGENT, "a1000000-0000-4000-8000-00000000dead", "22023", "is not in ticket"),
        (OUTSIDER, None, "P0002", "does not exist"),
        (None, None, "42501", "signed-in members"),
    ],
)
def test_marking_read_refuses_what_it_cannot_mark(
    conn: Conn, user: str | None, message: str | None, sqlstate: str, says: str
) -> None:
    ticket = new_ticket(conn)
    with pytest.raises(psycopg.Error) as raised:
        run(conn, user, "select api.mark_ticket_read(%s, %s)", (ticket, message))
    assert raised.value.sqlstate == sqlstate and says in str(raised.value)


def unread_counts(conn: Conn, user: str, views: list[str] | None = None) -> dict[str, int]:
    row = run(conn, user, "select api.unread_counts(%s, %s) as counts", (ACME, views))[0]
    assert row["counts"]["window"] == 100
    counts: dict[str, int] = row["counts"]["views"]
    return counts


def test_unread_counts_are_the_unread_rows_of_each_view(conn: Conn) -> None:
    ticket = new_ticket(conn)
    customer_writes(conn, ticket, "Down")
    custom = run(
        conn,
        MANAGER,
        "insert into api.custom_inboxes (workspace_id, name, filter) values (%s, 'Hank',"
        " jsonb_build_object('field', 'contact_id', 'cmp', 'eq', 'value', %s::text)) returning id",
        (ACME, HANK),
    )[0]
    hank = f"custom:{custom['id']}"
    counts = unread_counts(conn, MANAGER)
    for view in ["all", "assigned_to_me", "open", "priority", "in_progress", "resolved", hank]:
        rows = run(
            conn,
            MANAGER,
            "select unread from api.list_tickets(%s, %s, p_limit => 100)",
            (ACME, view),
        )
        assert counts[view] == sum(1 for r in rows if r["unread"]), view
    assert counts["priority"] > 0 and counts[hank] > 0
    mark_read(conn, MANAGER, ticket)
    assert unread_counts(conn, MANAGER, ["priority", hank]) == {
        "priority": counts["priority"] - 1,
        hank: counts[hank] - 1,
    }


def test_unread_counts_look_at_the_hundred_most_recent_tickets(conn: Conn) -> None:
    ticket = new_ticket(conn)
    customer_writes(conn, ticket, "Older and unread")
    assert unread_counts(conn, AGENT, ["all"])["all"] > 0
    run(
        conn,
        MANAGER,
        "select api.create_ticket(%s, 'Bulk ' || i) from generate_series(1, 100) i",
        (ACME,),
    )
    # The 100 newest tickets have no messages, so nothing unread is in the window.
    assert unread_counts(conn, AGENT, ["all"]) == {"all": 0}


@pytest.mark.parametrize(
    ("user", "views", "sqlstate"),
    [
        (None, None, "42501"),
        (OUTSIDER, None, "42501"),
        (AGENT, ["nope"], "22023"),
        (AGENT, ["all"] * 51, "22023"),
    ],
)
def test_unread_counts_refuse_what_they_cannot_count(
    conn: Conn, user: str | None, views: list[str] | None, sqlstate: str
) -> None:
    with pytest.raises(psycopg.Error) as raised:
        run(conn, user, "select api.unread_counts(%s, %s)", (ACME, views))
    assert raised.value.sqlstate == sqlstate
