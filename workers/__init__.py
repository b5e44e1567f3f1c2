"""The workers `halo worker NAME|all` runs: one small module per worker, each built once by the
host (`halo_supabase.worker_host`) with the settings, AI provider and mail sender it needs."""

from __future__ import annotations

from halo_supabase.worker_host import WorkerDefinition
from workers import (
    email_ack,
    email_inbound,
    email_send,
    escalation,
    sentiment,
    ticket_wake,
    widget_close,
)

__all__ = ["REGISTRY"]

REGISTRY: dict[str, WorkerDefinition] = {
    definition.name: definition
    for definition in (
        email_inbound.DEFINITION,
        email_send.DEFINITION,
        email_ack.DEFINITION,
        escalation.DEFINITION,
        sentiment.DEFINITION,
        ticket_wake.DEFINITION,
        widget_close.DEFINITION,
    )
}
