"""Runs registered workers in one process until SIGTERM or SIGINT (`halo worker NAME|all`).

Each worker gets its own supabase-py async client built from the settings with the service role
key: workers never see a database URL. The first signal asks every worker to stop gracefully
(finish or release); a second one exits at once, leaving leases to expire.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from halo_supabase.runtime import ClientFactory, Handler, Worker, WorkerConfig
from halo_supabase.settings import Settings
from supabase import AsyncClient, AsyncClientOptions, acreate_client

__all__ = [
    "ClientFactory",
    "LoopDefinition",
    "WorkerDefinition",
    "run_workers",
    "service_client",
    "worker_config",
]

log = logging.getLogger("halo.worker")


class WorkerLoop(Protocol):
    """A worker with a loop of its own instead of the job runtime's (e.g. batch scoring)."""

    async def run(self, connect: ClientFactory, stop: asyncio.Event) -> None: ...


@dataclass(frozen=True)
class LoopDefinition:
    """A worker built from the settings at start, running its own loop."""

    name: str
    build: Callable[[Settings], WorkerLoop]


WorkerDefinition = tuple[str, str, Handler] | LoopDefinition
"""(name, job kind, handler) of a job-runtime worker, or a LoopDefinition; `workers/` lists them."""


async def service_client(settings: Settings) -> AsyncClient:
    """A supabase-py async client with the service role key (server side only)."""
    return await acreate_client(
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

    async def connect() -> AsyncClient:
        return await service_client(settings)

    runs = []
    for definition in definitions:
        if isinstance(definition, LoopDefinition):
            runs.append(definition.build(settings).run(connect, stop))
        else:
            name, kind, handler = definition
            runs.append(Worker(worker_config(settings, name, kind), handler, connect).run(stop))
    await asyncio.gather(*runs)
