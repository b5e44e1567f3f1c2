"""Domain events: one per change, broadcast to the right private topics, gap-free for readers."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import psycopg
import pytest

from halo_supabase.client.events import parse_event
from tests.conftest import as_user
from tests.db.demo import (
    ACME,
    AGENT,
    CONTACT,
    LIVE_CONVERSATION,
    MANAGER,
    OPEN_TICKET,
    OUTSIDER,
    VIEWER,
    claims,
)

Conn = psycopg.Connection[tuple[object, ...]]
SERVICE = {"role": "service_role"}


def last_seq(conn: Conn) -> int:
    row = conn.execute(
        "select last_seq from halo.event_counters where workspace_id = %s", (ACME,)
    ).fetchone()
    assert row is not None
    return int(str(row[0]))


def events_after(conn: Conn, seq: int) -> list[tuple[object, ...]]:
    return conn.execute(
        "select seq, name, data from halo.events where workspace_id = %s and seq > %s order by seq",
        (ACME, seq),
    ).fetchall()


def run_as(url: str, user: str | None, sql: str, params: tuple[object, ...] = ()) -> None:
    with psycopg.connect(url) as conn:
        as_user(
            conn, "authenticated" if user else "service_role", claims(user) if user else SERVICE
        )
        conn.execute(sql, params)


CHANGES: list[tuple[str, str | None, str, str]] = [
    # (what, acting user, statement, the one event it must emit)
    ("create a ticket", AGENT, f"select api.create_ticket('{ACME}', 'Hello')", "ticket.created"),
    (
        "resolve",
        MANAGER,
        f"select api.set_ticket_status('{OPEN_TICKET}', 'resolved')",
        "ticket.status_changed",
    ),
    ("assign", MANAGER, f"select api.assign_ticket('{OPEN_TICKET}', '{AGENT}')", "ticket.assigned"),
    (
        "relabel",
        MANAGER,
        f"select api.update_ticket('{OPEN_TICKET}', p_labels => '{{a,b}}')",
        "ticket.updated",
    ),
    (
        "write a note",
        AGENT,
        f"select api.append_message('{OPEN_TICKET}', p_kind => 'note', p_body_text => 'internal')",
        "message.created",
    ),
    (
        "signal",
        None,
        f"select api.record_conversation_signal('{LIVE_CONVERSATION}', 0.2, 'neutral')",
        "conversation.signal",
    ),
    (
        "add a contact",
        AGENT,
        f"insert into api.contacts (workspace_id, email) values ('{ACME}', 'new@example.com')",
        "contact.created",
    ),
    (
        "rename a contact",
        AGENT,
        f"update api.contacts set name = 'Renamed' where id = '{CONTACT}'",
        "contact.updated",
    ),
    (
        "mark a ticket read",
        AGENT,
        f"select api.mark_ticket_read('{OPEN_TICKET}')",
        "ticket.read",
    ),
    (
        "add a custom inbox",
        MANAGER,
        f"insert into api.custom_inboxes (workspace_id, name) values ('{ACME}', 'VIP')",
        "custom_inbox.created",
    ),
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c[0])
def test_each_change_emits_exactly_one_event(
    inbox_db: str, change: tuple[str, str | None, str, str]
) -> None:
    _, user, sql, expected = change
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        before = last_seq(conn)
        run_as(inbox_db, user, sql)
        events = events_after(conn, before)
        staged = conn.execute("select count(*) from halo.pending_events").fetchone()
    assert [(seq, name) for seq, name, _ in events] == [(before + 1, expected)]
    assert staged == (0,)  # published at commit, nothing left behind
    # The typed client's model reads the broadcast whole: every field the trigger sends is named.
    with psycopg.connect(inbox_db) as conn:
        row = conn.execute(
            "select payload from realtime.messages where topic = %s and event = %s"
            " and (payload ->> 'seq')::bigint = %s",
            (f"workspace:{ACME}", expected, before + 1),
        ).fetchone()
    assert row is not None and isinstance(row[0], dict)
    assert parse_event(expected, row[0]).model_extra == {}


def test_status_change_writes_an_activity_row_but_no_second_event(inbox_db: str) -> None:
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        row = conn.execute("select id from api.create_ticket(%s, 'fresh')", (ACME,)).fetchone()
        assert row is not None
        ticket = str(row[0])
        before = last_seq(conn)
        run_as(inbox_db, MANAGER, f"select api.set_ticket_status('{ticket}', 'priority')")
        assert [e[1] for e in events_after(conn, before)] == ["ticket.status_changed"]
        activity = conn.execute(
            "select author_user_id::text, activity from halo.messages"
            " where ticket_id = %s and kind = 'system' order by activity ->> 'action' desc",
            (ticket,),
        ).fetchall()
    assert activity == [
        (MANAGER, {"action": "status_changed", "from": "open", "to": "priority"}),
        (MANAGER, {"action": "priority_changed", "from": "normal", "to": "high"}),
    ]


def test_bookkeeping_and_failed_changes_emit_nothing(inbox_db: str) -> None:
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        before = last_seq(conn)
        conn.execute(
            "update halo.tickets set last_activity_at = now() where id = %s", (OPEN_TICKET,)
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            # Over the 50,000-byte metadata limit: rejected whole, nothing half-written.
            conn.execute(
                "update halo.tickets set subject = 'x',"
                " metadata = jsonb_build_object('blob', %s::text)"
                " where id = %s",
                ("x" * 50_001, OPEN_TICKET),
            )
        assert events_after(conn, before) == []
        assert last_seq(conn) == before


def test_a_customer_reply_reopens_a_resolved_ticket(inbox_db: str) -> None:
    resolved = "a1000000-0000-4000-8000-000000000005"
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        before = last_seq(conn)
        run_as(
            inbox_db,
            None,
            "select api.append_message(%s, p_kind => 'email', p_author_kind => 'customer',"
            " p_body_text => 'It broke again', p_email_message_id => 'again@initech.example')",
            (resolved,),
        )
        names = [e[1] for e in events_after(conn, before)]
        status = conn.execute(
            "select status from api.tickets where id = %s", (resolved,)
        ).fetchone()
    assert names == ["ticket.status_changed", "message.created"]
    assert status == ("open",)


def test_events_are_broadcast_to_workspace_and_ticket_topics(inbox_db: str) -> None:
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        row = conn.execute("select id from api.create_ticket(%s, 'fresh')", (ACME,)).fetchone()
        assert row is not None
        ticket = str(row[0])
        conn.execute("delete from realtime.messages")
        run_as(inbox_db, MANAGER, f"select api.assign_ticket('{ticket}', '{AGENT}')")
        sent = conn.execute(
            "select topic, event, private, payload - 'id' from realtime.messages order by topic"
        ).fetchall()
        seq = last_seq(conn)
    payload = {
        "event": "ticket.assigned",
        "seq": seq,
        "workspace_id": ACME,
        "ticket_id": ticket,
        "changed": ["assignee_id"],
        "status": "open",
        "assignee_id": AGENT,
    }
    assert sent == [
        (f"ticket:{ticket}", "ticket.assigned", True, payload),
        (f"workspace:{ACME}", "ticket.assigned", True, payload),
    ]


@pytest.mark.parametrize(
    ("topic", "readers"),
    [
        (f"workspace:{ACME}", {VIEWER, AGENT, MANAGER}),
        (f"ticket:{OPEN_TICKET}", {VIEWER, AGENT, MANAGER}),
        (f"conversation:{LIVE_CONVERSATION}", {VIEWER, AGENT, MANAGER}),
        ("jobs:email.send", set()),
        ("workspace:not-a-uuid", set()),
    ],
)
def test_private_topics_admit_only_members_who_may_read_them(
    inbox_db: str, topic: str, readers: set[str]
) -> None:
    # What Realtime does when a client joins a private channel: as the user, with realtime.topic
    # set, can it see a broadcast on that topic?
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        conn.execute("select realtime.send('{}', 'probe', %s, true)", (topic,))
    admitted = set()
    for user in (VIEWER, AGENT, MANAGER, OUTSIDER):
        with psycopg.connect(inbox_db) as conn:
            as_user(conn, "authenticated", claims(user))
            conn.execute("select set_config('realtime.topic', %s, true)", (topic,))
            row = conn.execute(
                "select count(*) from realtime.messages where topic = realtime.topic()"
            ).fetchone()
            if row and row[0]:
                admitted.add(user)
    assert admitted == readers


def test_events_since_validates_its_arguments(inbox_db: str) -> None:
    with psycopg.connect(inbox_db) as conn:
        as_user(conn, "authenticated", claims(VIEWER))
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="p_limit must be between"):
            conn.execute("select * from api.events_since(%s, 0, 5000)", (ACME,))


# -- gap-free under concurrency ------------------------------------------------------------------


def hammer(
    url: str,
    start: int,
    writers: int,
    per_writer: int,
    write: Callable[[Conn, int], None],
    read: Callable[[int], list[int]],
) -> tuple[list[str], int]:
    """Run `writers` threads of `per_writer` writes while one reader polls `read(last_seen)`.

    Returns the gaps the reader observed (a batch that did not start at last_seen + 1, or was not
    consecutive) and the last seq it saw after the writers finished.
    """
    done = threading.Event()
    errors: list[BaseException] = []
    gaps: list[str] = []
    seen = start

    def writer(number: int) -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                for i in range(per_writer):
                    write(conn, number * per_writer + i)
        except BaseException as exc:  # surfaced by the main thread
            errors.append(exc)

    def reader() -> None:
        nonlocal seen
        while True:
            finished = done.is_set()
            batch = read(seen)
            if batch and batch != list(range(seen + 1, seen + 1 + len(batch))):
                gaps.append(f"after {seen} got {batch[:5]}")
                return
            if batch:
                seen = batch[-1]
            elif finished:
                return

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    reading = threading.Thread(target=reader)
    reading.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reading.join()
    assert not errors, errors
    return gaps, seen


LINGER = (
    # Test-only: widen the window between taking an event number and the commit becoming
    # visible, where a design that is not gap-free would show the reader a hole.
    "create function public.linger() returns trigger language plpgsql as"
    " $$ begin perform pg_sleep(random() * 0.004); return null; end $$;"
    "create trigger linger after insert on halo.events"
    " for each row execute function public.linger()"
)


def test_concurrent_writers_never_show_a_reader_a_gap(inbox_db: str) -> None:
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        start = last_seq(conn)
        conn.execute(LINGER.encode())
    reader_conn = psycopg.connect(inbox_db)

    def write(conn: Conn, n: int) -> None:
        # Four kinds of change, two of them on the same ticket row (a note and a relabel), so
        # the ticket-then-counter lock order is exercised too: a deadlock would fail the test.
        with conn.transaction():
            as_user(conn, "authenticated", claims(MANAGER if n % 4 == 3 else AGENT))
            if n % 4 == 0:
                conn.execute("select api.create_ticket(%s, %s)", (ACME, f"Load {n}"))
            elif n % 4 == 1:
                conn.execute(
                    "select api.append_message(%s, p_kind => 'note', p_body_text => %s)",
                    (OPEN_TICKET, f"note {n}"),
                )
            elif n % 4 == 2:
                conn.execute(
                    "insert into api.contacts (workspace_id, email) values (%s, %s)",
                    (ACME, f"load{n}@example.com"),
                )
            else:
                conn.execute(
                    "select api.update_ticket(%s, p_labels => array[%s])", (OPEN_TICKET, f"l{n}")
                )
            # Hold the transaction open a little after the event, as real requests do.
            conn.execute("select pg_sleep(%s)", (random.random() * 0.004,))

    def read(after: int) -> list[int]:
        with reader_conn.transaction():
            as_user(reader_conn, "authenticated", claims(VIEWER))
            return [
                int(str(r[0]))
                for r in reader_conn.execute(
                    "select seq from api.events_since(%s, %s, 1000)", (ACME, after)
                )
            ]

    try:
        gaps, seen = hammer(inbox_db, start, 8, 40, write, read)
    finally:
        reader_conn.close()
        with psycopg.connect(inbox_db, autocommit=True) as conn:
            conn.execute("drop function public.linger() cascade")
    assert gaps == []
    assert seen == start + 8 * 40  # every change: exactly one event, all of them seen


def test_the_gap_detector_catches_a_plain_sequence(inbox_db: str) -> None:
    """Control: the same check over a bigserial column (commit order != number order) fails."""
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        conn.execute("create table public.naive_events (seq bigserial primary key)")
    reader_conn = psycopg.connect(inbox_db, autocommit=True)

    def write(conn: Conn, _: int) -> None:
        with conn.transaction():
            conn.execute("insert into public.naive_events default values")
            conn.execute("select pg_sleep(%s)", (random.random() * 0.004,))

    def read(after: int) -> list[int]:
        return [
            int(str(r[0]))
            for r in reader_conn.execute(
                "select seq from public.naive_events where seq > %s order by seq", (after,)
            )
        ]

    try:
        gaps, _ = hammer(inbox_db, 0, 8, 40, write, read)
    finally:
        reader_conn.close()
    assert gaps, "a plain sequence should have shown the reader a gap"


def test_rolled_back_changes_leave_no_hole(inbox_db: str) -> None:
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        before = last_seq(conn)
        with conn.transaction(force_rollback=True):
            as_user(conn, "authenticated", claims(AGENT))
            conn.execute("select api.create_ticket(%s, 'rolled back')", (ACME,))
        run_as(inbox_db, AGENT, f"select api.create_ticket('{ACME}', 'kept')")
        assert [e[0] for e in events_after(conn, before)] == [before + 1]


def test_deleting_a_workspace_takes_everything_with_it(inbox_db: str) -> None:
    globex = "b0000000-0000-4000-8000-000000000002"
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        # Changes staged in the same transaction as the delete must not block its commit.
        with conn.transaction():
            conn.execute("select api.create_ticket(%s, 'last words')", (globex,))
            conn.execute("delete from halo.workspaces where id = %s", (globex,))
        left = conn.execute(
            "select (select count(*) from halo.members where workspace_id = %(w)s)"
            " + (select count(*) from halo.tickets where workspace_id = %(w)s)"
            " + (select count(*) from halo.events where workspace_id = %(w)s)"
            " + (select count(*) from halo.pending_events)",
            {"w": globex},
        ).fetchone()
    assert left == (0,)
