"""Durable jobs: claimed exactly once under concurrency, leases, retries, dead letters, dedupe."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import as_user
from tests.db.demo import ACME, AGENT, OPEN_TICKET, claims
from tests.db.plans import nested_plans, rows_read

Conn = psycopg.Connection[tuple[object, ...]]
SERVICE = {"role": "service_role"}


@pytest.fixture
def service(inbox_db: str) -> Iterator[Conn]:
    """An autocommit connection whose every statement runs as service_role, like a worker's RPC."""
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        conn.execute("set role service_role")
        conn.execute(
            "select set_config('request.jwt.claims', %s, false)", ('{"role": "service_role"}',)
        )
        yield conn


def kind() -> str:
    """A kind of its own per test, so tests sharing the database never claim each other's jobs."""
    return f"test.{uuid.uuid4().hex[:12]}"


def claim(
    conn: Conn, job_kind: str, batch: int = 10, lease: int = 60
) -> list[tuple[int, uuid.UUID]]:
    rows = conn.execute(
        "select id, lease_token from api.claim_jobs(%s, 'worker', %s, %s)", (job_kind, batch, lease)
    ).fetchall()
    return [(int(str(r[0])), uuid.UUID(str(r[1]))) for r in rows]


def expire(inbox_db: str, job_id: int) -> None:
    """Make a job's lease (or backoff) end now, instead of sleeping through it."""
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        conn.execute(
            "update halo.jobs set visible_at = now() - interval '1 second' where id = %s", (job_id,)
        )


def state(conn: Conn, job_id: int) -> tuple[object, ...]:
    row = conn.execute(
        "select state, attempts, last_error from api.jobs where id = %s", (job_id,)
    ).fetchone()
    assert row is not None
    return row


def test_eight_claimers_take_ten_thousand_jobs_exactly_once(inbox_db: str, service: Conn) -> None:
    job_kind = kind()
    service.execute(
        "select api.enqueue_job(%s, jsonb_build_object('n', n), 'n:' || n)"
        " from generate_series(1, 10000) n",
        (job_kind,),
    )
    claimed: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with psycopg.connect(inbox_db, autocommit=True) as conn:
                conn.execute("set role service_role")
                while batch := claim(conn, job_kind, batch=50, lease=300):
                    with conn.pipeline():
                        for job_id, token in batch:
                            conn.execute("select api.complete_job(%s, %s)", (job_id, token))
                    with lock:
                        claimed.extend(job_id for job_id, _ in batch)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    twice = [job for job, count in Counter(claimed).items() if count > 1]
    assert twice == []
    assert len(claimed) == 10_000
    done = service.execute(
        "select state, count(*) from api.jobs where kind = %s group by state", (job_kind,)
    ).fetchall()
    assert done == [("done", 10_000)]


def test_an_expired_lease_is_reclaimed_and_the_old_holder_is_refused(
    inbox_db: str, service: Conn
) -> None:
    job_kind = kind()
    service.execute("select api.enqueue_job(%s)", (job_kind,))
    [(job_id, first_token)] = claim(service, job_kind, lease=30)
    assert claim(service, job_kind) == []  # leased: nobody else gets it
    expire(inbox_db, job_id)
    [(again, second_token)] = claim(service, job_kind)
    assert again == job_id and second_token != first_token
    assert state(service, job_id)[:2] == ("running", 2)
    with pytest.raises(
        psycopg.errors.ObjectNotInPrerequisiteState, match="not leased with this token"
    ):
        service.execute("select api.complete_job(%s, %s)", (job_id, first_token))
    service.execute("select api.complete_job(%s, %s)", (job_id, second_token))
    assert state(service, job_id)[0] == "done"


def test_extend_keeps_the_lease(inbox_db: str, service: Conn) -> None:
    job_kind = kind()
    service.execute("select api.enqueue_job(%s)", (job_kind,))
    [(job_id, token)] = claim(service, job_kind, lease=1)
    row = service.execute(
        "select api.extend_job_lease(%s, %s, 600) > now() + interval '500 seconds'", (job_id, token)
    ).fetchone()
    assert row == (True,)
    assert claim(service, job_kind) == []


