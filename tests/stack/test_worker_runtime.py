"""The worker runtime against the real gateway: doorbell, poll, retries and dead letters, lease
extension, graceful stop, and recovery from a gateway restart.

Each test uses its own job kind, so tests sharing the session's database never see each other's
jobs. Workers poll rarely here (30 s) where a test proves that the doorbell, not the poll, woke
them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import psycopg
import pytest

from halo_supabase.client import HaloClient
from halo_supabase.jobs import CompletionBatcher, JobQueue
from halo_supabase.runtime import JobContext, RetryLater, Worker, WorkerConfig
from supabase import AsyncClientOptions
from tests.stack.conftest import Stack
from tests.stack.test_realtime_restart import GatewayRun

pytestmark = pytest.mark.asyncio(loop_scope="session")


def kind() -> str:
    return f"test.{uuid.uuid4().hex[:12]}"


async def service_api(url: str, key: str) -> HaloClient:
    return await HaloClient.connect(
        url, key, AsyncClientOptions(realtime={"max_retries": 2, "initial_backoff": 0.2})
    )


@asynccontextmanager
async def running(
    stack_url: str, key: str, config: WorkerConfig, handler: Callable[[JobContext], object]
) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    worker = Worker(config, handler, await service_api(stack_url, key))  # type: ignore[arg-type]
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.8)  # the doorbell subscription is up (the tests below rely on it)
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def queue_for(stack: Stack) -> JobQueue:
    return JobQueue(await HaloClient.connect(stack.url, stack.service_role_key))


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


def job_row(db_url: str, job_id: int) -> tuple[str, int, str | None]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select state::text, attempts, last_error from halo.jobs where id = %s", (job_id,)
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


async def test_the_doorbell_wakes_a_worker_long_before_its_poll(stack: Stack) -> None:
    job_kind = kind()
    ran: list[tuple[int, float]] = []

    async def handle(context: JobContext) -> None:
        ran.append((context.job.id, time.monotonic()))

    config = WorkerConfig("t", job_kind, poll_seconds=30)
    queue = await queue_for(stack)
    async with running(stack.url, stack.service_role_key, config, handle):
        enqueued = time.monotonic()
        job_id = await queue.enqueue(job_kind, {"n": 1})
        await wait_for(lambda: len(ran) == 1, timeout=5)
        assert ran[0][0] == job_id
        assert ran[0][1] - enqueued < 2.0
        await wait_for(lambda: job_row(stack.db_url, job_id)[0] == "done")


async def test_the_poll_finds_work_enqueued_while_no_worker_ran(stack: Stack) -> None:
    job_kind = kind()
    queue = await queue_for(stack)
    ids = [await queue.enqueue(job_kind, {"n": n}) for n in range(25)]
    seen: list[int] = []

    async def handle(context: JobContext) -> None:
        seen.append(context.job.id)

    config = WorkerConfig("t", job_kind, batch=10, concurrency=4, poll_seconds=0.5)
    async with running(stack.url, stack.service_role_key, config, handle):
        await wait_for(lambda: len(seen) >= 25)
        await wait_for(lambda: all(job_row(stack.db_url, i)[0] == "done" for i in ids))
    assert sorted(seen) == sorted(ids)  # each exactly once


async def test_concurrency_is_bounded(stack: Stack) -> None:
    job_kind = kind()
    queue = await queue_for(stack)
    for n in range(12):
        await queue.enqueue(job_kind, {"n": n})
    active = 0
    peak = 0
    done = 0

    async def handle(context: JobContext) -> None:
        nonlocal active, peak, done
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.15)
        active -= 1
        done += 1

    config = WorkerConfig("t", job_kind, batch=10, concurrency=3, poll_seconds=0.5)
    async with running(stack.url, stack.service_role_key, config, handle):
        await wait_for(lambda: done == 12)
    assert peak == 3


async def test_failures_back_off_then_dead_letter_and_can_be_retried_or_discarded(
    stack: Stack,
) -> None:
    job_kind = kind()
    queue = await queue_for(stack)
    attempts: list[int] = []
    healthy = False

    async def handle(context: JobContext) -> None:
        attempts.append(context.job.attempts)
        if not healthy:
            # RetryLater(0) keeps the test fast; a plain exception uses the database backoff.
            raise RetryLater("smtp 451 try again", 0) if len(attempts) < 2 else ValueError("bad")

    first = await queue.enqueue(job_kind, {}, max_attempts=3)
    config = WorkerConfig("t", job_kind, poll_seconds=0.3)
    async with running(stack.url, stack.service_role_key, config, handle):
        await wait_for(lambda: len(attempts) == 2)
        state, count, error = job_row(stack.db_url, first)
        # The third attempt waits for the database backoff (10 s · 2^1): nudge it to now.
        with psycopg.connect(stack.db_url) as conn:
            conn.execute("update halo.jobs set visible_at = now() where id = %s", (first,))
        await wait_for(lambda: job_row(stack.db_url, first)[0] == "dead")
        assert attempts == [1, 2, 3]
        assert (state, count) == ("queued", 2)
        assert error == "ValueError: bad"

        dead = await queue.list(state="dead", kind=job_kind)
        assert [job.id for job in dead] == [first]

        healthy = True
        retried = await queue.retry(first)
        assert (retried.state, retried.attempts) == ("queued", 0)
        await wait_for(lambda: job_row(stack.db_url, first)[0] == "done")

    second = await queue.enqueue(job_kind, {}, dedupe_key="d", max_attempts=1)
    with psycopg.connect(stack.db_url) as conn:
        conn.execute(
            "update halo.jobs set state = 'dead', finished_at = now() where id = %s", (second,)
        )
    await queue.discard(second)
    assert await queue.list(kind=job_kind, state="dead") == []
    # The dedupe key went with it: the same work can be enqueued again.
    assert await queue.enqueue(job_kind, {}, dedupe_key="d") != second


async def test_retry_and_discard_refuse_jobs_that_are_not_dead(stack: Stack) -> None:
    from halo_supabase.errors import JobError

    queue = await queue_for(stack)
    job_id = await queue.enqueue(kind(), {})
    with pytest.raises(JobError, match="not a dead letter"):
        await queue.retry(job_id)
    with pytest.raises(JobError, match="not a dead letter"):
        await queue.discard(job_id)


async def test_a_long_job_keeps_its_lease(stack: Stack) -> None:
    job_kind = kind()
    queue = await queue_for(stack)
    job_id = await queue.enqueue(job_kind, {})
    runs = 0

    async def slow(context: JobContext) -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(4.5)  # 1.5 leases

    config = WorkerConfig("a", job_kind, lease_seconds=3, poll_seconds=0.3)
    rival_config = WorkerConfig("b", job_kind, lease_seconds=3, poll_seconds=0.3)
    async with (
        running(stack.url, stack.service_role_key, config, slow),
        running(stack.url, stack.service_role_key, rival_config, slow),
    ):
        await wait_for(lambda: job_row(stack.db_url, job_id)[0] == "done", timeout=15)
    assert runs == 1
    assert job_row(stack.db_url, job_id)[1] == 1


async def test_stop_releases_unfinished_jobs_without_spending_an_attempt(stack: Stack) -> None:
    job_kind = kind()
    queue = await queue_for(stack)
    quick, stuck = await queue.enqueue(job_kind, {"q": 1}), await queue.enqueue(job_kind, {"q": 0})
    started: list[int] = []

    async def handle(context: JobContext) -> None:
        started.append(context.job.id)
        if context.job.payload["q"] == 0:
            await asyncio.sleep(3600)
        await asyncio.sleep(0.3)

    config = WorkerConfig("t", job_kind, poll_seconds=0.3, shutdown_grace_seconds=1.0)
    async with running(stack.url, stack.service_role_key, config, handle) as stop:
        await wait_for(lambda: len(started) == 2)
        stop.set()  # the quick job finishes within the grace period; the stuck one is released
    assert job_row(stack.db_url, quick)[0] == "done"
    assert job_row(stack.db_url, stuck)[:2] == ("queued", 0)


async def test_a_worker_survives_a_gateway_restart(stack: Stack) -> None:
    gateway = GatewayRun(stack)
    gateway.start()
    job_kind = kind()
    seen: list[int] = []

    async def handle(context: JobContext) -> None:
        seen.append(context.job.id)

    config = WorkerConfig("t", job_kind, poll_seconds=0.5)
    try:
        async with running(gateway.url, stack.service_role_key, config, handle):
            gateway.stop()
            await asyncio.sleep(1.5)  # claims fail meanwhile; the worker backs off and retries
            with psycopg.connect(stack.db_url) as conn:
                row = conn.execute("select halo.enqueue_job(%s)", (job_kind,)).fetchone()
            assert row is not None
            gateway.start()
            await wait_for(lambda: seen == [row[0]], timeout=15)
            await wait_for(lambda: job_row(stack.db_url, row[0])[0] == "done")
    finally:
        with contextlib.suppress(Exception):
            gateway.stop()


async def test_jobs_finishing_together_are_completed_in_one_call(stack: Stack) -> None:
    queue = await queue_for(stack)
    job_kind = kind()
    for _ in range(12):
        await queue.enqueue(job_kind)
    jobs = await queue.claim(job_kind, "batch-test", 12, 60)
    assert len(jobs) == 12
    stolen = jobs[5]
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute(
            "update halo.jobs set lease_token = gen_random_uuid() where id = %s", (stolen.id,)
        )
    batcher = CompletionBatcher(queue)
    outcomes = await asyncio.gather(
        *(batcher.complete(job) for job in jobs), return_exceptions=True
    )
    assert [type(o).__name__ for o in outcomes] == [
        "LeaseLostError" if job is stolen else "NoneType" for job in jobs
    ]
    with psycopg.connect(stack.db_url) as conn:
        rows = conn.execute(
            "select state::text, finished_at from halo.jobs where id = any(%s) and id <> %s",
            ([job.id for job in jobs], stolen.id),
        ).fetchall()
    assert {row[0] for row in rows} == {"done"}
    # One transaction per call (its now() is every row's finished_at): the twelve finished in
    # the same loop turn, so one call completed them all.
    assert len({row[1] for row in rows}) == 1


@pytest.mark.parametrize(("pause", "cut_short"), [(0.6, True), ("gather", False)])
async def test_a_wake_cuts_a_wait_short_but_not_a_gather(
    stack: Stack, pause: object, cut_short: bool
) -> None:
    """A gather holds the next step back however often the doorbell rings, so a steady stream is
    claimed in batches; a plain wait (a held update falling due) ends at the first wake."""
    from halo_supabase.poll_loop import Gather, PollLoop

    loop = PollLoop("gather-test", f"jobs:{kind()}", poll_seconds=30)
    steps: list[float] = []
    stop = asyncio.Event()

    async def step() -> float | Gather | None:
        steps.append(time.monotonic())
        if len(steps) == 1:
            return Gather(0.6) if pause == "gather" else 0.6
        stop.set()
        return None

    api = await service_api(stack.url, stack.service_role_key)
    task = asyncio.create_task(loop.run(api.supabase, stop, step))
    await wait_for(lambda: len(steps) >= 1)
    loop.wake()  # as the doorbell does (it also rings once when its subscription is up)
    await asyncio.wait_for(task, timeout=10)
    gap = steps[1] - steps[0]
    assert (gap < 0.4) if cut_short else (gap >= 0.6), gap
