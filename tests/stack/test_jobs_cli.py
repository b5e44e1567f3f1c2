"""`halo jobs` (list, retry, discard dead letters) and `halo worker` through the real gateway."""

from __future__ import annotations

import subprocess
import sys

import psycopg

from tests.stack.conftest import Stack
from tests.stack.test_worker_runtime import job_row, kind


def halo(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "halo_supabase.cli", *args],
        env={**stack.env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_halo_jobs_lists_retries_and_discards_dead_letters(stack: Stack) -> None:
    job_kind = kind()
    with psycopg.connect(stack.db_url) as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "insert into halo.jobs (kind, state, attempts, max_attempts, finished_at,"
                " last_error) select %s, 'dead', 5, 5, now(), 'SMTPError: 550 refused'"
                " from generate_series(1, 2) returning id",
                (job_kind,),
            )
        ]
    listed = halo(stack, "jobs", "list", "--dead", "--kind", job_kind)
    assert listed.returncode == 0, listed.stderr
    assert all(str(i) in listed.stdout for i in ids)
    assert "SMTPError: 550 refused" in listed.stdout

    assert halo(stack, "jobs", "retry", str(ids[0])).returncode == 0
    assert halo(stack, "jobs", "discard", str(ids[1])).returncode == 0
    assert job_row(stack.db_url, ids[0])[:2] == ("queued", 0)
    with psycopg.connect(stack.db_url) as conn:
        assert conn.execute("select 1 from halo.jobs where id = %s", (ids[1],)).fetchone() is None

    again = halo(stack, "jobs", "retry", str(ids[0]))
    assert again.returncode == 1
    assert f"job {ids[0]} is queued, not a dead letter" in again.stderr
    assert "Traceback" not in again.stderr

    for command in ("retry", "discard"):
        missing = halo(stack, "jobs", command, "999999999")
        assert missing.returncode == 1
        assert "job 999999999 does not exist" in missing.stderr
        assert "dead letter" not in missing.stderr


def test_halo_worker_names_the_workers_it_knows(stack: Stack) -> None:
    result = halo(stack, "worker", "no-such-worker")
    assert result.returncode == 2
    assert "unknown worker no-such-worker" in result.stderr
