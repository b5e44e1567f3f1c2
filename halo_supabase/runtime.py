"""The generic worker runtime: doorbell, claim, lease, run, settle, shut down.

One :class:`Worker` serves one job kind. Its loop::

    claim up to min(batch, free slots) jobs  ──►  run each in its own task (≤ concurrency)
         ▲                                          │ lease extended every lease/3 seconds
         │                                          ▼
    wait: doorbell on `jobs:<kind>` │ a slot frees │ poll interval │ stop

The loop is :class:`halo_supabase.poll_loop.PollLoop`: the Realtime broadcast only wakes it, the
jobs table is the mailbox, a transient outage backs off. Every database call goes through the
typed client with the service key (:mod:`halo_supabase.jobs`).

Handlers are idempotent: delivery is at least once (a worker killed mid-job leaves a lease that
expires, and the job runs again). A handler raising :class:`RetryLater` chooses its retry delay;
any other exception is a failed attempt with the database's exponential backoff, dead-lettered
after the job's last attempt. On stop, running handlers get `shutdown_grace_seconds` to finish;
the rest are cancelled and their leases released without spending an attempt.

Logs carry stable `action` keys (`worker.started`, `job.done`, `job.failed`, ...), job ids and
kinds, and exception class names; never payloads, message bodies or addresses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from postgrest import APIError

from halo_supabase.client import HaloClient
from halo_supabase.errors import LeaseLostError
from halo_supabase.jobs import CompletionBatcher, JobQueue
from halo_supabase.models import Job
from halo_supabase.poll_loop import TRANSIENT_ERRORS, PollLoop, backoff

__all__ = ["Handler", "JobContext", "RetryLater", "Worker", "WorkerConfig", "unless_gone"]

T = TypeVar("T")
_NOT_FOUND = "P0002"

log = logging.getLogger("halo.worker")


@dataclass(frozen=True)
class WorkerConfig:
    """How one worker claims and runs its jobs."""

    name: str
    kind: str
    concurrency: int = 4
    batch: int = 10
    lease_seconds: int = 60
    poll_seconds: float = 2.0
    shutdown_grace_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.batch < 1 or self.lease_seconds < 3:
            raise ValueError("concurrency and batch must be ≥ 1 and lease_seconds ≥ 3")


async def unless_gone(call: Awaitable[T]) -> T | None:
    """The result of a job's API call, or None when the row the job was scheduled for has been
    deleted since (the API's P0002): a timed job for a gone ticket or conversation is done."""
    try:
        return await call
    except APIError as exc:
        if exc.code == _NOT_FOUND:
            return None
        raise


class RetryLater(Exception):
    """Raised by a handler to fail this attempt and run the job again after `seconds`."""

    def __init__(self, reason: str, seconds: int) -> None:
        super().__init__(reason)
        self.seconds = seconds


@dataclass
class JobContext:
    """What a handler gets besides its job: the queue (to enqueue follow-up work) and the client."""

    job: Job
    queue: JobQueue
    api: HaloClient
    worker: str


Handler = Callable[[JobContext], Awaitable[None]]


@dataclass
class _State:
    running: dict[int, asyncio.Task[None]] = field(default_factory=dict)


class Worker:
    """Runs `handler` for every job of `config.kind` until `stop` is set."""

    def __init__(self, config: WorkerConfig, handler: Handler, api: HaloClient) -> None:
        self.config = config
        self.handler = handler
        self.api = api
        self.worker_id = f"{config.name}@{socket.gethostname()}:{os.getpid()}"
        self._state = _State()
        self._loop = PollLoop(config.name, f"jobs:{config.kind}", config.poll_seconds)

    # -- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        queue = JobQueue(self.api)
        completions = CompletionBatcher(queue)  # one RPC per group of jobs that finish together

        async def claim() -> float | None:
            free = self.config.concurrency - len(self._state.running)
            if free <= 0:
                return None  # until a slot frees
            batch = min(self.config.batch, free)
            claimed = await queue.claim(
                self.config.kind, self.worker_id, batch, self.config.lease_seconds
            )
            for job in claimed:
                self._start(job, JobContext(job, queue, self.api, self.worker_id), completions)
            if claimed:
                log.debug("claimed", extra={"action": "jobs.claimed", "count": len(claimed)})
            return 0 if len(claimed) == batch else None  # a full batch: probably more, at once

        log.info(
            "worker started",
            extra={"action": "worker.started", "worker": self.worker_id, "kind": self.config.kind},
        )
        try:
            await self._loop.run(self.api.supabase, stop, claim)
        finally:
            await self._drain()
            log.info("worker stopped", extra={"action": "worker.stopped", "worker": self.worker_id})

    def _start(self, job: Job, context: JobContext, completions: CompletionBatcher) -> None:
        task = asyncio.create_task(self._run_job(context, completions))
        self._state.running[job.id] = task

        def finished(_: asyncio.Task[None]) -> None:
            self._state.running.pop(job.id, None)
            self._loop.wake()  # a slot is free

        task.add_done_callback(finished)

    async def _drain(self) -> None:
        """Stop: let running handlers finish within the grace period, then release the rest."""
        running = list(self._state.running.values())
        if not running:
            return
        log.info("draining", extra={"action": "worker.draining", "running": len(running)})
        _, pending = await asyncio.wait(running, timeout=self.config.shutdown_grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=10)

    # -- one job -------------------------------------------------------------------------------

    async def _run_job(self, context: JobContext, completions: CompletionBatcher) -> None:
        job, queue = context.job, context.queue
        started = time.monotonic()
        keeper = asyncio.create_task(self._keep_lease(queue, job))
        extra: dict[str, object] = {"job_id": job.id, "kind": job.kind, "attempt": job.attempts}
        try:
            await self.handler(context)
        except asyncio.CancelledError:
            keeper.cancel()
            # Shielded: the release must reach the database although this task is cancelled.
            await asyncio.shield(self._settle("release", lambda: queue.release(job), extra))
            raise
        except RetryLater as exc:
            keeper.cancel()
            log.info("retry later", extra={**extra, "action": "job.retry_later", "in": exc.seconds})
            reason, seconds = str(exc), exc.seconds
            await self._settle("fail", lambda: queue.fail(job, reason, seconds), extra)
        except Exception as exc:
            keeper.cancel()
            log.warning(
                "job failed",
                extra={**extra, "action": "job.failed", "error": type(exc).__name__},
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            # The stored error names the exception class and its message, cut short: messages
            # of our own exceptions never carry bodies or addresses.
            error = f"{type(exc).__name__}: {exc}"[:500]
            await self._settle("fail", lambda: queue.fail(job, error), extra)
        else:
            keeper.cancel()
            await self._settle("complete", lambda: completions.complete(job), extra)
            log.info(
                "job done",
                extra={
                    **extra,
                    "action": "job.done",
                    "ms": round((time.monotonic() - started) * 1000, 1),
                },
            )

    async def _settle(
        self, verb: str, call: Callable[[], Awaitable[object]], extra: dict[str, object]
    ) -> None:
        """Record the outcome; retried through a gateway outage until the lease would end
        anyway (then the job runs again elsewhere, which idempotent handlers allow)."""
        deadline = time.monotonic() + self.config.lease_seconds
        attempt = 0
        while True:
            try:
                await call()
                return
            except LeaseLostError:
                log.warning("lease lost", extra={**extra, "action": "job.lease_lost"})
                return
            except TRANSIENT_ERRORS as exc:
                attempt += 1
                if time.monotonic() > deadline:
                    log.warning(
                        "outcome not recorded; the lease will expire",
                        extra={**extra, "action": f"job.{verb}_unrecorded"},
                    )
                    return
                log.info(
                    "outcome not recorded yet",
                    extra={**extra, "action": "job.settle_retry", "error": type(exc).__name__},
                )
                await asyncio.sleep(backoff(attempt))

    async def _keep_lease(self, queue: JobQueue, job: Job) -> None:
        """Extend the lease every third of its length while the handler runs."""
        interval = self.config.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await queue.extend(job, self.config.lease_seconds)
            except LeaseLostError:
                log.warning("lease lost", extra={"action": "job.lease_lost", "job_id": job.id})
                return
            except TRANSIENT_ERRORS as exc:
                log.info(
                    "lease not extended",
                    extra={
                        "action": "job.extend_failed",
                        "job_id": job.id,
                        "error": type(exc).__name__,
                    },
                )
