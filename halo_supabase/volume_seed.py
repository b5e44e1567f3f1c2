"""`halo seed --tickets N`: realistic data volume for benchmarks and query plans.

The work is one SQL file (`sql/volume_seed.sql`) of set-based steps run in a single transaction;
this module reads its named steps (`-- name:` blocks), runs them in order and times each, so the
command can show progress and docs/performance.md can quote the numbers.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from halo_supabase.sql_files import load_queries

__all__ = ["VolumeSeedResult", "seed_volume", "steps"]


@dataclass
class VolumeSeedResult:
    """What a run created, and how long each step took."""

    run: str
    tickets: int
    messages: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def steps() -> list[tuple[str, str]]:
    """The (name, SQL) steps of the seed script, in order."""
    return list(load_queries("halo_supabase", "volume_seed.sql").items())


def seed_volume(
    db_url: str,
    tickets: int,
    on_step: Callable[[str, float], None] | None = None,
) -> VolumeSeedResult:
    """Add 100 workspaces holding `tickets` tickets (and ~10x messages) to the database.

    Needs a superuser connection (the local stack's `postgres`): triggers and foreign-key checks
    are switched off for the session while the generated, consistent-by-construction rows load.
    """
    if tickets < 100:
        raise ValueError("--tickets must be at least 100 (one per workspace)")
    result = VolumeSeedResult(run=secrets.token_hex(3), tickets=tickets)
    with psycopg.connect(db_url) as conn:
        conn.execute("set session_replication_role = replica")
        conn.execute("set synchronous_commit = off")
        conn.execute("set maintenance_work_mem = '256MB'")
        conn.execute("select set_config('halo_seed.run', %s, false)", (result.run,))
        conn.execute("select set_config('halo_seed.tickets', %s, false)", (str(tickets),))
        for name, sql in steps():
            began = time.perf_counter()
            conn.execute(sql.encode("utf-8"))
            result.seconds[name] = time.perf_counter() - began
            if on_step is not None:
                on_step(name, result.seconds[name])
        began = time.perf_counter()
        conn.commit()
        result.seconds["commit"] = time.perf_counter() - began
        row = conn.execute(
            "select count(*) from halo.messages m join halo.workspaces w on w.id = m.workspace_id"
            " where w.name like %s",
            (f"Volume {result.run} #%",),
        ).fetchone()
        result.messages = int(str(row[0])) if row else 0
    return result
