"""inbox_counts' status buckets (insert-only deltas, compacted now and then) always equal a
direct count of the tickets, through inserts, every kind of status move, deletes and merges."""

from __future__ import annotations

import json
import random

import psycopg

from tests.conftest import as_user
from tests.db.demo import ACME, CONTACT, MANAGER, claims

ACTIONS = [
    "mark_priority",
    "unmark_priority",
    "start_progress",
    "open",
    "snooze",
    "resolve",
    "reopen",
    "mark_spam",
    "not_spam",
]
DIRECT = """
select jsonb_build_object(
  'open', count(*) filter (where status = 'open'),
  'priority', count(*) filter (where status = 'priority'),
  'in_progress', count(*) filter (where status = 'in_progress'),
  'snoozed', count(*) filter (where status = 'snoozed'),
  'resolved', count(*) filter (where status = 'resolved'),
  'ai_resolved', count(*) filter (where status = 'ai_resolved'),
  'spam', count(*) filter (where status = 'spam'),
  'all', count(*) filter (where status in ('open', 'priority', 'in_progress')),
  'agent_requests', count(*) filter (where status in ('open', 'priority', 'in_progress')
                                     and category = 'agent_request'),
  'sales', count(*) filter (where status in ('open', 'priority', 'in_progress') and source = 'sales'))
from api.tickets where workspace_id = %s
"""


def counts(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[dict[str, int], dict[str, int]]:
    with conn.transaction(force_rollback=True):
        as_user(conn, "authenticated", claims(MANAGER))
        row = conn.execute("select api.inbox_counts(%s)", (ACME,)).fetchone()
        direct = conn.execute(DIRECT, (ACME,)).fetchone()
    assert row is not None and direct is not None
    views = row[0]["views"]  # type: ignore[index]
    assert isinstance(direct[0], dict)
    return {k: views[k] for k in direct[0]}, direct[0]


def test_counts_follow_every_write(inbox_db: str) -> None:
    rng = random.Random(66)
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        got, expected = counts(conn)
        assert got == expected
        tickets: list[str] = []
        for step in range(400):
            choice = rng.random()
            with conn.transaction():
                as_user(conn, "authenticated", claims(MANAGER))
                try:
                    if choice < 0.25 or len(tickets) < 5:
                        row = conn.execute(
                            "select id from api.create_ticket(%s, 'count', p_category => %s,"
                            " p_source => %s, p_contact_id => %s)",
                            (
                                ACME,
                                rng.choice([None, "agent_request"]),
                                rng.choice(["api", "sales"]),
                                CONTACT,
                            ),
                        ).fetchone()
                        assert row is not None
                        tickets.append(str(row[0]))
                    elif choice < 0.9:
                        with conn.transaction():
                            conn.execute(
                                "select api.transition_ticket(%s, %s, now() + interval '1 day')",
                                (rng.choice(tickets), rng.choice(ACTIONS)),
                            )
                    elif choice < 0.95:
                        source, target = rng.sample(tickets, 2)
                        with conn.transaction():
                            conn.execute("select api.merge_tickets(%s, %s)", (source, target))
                    else:
                        conn.execute("set local role postgres")
                        conn.execute("delete from halo.tickets where id = %s", (tickets.pop(),))
                except psycopg.errors.RaiseException:
                    pass
                except psycopg.Error as exc:
                    assert exc.sqlstate in ("HL001", "HL002"), exc
            if step % 50 == 0:
                got, expected = counts(conn)
                assert got == expected, json.dumps({"step": step, "got": got, "expected": expected})
        got, expected = counts(conn)
        assert got == expected
        rows = conn.execute(
            "select count(*) from halo.ticket_count_deltas where workspace_id = %s", (ACME,)
        ).fetchone()
        assert rows is not None and rows[0] < 32 + 16, (
            rows
        )  # a fold every 32 delta rows keeps the log short