def test_failures_back_off_then_dead_letter(inbox_db: str, service: Conn) -> None:
    job_kind = kind()
    service.execute("select api.enqueue_job(%s, p_max_attempts => 2)", (job_kind,))
    [(job_id, token)] = claim(service, job_kind)
    row = service.execute(
        "select state, round(extract(epoch from visible_at - now()))"
        " from api.fail_job(%s, %s, 'smtp 451')",
        (job_id, token),
    ).fetchone()
    assert row == ("queued", 10)  # first retry after 10 s
    assert claim(service, job_kind) == []  # still backing off
    expire(inbox_db, job_id)
    [(_, token)] = claim(service, job_kind)
    service.execute("select api.fail_job(%s, %s, 'smtp 550')", (job_id, token))
    assert state(service, job_id) == ("dead", 2, "smtp 550")
    expire(inbox_db, job_id)
    assert claim(service, job_kind) == []  # dead letters are never claimed again


def test_a_lease_that_expires_on_the_last_attempt_is_dead_lettered(
    inbox_db: str, service: Conn
) -> None:
    job_kind = kind()
    service.execute("select api.enqueue_job(%s, p_max_attempts => 1)", (job_kind,))
    [(job_id, _)] = claim(service, job_kind)
    expire(inbox_db, job_id)
    assert claim(service, job_kind) == []
    assert state(service, job_id) == ("dead", 1, "lease expired on the last attempt")


def test_dedupe_keys_hold_under_concurrency(inbox_db: str, service: Conn) -> None:
    job_kind = kind()
    ids: list[int] = []
    barrier = threading.Barrier(8)

    def enqueue() -> None:
        with psycopg.connect(inbox_db, autocommit=True) as conn:
            conn.execute("set role service_role")
            barrier.wait()
            row = conn.execute(
                "select api.enqueue_job(%s, '{}', 'same-key')", (job_kind,)
            ).fetchone()
            assert row is not None
            ids.append(int(str(row[0])))

    threads = [threading.Thread(target=enqueue) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    count = service.execute("select count(*) from api.jobs where kind = %s", (job_kind,)).fetchone()
    assert count == (1,)


def test_one_doorbell_per_kind_per_statement(inbox_db: str, service: Conn) -> None:
    job_kind = kind()
    service.execute(
        "select api.enqueue_job(%s, p_dedupe_key => n::text) from generate_series(1, 50) n",
        (job_kind,),
    )
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        bells = conn.execute(
            "select event, private, payload ->> 'kind' from realtime.messages where topic = %s",
            (f"jobs:{job_kind}",),
        ).fetchall()
    # generate_series calls enqueue once per row, each its own insert statement: one bell each.
    assert bells == [("job_available", True, job_kind)] * 50
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        conn.execute(
            "insert into halo.jobs (kind) select %s from generate_series(1, 50)", (job_kind + "x",)
        )
        bells_for_one_statement = conn.execute(
            "select count(*) from realtime.messages where topic = %s", (f"jobs:{job_kind}x",)
        ).fetchone()
    assert bells_for_one_statement == (1,)


def test_an_outbound_email_enqueues_its_send_job_in_the_same_transaction(inbox_db: str) -> None:
    sql = "select id from api.append_message(%s, p_kind => 'email', p_body_text => 'On it')"
    with psycopg.connect(inbox_db) as conn:
        with conn.transaction(force_rollback=True):
            as_user(conn, "authenticated", claims(AGENT))
            row = conn.execute(sql, (OPEN_TICKET,)).fetchone()
            assert row is not None
            rolled_back = row[0]
        with conn.transaction():
            as_user(conn, "authenticated", claims(AGENT))
            row = conn.execute(sql, (OPEN_TICKET,)).fetchone()
            assert row is not None
            kept = row[0]
        jobs = conn.execute(
            "select payload ->> 'message_id', dedupe_key, workspace_id::text from halo.jobs"
            " where kind = 'email.send' and payload ->> 'message_id' in (%s, %s)",
            (str(rolled_back), str(kept)),
        ).fetchall()
    assert jobs == [(str(kept), f"message:{kept}", ACME)]


def test_claim_validates_its_arguments(service: Conn) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="p_batch must be between"):
        service.execute("select * from api.claim_jobs('x', 'w', 0)")


