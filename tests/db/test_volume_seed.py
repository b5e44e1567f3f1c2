"""`halo seed --tickets N` at small N: the shape of the data, and that it is consistent.

The 1,000,000-ticket timing is a benchmark (docs/performance.md), not part of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

from halo_supabase.catalog_lint import lint
from halo_supabase.local.migrations import apply_migrations
from halo_supabase.volume_seed import seed_volume
from tests.conftest import REPO

TICKETS = 3000
HALO = [sys.executable, "-m", "halo_supabase.cli"]


@pytest.fixture
def seeded(fresh_db: str) -> tuple[str, str]:
    apply_migrations(fresh_db, REPO / "supabase" / "migrations")
    result = seed_volume(fresh_db, TICKETS)
    assert result.tickets == TICKETS and set(result.seconds) >= {"tickets", "messages"}
    return fresh_db, result.run


def scalar(conn: psycopg.Connection[tuple[object, ...]], sql: str) -> object:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_shape(seeded: tuple[str, str]) -> None:
    url, _ = seeded
    with psycopg.connect(url) as conn:
        per_workspace = [
            int(str(r[0]))
            for r in conn.execute(
                "select count(t.id) from halo.workspaces w left join halo.tickets t"
                " on t.workspace_id = w.id group by w.id order by 1 desc"
            )
        ]
        assert len(per_workspace) == 100 and sum(per_workspace) == TICKETS
        assert per_workspace[0] == TICKETS * 3 // 10  # the big one: 30%
        assert min(per_workspace) >= 1
        messages_per_ticket = scalar(
            conn,
            "select count(*)::numeric / (select count(*) from halo.tickets) from halo.messages",
        )
        assert 9 <= float(str(messages_per_ticket)) <= 11
        statuses = {r[0] for r in conn.execute("select distinct status from api.tickets")}
        assert statuses == {
            "open",
            "priority",
            "in_progress",
            "snoozed",
            "resolved",
            "ai_resolved",
            "spam",
        }
        # Skewed towards the recent past: the last 6 months hold far more than 1/6 of 3 years.
        recent = scalar(
            conn,
            "select avg((created_at > now() - interval '6 months')::int) from halo.tickets",
        )
        assert float(str(recent)) > 0.4


def test_rows_are_consistent_although_checks_were_off(seeded: tuple[str, str]) -> None:
    url, _ = seeded
    with psycopg.connect(url) as conn:
        # Ticket numbers are 1..n in every workspace and the counters continue from n.
        assert (
            scalar(
                conn,
                "select count(*) from (select workspace_id, max(number) m, count(*) c"
                " from halo.tickets group by 1) t"
                " join halo.workspace_counters w using (workspace_id)"
                " where t.m <> t.c or w.last_ticket_number <> t.m",
            )
            == 0
        )
        # Every reference the foreign keys and same-workspace triggers would have checked holds.
        assert (
            scalar(
                conn,
                "select count(*) from halo.tickets t"
                " left join halo.contacts c on c.id = t.contact_id"
                " left join halo.members m"
                " on (m.workspace_id, m.user_id) = (t.workspace_id, t.assignee_id)"
                " where c.workspace_id is distinct from t.workspace_id"
                " or (t.assignee_id is not null and m.user_id is null)",
            )
            == 0
        )
        assert (
            scalar(
                conn,
                "select count(*) from halo.messages m"
                " left join halo.tickets t on t.id = m.ticket_id"
                " left join halo.members a"
                " on (a.workspace_id, a.user_id) = (m.workspace_id, m.author_user_id)"
                " where t.workspace_id is distinct from m.workspace_id"
                " or (m.author_kind = 'teammate' and a.user_id is null)",
            )
            == 0
        )
        assert lint(conn) == []
        # New writes continue normally after the bulk load.
        conn.execute("select api.create_ticket(id, 'after the load') from halo.workspaces limit 1")


def test_the_cli_command(fresh_db: str) -> None:
    apply_migrations(fresh_db, REPO / "supabase" / "migrations")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "halo_supabase.cli",
            "seed",
            "--tickets",
            "500",
            "--db-url",
            fresh_db,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    assert "seeded 500 tickets and" in result.stderr
    too_few = subprocess.run(
        [*HALO, "seed", "--tickets", "5", "--db-url", fresh_db],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert too_few.returncode == 2 and "--tickets" in too_few.stderr
