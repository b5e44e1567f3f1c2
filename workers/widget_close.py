"""`conversation.widget_closed`: a closed chat widget completes its conversation.

`api.set_widget_open(…, false)` on a live conversation enqueues this job, due after the grace
period (`halo.widget_close_grace()`, 60 s). The handler calls `api.complete_closed_conversation`
with the conversation and the time the widget closed: the conversation completes (end reason
`closed`, outcome resolved, or escalated when it has a ticket) if the widget has stayed closed
and nothing happened for the grace period; after a message or user activity the database
enqueues the check again; after a reopen the job does nothing
([decision 0024](../docs/decisions/0024-closing-the-widget-completes-the-conversation.md)).
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from halo_supabase.runtime import JobContext, unless_gone
from halo_supabase.worker_host import WorkerDefinition, job_worker

__all__ = ["DEFINITION", "KIND", "complete_if_still_closed"]

KIND = "conversation.widget_closed"
log = logging.getLogger("halo.worker.widget_close")


async def complete_if_still_closed(context: JobContext) -> None:
    """Complete the job's conversation if its widget stayed closed and quiet for the grace period."""
    payload = context.job.payload
    conversation_id = UUID(str(payload["conversation_id"]))
    closed_at = datetime.fromisoformat(str(payload["closed_at"]))
    conversation = await unless_gone(
        context.api.complete_closed_conversation(conversation_id, closed_at)
    )
    if conversation is None:
        return
    log.info(
        "closed widget checked",
        extra={
            "action": "conversation.widget_closed.checked",
            "job_id": context.job.id,
            "conversation_id": str(conversation_id),
            "state": conversation.state,
        },
    )


DEFINITION: WorkerDefinition = job_worker(
    "widget-close", KIND, lambda _resources, _api: complete_if_still_closed
)
