"""Idle function workers are stopped, busy ones never (FunctionsService without a gateway)."""

from __future__ import annotations

from halo_supabase.local.gateway.app import GatewayContext
from halo_supabase.local.gateway.credentials import TokenService
from halo_supabase.local.gateway.db import GatewayDatabase
from halo_supabase.local.gateway.functions import FunctionsService
from halo_supabase.settings import load_settings
from tests.conftest import REPO, scratch_dir
from tests.stack.conftest import FUNCTIONS_FIXTURE


async def test_idle_workers_are_reaped_and_busy_ones_kept() -> None:
    settings = load_settings(
        HALO_FUNCTIONS_DIR=FUNCTIONS_FIXTURE, HALO_HOME=scratch_dir("functions-idle")
    )
    context = GatewayContext(settings, TokenService(settings), GatewayDatabase("127.0.0.1", 1))
    service = FunctionsService(context)
    service.deno_dir = str(REPO / ".halo" / "deno")
    spec = service.catalog.find("open")
    assert spec is not None
    try:
        worker = await service.ensure_worker(spec)
        assert worker.alive
        await service.reap_idle()
        assert worker.alive  # used just now

        service.idle_seconds = 0
        worker.in_flight = 1
        await service.reap_idle()
        assert worker.alive  # serving a request

        worker.in_flight = 0
        await service.reap_idle()
        assert not worker.alive
        assert (await service.ensure_worker(spec)).alive  # the next call starts it again
    finally:
        await service.shutdown()
