"""The database enforces the limits `halo_supabase/limits.py` declares, at exactly those values.

Each limit is probed at the declared value (accepted) and one past it (refused), through the same
calls the edge function and the workers make, so a constraint or guard written with another
number fails here whichever way it drifts. Every probe is rolled back.
"""

from __future__ import annotations

import psycopg
import pytest

from halo_supabase.limits import (
    INLINE_RAW_MAX_BYTES,
    JOB_BATCH_MAX,
    JOB_LEASE_MAX_SECONDS,
    MESSAGE_MAX_BYTES,
)
from tests.conftest import as_user

RECIPIENT = "support@acme.test"
LEASE = "00000000-0000-4000-8000-000000000000"


def refusal(
    db_url: str, sql: str, params: tuple[object, ...] = (), *, after: str | None = None
) -> str | None:
    """The SQLSTATE the service role gets for `sql` (run after the statement `after`), or None
    when it is accepted. Rolled back either way."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        try:
            with conn.transaction(force_rollback=True):
                as_user(conn, "service_role", {"role": "service_role"})
                if after is not None:
                    conn.execute(after)
                conn.execute(sql, params)
        except psycopg.Error as error:
            return error.sqlstate
    return None


def receive(size_bytes: int, raw: str | None = None) -> tuple[str, tuple[object, ...]]:
    return (
        "select api.receive_inbound_email('raw', %s, %s, 'mime', %s, p_raw => %s)",
        (RECIPIENT, None if raw is not None else "raw/limits.eml", size_bytes, raw),
    )


def test_a_message_of_the_declared_maximum_is_recorded_and_one_byte_more_is_not(
    project_db: str,
) -> None:
    assert refusal(project_db, *receive(MESSAGE_MAX_BYTES)) is None
    assert refusal(project_db, *receive(MESSAGE_MAX_BYTES + 1)) == "23514"


def test_the_inbound_bucket_takes_files_up_to_the_declared_maximum(project_db: str) -> None:
    with psycopg.connect(project_db) as conn:
        row = conn.execute(
            "select file_size_limit from storage.buckets where id = 'inbound-email'"
        ).fetchone()
    assert row == (MESSAGE_MAX_BYTES,)


def test_a_payload_of_the_declared_inline_maximum_is_kept_inline_and_one_byte_more_is_not(
    project_db: str,
) -> None:
    largest = "x" * INLINE_RAW_MAX_BYTES
    assert refusal(project_db, *receive(len(largest), largest)) is None
    assert refusal(project_db, *receive(len(largest) + 1, largest + "x")) == "22023"


def test_the_inline_column_holds_the_declared_maximum_and_not_one_byte_more(
    project_db: str,
) -> None:
    # The column's own check, past the function's guard: a row written another way.
    delivery = (
        f"select api.receive_inbound_email('raw', '{RECIPIENT}', null, 'mime', 12,"
        " p_raw => 'limits probe')"
    )
    update = (
        "update halo.inbound_emails set raw_inline = repeat('y', %s)"
        " where raw_inline = 'limits probe' returning id"
    )
    for size, expected in ((INLINE_RAW_MAX_BYTES, None), (INLINE_RAW_MAX_BYTES + 1, "23514")):
        assert refusal(project_db, update, (size,), after=delivery) == expected, size


@pytest.mark.parametrize(
    ("what", "sql"),
    [
        ("claim batch", "select * from api.claim_jobs('limits.probe', 'w', %s, 60)"),
        (
            "completion batch",
            "select api.complete_jobs((select jsonb_agg(jsonb_build_object("
            f"'id', n, 'lease_token', '{LEASE}')) from generate_series(1, %s) n))",
        ),
    ],
)
def test_a_job_batch_of_the_declared_maximum_is_taken_and_one_more_is_not(
    project_db: str, what: str, sql: str
) -> None:
    assert refusal(project_db, sql, (JOB_BATCH_MAX,)) is None, what
    assert refusal(project_db, sql, (JOB_BATCH_MAX + 1,)) == "22023", what


@pytest.mark.parametrize(
    "sql",
    [
        "select * from api.claim_jobs('limits.probe', 'w', 1, %s)",
        f"select api.extend_job_lease(-1, '{LEASE}', %s)",
    ],
)
def test_a_lease_of_the_declared_maximum_is_granted_and_one_second_more_is_not(
    project_db: str, sql: str
) -> None:
    # Extending a job that does not exist fails later, as a lost lease; not on the duration.
    assert refusal(project_db, sql, (JOB_LEASE_MAX_SECONDS,)) != "22023"
    assert refusal(project_db, sql, (JOB_LEASE_MAX_SECONDS + 1,)) == "22023"


def test_probes_are_rolled_back(project_db: str) -> None:
    count = "select count(*) from halo.inbound_emails where storage_path = 'raw/limits.eml'"
    assert refusal(project_db, *receive(1)) is None
    with psycopg.connect(project_db) as conn:
        assert conn.execute(count).fetchone() == (0,)
