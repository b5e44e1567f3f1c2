"""Runs registered workers in one process until SIGTERM or SIGINT (`halo worker NAME|all`).

The host reads the settings once and builds what workers share (:class:`WorkerResources`: the
AI provider, the mail sender); each worker is then built once with those and its own typed
client with the service role key (workers never see a database URL). Handlers get everything
through their worker: none reads settings or keeps module-level state. The first signal asks
every worker to stop gracefully (finish or release); a second one exits at once, leaving leases
to expire.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from halo_supabase.ai import AIProvider, provider_from_settings
from halo_supabase.client import HaloClient
from halo_supabase.mail_senders import MailSender, sender_from_settings
from halo_supabase.runtime import Handler, Worker, WorkerConfig
from halo_supabase.settings import Settings
from supabase import AsyncClientOptions

__all__ = [
    "WorkerDefinition",
    "WorkerLoop",
    "WorkerResources",
    "job_worker",
    "run_workers",
    "service_client",
    "worker_config",
]

log = logging.getLogger("halo.worker")


class WorkerLoop(Protocol):
    """A built worker: runs until `stop` is set, then drains."""

    async def run(self, stop: asyncio.Event) -> None: ...


@dataclass(frozen=True)
class WorkerResources:
    """What the workers of one process share, built once from the settings."""

    settings: Settings
    provider: AIProvider
    sender: MailSender

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerResources:
        return cls(settings, provider_from_settings(settings), sender_from_settings(settings))


@dataclass(frozen=True)
class WorkerDefinition:
    """A worker `workers/` registers: how to build it from the shared resources and a client."""

    name: str
    build: Callable[[WorkerResources, HaloClient], WorkerLoop]


def job_worker(
    name: str,
    kind: str,
    handler: Callable[[WorkerResources, HaloClient], Handler],
    max_poll_seconds: float | None = None,
) -> WorkerDefinition:
    """A worker on the job runtime: `handler` builds the job handler from the resources and the
    worker's client. `max_poll_seconds` caps the poll interval for a kind whose jobs become due
    at a set time, which rings no doorbell (the doorbell rang when they were inserted)."""

    def build(resources: WorkerResources, api: HaloClient) -> WorkerLoop:
        config = worker_config(resources.settings, name, kind)
        if max_poll_seconds is not None:
            config = replace(config, poll_seconds=min(config.poll_seconds, max_poll_seconds))
        return Worker(config, handler(resources, api), api)

    return WorkerDefinition(name, build)


async def service_client(settings: Settings) -> HaloClient:
    """The typed client with the service role key (server side only)."""
    return await HaloClient.connect(
        settings.url,
        settings.service_role_key,
        # The runtime resubscribes by itself, so realtime-py's own reconnect gives up early
        # instead of backing off for minutes.
        AsyncClientOptions(realtime={"max_retries": 3, "initial_backoff": 0.5}),
    )


def worker_config(settings: Settings, name: str, kind: str) -> WorkerConfig:
    return WorkerConfig(
        name=name,
        kind=kind,
        concurrency=settings.worker_concurrency,
        batch=settings.worker_batch,
        lease_seconds=settings.worker_lease_seconds,
        poll_seconds=settings.worker_poll_seconds,
        shutdown_grace_seconds=settings.worker_shutdown_grace_seconds,
    )


async def run_workers(settings: Settings, definitions: Sequence[WorkerDefinition]) -> None:
    """Run the workers until a signal; returns after each has drained."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def request_stop() -> None:
        if stop.is_set():
            raise SystemExit(1)
        log.info("stop requested", extra={"action": "worker.stop_requested"})
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop)

    resources = WorkerResources.from_settings(settings)
    workers = [
        definition.build(resources, await service_client(settings)) for definition in definitions
    ]
    await asyncio.gather(*(worker.run(stop) for worker in workers))
