"""`ticket.wake`: a snoozed ticket wakes when its snooze ends.

Snoozing a ticket (or moving its snooze) enqueues a `ticket.wake` job that becomes visible at
`snoozed_until` (`supabase/schemas/snooze.sql`); the handler calls `api.wake_ticket` with the
ticket and the time it was snoozed until, so a job of a snooze that was moved, ended early or
ended by a customer reply finds nothing to do. Waking emits `ticket.woken` (reason `timer`).

A job becomes due without a doorbell (the doorbell rings when it is inserted, before it is due),
so this worker polls at most every `WAKE_PRECISION_SECONDS`: a ticket wakes within about that of
its time ([decision 0022](../docs/decisions/0022-snooze-timer-precision.md)).
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from halo_supabase.runtime import JobContext, unless_gone
from halo_supabase.worker_host import WorkerDefinition, job_worker

__all__ = ["DEFINITION", "KIND", "WAKE_PRECISION_SECONDS", "wake"]

KIND = "ticket.wake"
WAKE_PRECISION_SECONDS = 0.5
log = logging.getLogger("halo.worker.ticket_wake")


async def wake(context: JobContext) -> None:
    """Wake the job's ticket if it is still snoozed until the job's time and that time has come."""
    payload = context.job.payload
    ticket_id = UUID(str(payload["ticket_id"]))
    snoozed_until = datetime.fromisoformat(str(payload["snoozed_until"]))
    ticket = await unless_gone(context.api.wake_ticket(ticket_id, snoozed_until))
    if ticket is None:
        return
    log.info(
        "wake-up checked",
        extra={
            "action": "ticket.wake.checked",
            "job_id": context.job.id,
            "ticket_id": str(ticket_id),
            "status": ticket.status,
        },
    )


DEFINITION: WorkerDefinition = job_worker(
    "ticket-wake", KIND, lambda _shared, _api: wake, max_poll_seconds=WAKE_PRECISION_SECONDS
)
