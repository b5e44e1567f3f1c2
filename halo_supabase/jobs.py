"""The durable jobs API over supabase-py's async client: claim, complete, fail, extend, release.

:class:`CompletionBatcher` records the completions of jobs that finish at about the same time in
one RPC (`api.complete_jobs`), as a database does a group commit.

Workers never open a database connection; every call here is a PostgREST RPC on the `api`
schema made with the service role key (jobs are invisible to every other role). A lost lease
(SQLSTATE 55000 from complete/fail/extend/release) becomes :class:`LeaseLostError`, so the
runtime can drop a result that another worker now owns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from postgrest import APIError, AsyncPostgrestClient
from pydantic import TypeAdapter

from halo_supabase.errors import JobError, LeaseLostError
from halo_supabase.grouped_calls import GroupedCall
from halo_supabase.limits import JOB_BATCH_MAX
from halo_supabase.models import Job, JobState
from supabase import AsyncClient

__all__ = ["CompletionBatcher", "JobQueue"]

_LEASE_LOST = "55000"
_TIMESTAMP = TypeAdapter(datetime)


class JobQueue:
    """The jobs of one Halo project, as service_role."""

    def __init__(self, client: AsyncClient) -> None:
        self._api: AsyncPostgrestClient = client.schema("api")

    async def _rpc(self, function: str, **arguments: object) -> Any:
        params = {
            f"p_{name}": str(value) if isinstance(value, UUID) else value
            for name, value in arguments.items()
            if value is not None
        }
        # postgrest-py annotates params as dict[str, str] but sends any JSON body unchanged.
        response = await self._api.rpc(function, cast("dict[str, str]", params)).execute()
        return response.data

    async def _leased(self, job: Job, function: str, **arguments: object) -> Any:
        if job.lease_token is None:
            raise LeaseLostError(job.id)
        try:
            return await self._rpc(
                function, job_id=job.id, lease_token=job.lease_token, **arguments
            )
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
        return int(
            await self._rpc(
                "enqueue_job",
                kind=kind,
                payload=payload or {},
                dedupe_key=dedupe_key,
                workspace_id=workspace_id,
                max_attempts=max_attempts,
            )
        )

    async def claim(self, kind: str, worker: str, batch: int, lease_seconds: int) -> list[Job]:
        """Lease up to `batch` runnable jobs of `kind` (new ones and expired leases)."""
        rows = await self._rpc(
            "claim_jobs", kind=kind, worker=worker, batch=batch, lease_seconds=lease_seconds
        )
        return [Job.model_validate(row) for row in rows or []]

    async def complete(self, job: Job) -> None:
        await self._leased(job, "complete_job")

    async def complete_many(self, jobs: Sequence[Job]) -> set[int]:
        """Complete leased jobs in one call; returns the ids whose lease was lost (not completed)."""
        held = [
            {"id": job.id, "lease_token": str(job.lease_token)}
            for job in jobs
            if job.lease_token is not None
        ]
        lost = {job.id for job in jobs if job.lease_token is None}
        if held:
            lost.update(int(i) for i in await self._rpc("complete_jobs", jobs=held) or [])
        return lost

    async def fail(self, job: Job, error: str, retry_in_seconds: int | None = None) -> Job:
        """Record a failed attempt: retried after a backoff, or dead after the last attempt."""
        row = await self._leased(job, "fail_job", error=error, retry_in_seconds=retry_in_seconds)
        return Job.model_validate(row)

    async def extend(self, job: Job, lease_seconds: int) -> datetime:
        """Push the lease end `lease_seconds` from now; returns the new end."""
        return _TIMESTAMP.validate_python(
            await self._leased(job, "extend_job_lease", lease_seconds=lease_seconds)
        )

    async def release(self, job: Job) -> None:
        """Give the job back unrun (shutdown): queued again at once, the attempt not counted."""
        await self._leased(job, "release_job")

    # -- dead letters (`halo jobs`) ------------------------------------------------------------

    async def list(
        self, state: JobState | None = None, kind: str | None = None, limit: int = 50
    ) -> list[Job]:
        """Jobs, newest first, optionally of one state and kind."""
        query = self._api.from_(Job.VIEW).select("*")
        if state is not None:
            query = query.eq("state", state)
        if kind is not None:
            query = query.eq("kind", kind)
        response = await query.order("id", desc=True).limit(limit).execute()
        return [Job.model_validate(row) for row in response.data]

    async def retry(self, job_id: int) -> Job:
        """Queue a dead letter again with fresh attempts."""
        return Job.model_validate(await self._admin("retry_job", job_id))

    async def discard(self, job_id: int) -> None:
        """Delete a dead letter."""
        await self._admin("discard_job", job_id)

    async def _admin(self, function: str, job_id: int) -> Any:
        try:
            return await self._rpc(function, job_id=job_id)
        except APIError as exc:
            if exc.code == _LEASE_LOST:
                raise JobError(
                    f"job {job_id} is not a dead letter (see `halo jobs list`)"
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
