"""The durable jobs queue (service role): enqueue, claim, settle, and the dead letters.

A lost lease surfaces as `APIError` code `55000` (`halo_supabase.jobs.JobQueue` turns it into
`LeaseLostError` for the runtime).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter

from halo_supabase.client.calls import ApiCalls
from halo_supabase.models import Job

__all__ = ["JobCalls"]

_TIMESTAMP = TypeAdapter(datetime)


class JobCalls(ApiCalls):
    """`api` functions of the durable jobs queue."""

    async def enqueue_job(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
        workspace_id: UUID | None = None,
        run_at: datetime | None = None,
        max_attempts: int | None = None,
    ) -> int:
        """Enqueue a job; a taken dedupe key returns the existing job's id."""
        return int(
            await self._call(
                "enqueue_job",
                kind=kind,
                payload=payload,
                dedupe_key=dedupe_key,
                workspace_id=workspace_id,
                run_at=run_at,
                max_attempts=max_attempts,
            )
        )

    async def claim_jobs(
        self, kind: str, worker: str, batch: int = 10, lease_seconds: int = 60
    ) -> list[Job]:
        """Lease up to `batch` runnable jobs of `kind` (new ones and expired leases)."""
        return await self._many(
            Job, "claim_jobs", kind=kind, worker=worker, batch=batch, lease_seconds=lease_seconds
        )

    async def complete_job(self, job_id: int, lease_token: UUID) -> None:
        await self._call("complete_job", job_id=job_id, lease_token=lease_token)

    async def complete_jobs(self, leases: list[tuple[int, UUID]]) -> list[int]:
        """Complete leased jobs in one call; returns the ids whose lease was lost."""
        entries = [{"id": job_id, "lease_token": token} for job_id, token in leases]
        return [int(job_id) for job_id in await self._call("complete_jobs", jobs=entries) or []]

    async def fail_job(
        self, job_id: int, lease_token: UUID, error: str, retry_in_seconds: int | None = None
    ) -> Job:
        """A failed attempt: retried after a backoff, or dead after the job's last attempt."""
        return await self._one(
            Job,
            "fail_job",
            job_id=job_id,
            lease_token=lease_token,
            error=error,
            retry_in_seconds=retry_in_seconds,
        )

    async def extend_job_lease(
        self, job_id: int, lease_token: UUID, lease_seconds: int = 60
    ) -> datetime:
        """Push the lease end `lease_seconds` from now; returns the new end."""
        expires = await self._call(
            "extend_job_lease", job_id=job_id, lease_token=lease_token, lease_seconds=lease_seconds
        )
        return _TIMESTAMP.validate_python(expires)

    async def release_job(self, job_id: int, lease_token: UUID) -> None:
        """Give a job back unrun: queued again at once, the attempt not counted."""
        await self._call("release_job", job_id=job_id, lease_token=lease_token)

    async def retry_job(self, job_id: int) -> Job:
        """Queue a dead letter again with fresh attempts."""
        return await self._one(Job, "retry_job", job_id=job_id)

    async def discard_job(self, job_id: int) -> None:
        """Delete a dead letter."""
        await self._call("discard_job", job_id=job_id)