def complete_jobs(conn: Conn, entries: object) -> list[int]:
    row = conn.execute("select api.complete_jobs(%s::jsonb)", (json.dumps(entries),)).fetchone()
    assert row is not None
    return list(row[0])  # type: ignore[call-overload]


def test_complete_jobs_completes_held_leases_and_returns_the_lost_ones(
    inbox_db: str, service: Conn
) -> None:
    job_kind = kind()
    for _ in range(4):
        service.execute("select api.enqueue_job(%s)", (job_kind,))
    held = claim(service, job_kind, batch=4)
    (a, token_a), (b, token_b), (c, token_c), (d, _) = held
    expire(inbox_db, b)
    [(_, new_token_b)] = claim(service, job_kind)  # b's lease passed to another worker
    lost = complete_jobs(
        service,
        [
            {"id": a, "lease_token": str(token_a)},
            {"id": b, "lease_token": str(token_b)},  # the old holder's token
            {"id": c, "lease_token": str(token_c)},
            {"id": d, "lease_token": str(uuid.uuid4())},  # a token that never held it
            {"id": 0, "lease_token": str(uuid.uuid4())},  # no such job
        ],
    )
    assert lost == sorted([0, b, d])
    assert [state(service, job)[0] for job in (a, b, c, d)] == [
        "done",
        "running",
        "done",
        "running",
    ]
    # Completing again is a lost lease too (done jobs hold none), never a second completion.
    assert complete_jobs(service, [{"id": a, "lease_token": str(token_a)}]) == [a]
    assert complete_jobs(service, [{"id": b, "lease_token": str(new_token_b)}]) == []


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([], "p_jobs must be an array of 1 to 1000"),
        ({"id": 1}, "p_jobs must be an array of 1 to 1000"),
        ([{"id": 1}], 'needs a numeric "id" and a string "lease_token"'),
        ([{"id": "1", "lease_token": "x"}], 'needs a numeric "id" and a string "lease_token"'),
        ([{"id": 1, "lease_token": str(uuid.UUID(int=0))}] * 1001, "1 to 1000"),
    ],
)
def test_complete_jobs_refuses_bad_input_and_completes_nothing(
    inbox_db: str, service: Conn, entries: object, message: str
) -> None:
    job_kind = kind()
    service.execute("select api.enqueue_job(%s)", (job_kind,))
    [(job_id, token)] = claim(service, job_kind)
    batch = (
        [{"id": job_id, "lease_token": str(token)}, *entries]
        if isinstance(entries, list)
        else entries
    )
    if entries == []:
        batch = []
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        complete_jobs(service, batch)
    assert state(service, job_id)[0] == "running"
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        complete_jobs(
            service,
            [
                {"id": job_id, "lease_token": str(token)},
                {"id": job_id, "lease_token": "not-a-uuid"},
            ],
        )
    assert state(service, job_id)[0] == "running"


def test_claiming_and_completing_do_not_read_the_backlog(inbox_db: str) -> None:
    """With thousands of jobs queued, claiming four and completing them reads a handful of rows.
    A claim that sorted every due job, or a dead-letter sweep and complete_jobs that scanned
    them all, would read thousands. auto_explain reports the plans of the functions' own
    statements as notices."""
    with psycopg.connect(inbox_db, autocommit=True) as conn:
        conn.execute("set role service_role")
        conn.execute(
            "select set_config('request.jwt.claims', '{\"role\": \"service_role\"}', false)"
        )
        job_kind = kind()
        conn.execute("select api.enqueue_job(%s) from generate_series(1, 3000)", (job_kind,))
        claim(conn, job_kind, batch=4)
        conn.execute("reset role")
        plans = nested_plans(conn)
        conn.execute("set role service_role")
        held = claim(conn, job_kind, batch=4)
        entries = [{"id": i, "lease_token": str(t)} for i, t in held]
        assert complete_jobs(conn, entries) == []
    assert len(held) == 4
    assert len(plans) >= 4  # the sweep, the pick, the completion and the calls themselves
    assert max(rows_read(plan) for plan in plans) < 100
