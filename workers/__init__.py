"""The workers `halo worker NAME|all` runs: one small module per worker, each a job kind and an
idempotent handler on the generic runtime (`halo_supabase.runtime`)."""

from __future__ import annotations

from halo_supabase.worker_host import LoopDefinition, WorkerDefinition
from workers import email_ack, email_inbound, email_send, escalation
from workers.sentiment import SentimentWorker

__all__ = ["REGISTRY"]

REGISTRY: dict[str, WorkerDefinition] = {
    "email-inbound": ("email-inbound", email_inbound.KIND, email_inbound.handle),
    "email-send": ("email-send", email_send.KIND, email_send.handle),
    "email-ack": ("email-ack", email_ack.KIND, email_ack.handle),
    "escalation": ("escalation", escalation.KIND, escalation.handle),
    "sentiment": LoopDefinition("sentiment", SentimentWorker.from_settings),
}
