"""The durable jobs queue as the worker runtime uses it: claim, complete, fail, extend, release.

:class:`CompletionBatcher` records the completions of jobs that finish at about the same time in
one RPC (`api.complete_jobs`), as a database does a group commit.

Workers never open a database connection; every call here goes through the typed client
(`halo_supabase.client`) with the service role key (jobs are invisible to every other role). A
lost lease (SQLSTATE 55000 from complete/fail/extend/release) becomes :class:`LeaseLostError`,
so the runtime can drop a result that another worker now owns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from postgrest import APIError

from halo_supabase.client import HaloClient
from halo_supabase.errors import JobError, LeaseLostError
from halo_supabase.grouped_calls import GroupedCall
from halo_supabase.limits import JOB_BATCH_MAX
from halo_supabase.models import Job, JobState

__all__ = ["CompletionBatcher", "JobQueue"]

_LEASE_LOST = "55000"  # also: not a dead letter
_NO_SUCH_JOB = "P0002"
T = TypeVar("T")


class JobQueue:
    """The jobs of one Halo project, as service_role, with lost leases as `LeaseLostError`."""

    def __init__(self, api: HaloClient) -> None:
        self.api = api

    async def _leased(self, job: Job, call: Callable[[UUID], Awaitable[T]]) -> T:
        if job.lease_token is None:
            raise LeaseLostError(job.id)
        try:
            return await call(job.lease_token)
        except APIError as exc:
            if exc.code == _LEASE_LOST:
                raise LeaseLostError(job.id) from None
            raise

    async def enqueue(
        self,
        kind: str,
        payload: dict[str, object] | None = None,
        dedupe_key: str | None = None,
        workspace_id: UUID | None = None,
        max_attempts: int | None = None,
    ) -> int:
        """Enqueue a job (a no-op returning the existing id when the dedupe key is taken)."""
        return await self.api.enqueue_job(
            kind,
            payload or {},
            dedupe_key=dedupe_key,
            workspace_id=workspace_id,
            max_attempts=max_attempts,
        )

    async def claim(self, kind: str, worker: str, batch: int, lease_seconds: int) -> list[Job]:
        """Lease up to `batch` runnable jobs of `kind` (new ones and expired leases)."""
        return await self.api.claim_jobs(kind, worker, batch, lease_seconds)

    async def complete(self, job: Job) -> None:
        await self._leased(job, lambda lease: self.api.complete_job(job.id, lease))

    async def complete_many(self, jobs: Sequence[Job]) -> set[int]:
        """Complete leased jobs in one call; returns the ids whose lease was lost (not completed)."""
        held = [(job.id, job.lease_token) for job in jobs if job.lease_token is not None]
        lost = {job.id for job in jobs if job.lease_token is None}
        if held:
            lost.update(await self.api.complete_jobs(held))
        return lost

    async def fail(self, job: Job, error: str, retry_in_seconds: int | None = None) -> Job:
        """Record a failed attempt: retried after a backoff, or dead after the last attempt."""
        return await self._leased(
            job, lambda lease: self.api.fail_job(job.id, lease, error, retry_in_seconds)
        )

    async def extend(self, job: Job, lease_seconds: int) -> datetime:
        """Push the lease end `lease_seconds` from now; returns the new end."""
        return await self._leased(
            job, lambda lease: self.api.extend_job_lease(job.id, lease, lease_seconds)
        )

    async def release(self, job: Job) -> None:
        """Give the job back unrun (shutdown): queued again at once, the attempt not counted."""
        await self._leased(job, lambda lease: self.api.release_job(job.id, lease))

    # -- dead letters (`halo jobs`) ------------------------------------------------------------

    async def list(
        self, state: JobState | None = None, kind: str | None = None, limit: int = 50
    ) -> list[Job]:
        """Jobs, newest first, optionally of one state and kind."""
        given: dict[str, Any] = {"state": state, "kind": kind}
        filters = {column: value for column, value in given.items() if value is not None}
        return await self.api.jobs(limit=limit, order_by="id", descending=True, **filters)

    async def retry(self, job_id: int) -> Job:
        """Queue a dead letter again with fresh attempts."""
        return await self._dead_letter(job_id, self.api.retry_job(job_id))

    async def discard(self, job_id: int) -> None:
        """Delete a dead letter."""
        await self._dead_letter(job_id, self.api.discard_job(job_id))

    async def _dead_letter(self, job_id: int, call: Awaitable[T]) -> T:
        try:
            return await call
        except APIError as exc:
            # The database names the problem: no such job (P0002) or its state (55000).
            if exc.code in (_NO_SUCH_JOB, _LEASE_LOST):
                raise JobError(
                    f"{exc.message}; {exc.hint}" if exc.hint else str(exc.message)
                ) from None
            raise


class CompletionBatcher:
    """Completes jobs in groups (:class:`GroupedCall`): every job that finishes while a
    completion call is in flight waits for the next call, which completes them all (at most
    `MAX_BATCH` a call). :meth:`complete` returns once the job's completion is recorded, raises
    :class:`LeaseLostError` when its lease was lost, and raises the call's error (the gateway
    unreachable, ...) to every job of a failed call, which may retry.
    """

    MAX_BATCH = JOB_BATCH_MAX

    def __init__(self, queue: JobQueue) -> None:
        self._queue = queue
        self._group: GroupedCall[Job, None] = GroupedCall(self._send, self.MAX_BATCH)

    async def complete(self, job: Job) -> None:
        await self._group(job)

    async def _send(self, jobs: list[Job]) -> list[LeaseLostError | None]:
        lost = await self._queue.complete_many(jobs)
        return [LeaseLostError(job.id) if job.id in lost else None for job in jobs]
