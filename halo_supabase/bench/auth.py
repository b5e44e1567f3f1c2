"""`halo bench auth`: requests/s and latency of the Auth service's hot endpoints.

Runs on a scratch cluster and a scratch gateway process (never the developer's own): password
sign-in (bcrypt-bound by design), refresh-token rotation and `GET /user`, at 1 and 8 concurrent
clients. Requests carry no X-Forwarded-For, so the token endpoint's per-client rate limit (keyed
by that header) does not apply.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
from rich.console import Console
from rich.table import Table

from halo_supabase.bench.scratch import scratch_stack
from halo_supabase.settings import LOCAL_ANON_KEY, Settings

__all__ = ["run_auth_benchmark"]

_PASSWORD = "bench-password-1"
_VERSION = {"X-Supabase-Api-Version": "2024-01-01"}


def _headers(token: str = LOCAL_ANON_KEY) -> dict[str, str]:
    return {
        "apikey": LOCAL_ANON_KEY,
        "Authorization": f"Bearer {token}",
        **_VERSION,
    }


async def _measure(
    call: Callable[[int], Awaitable[None]], total: int, concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    counter = itertools.count()

    async def worker() -> None:
        while (n := next(counter)) < total:
            began = time.perf_counter()
            await call(n)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - began), latencies


async def _scenarios(url: str, requests: int, out: Console) -> Table:
    table = Table(title="Auth service (shared 2-core machine; see docs/performance.md)")
    for column in ("endpoint", "clients", "req/s", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    async with httpx.AsyncClient(base_url=f"{url}/auth/v1", timeout=60) as http:
        address = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        signed_up = await http.post(
            "/signup", json={"email": address, "password": _PASSWORD}, headers=_headers()
        )
        signed_up.raise_for_status()
        access = signed_up.json()["access_token"]
        refresh_tokens: list[str] = []

        async def sign_in(_: int) -> None:
            response = await http.post(
                "/token?grant_type=password",
                json={"email": address, "password": _PASSWORD},
                headers=_headers(),
            )
            response.raise_for_status()
            refresh_tokens.append(response.json()["refresh_token"])

        async def refresh(n: int) -> None:
            response = await http.post(
                "/token?grant_type=refresh_token",
                json={"refresh_token": refresh_tokens[n % len(refresh_tokens)]},
                headers=_headers(),
            )
            response.raise_for_status()
            refresh_tokens[n % len(refresh_tokens)] = response.json()["refresh_token"]

        async def get_user(_: int) -> None:
            (await http.get("/user", headers=_headers(access))).raise_for_status()

        scenarios: list[tuple[str, Callable[[int], Awaitable[None]], int]] = [
            ("POST /token password (bcrypt)", sign_in, max(8, requests // 10)),
            ("POST /token refresh_token", refresh, requests),
            ("GET /user", get_user, requests),
        ]
        for name, call, total in scenarios:
            for concurrency in (1, 8):
                await call(0)  # warm the path
                rate, latencies = await _measure(call, total, concurrency)
                quantiles = statistics.quantiles(latencies, n=20)
                table.add_row(
                    name,
                    str(concurrency),
                    f"{rate:.0f}",
                    f"{statistics.median(latencies) * 1000:.1f}",
                    f"{quantiles[18] * 1000:.1f}",
                )
                out.print(f"measured {name} with {concurrency} client(s)")
    return table


def run_auth_benchmark(settings: Settings, requests: int, out: Console) -> None:
    """Measure on a scratch cluster and gateway, print the table, clean up."""
    with scratch_stack(settings, "auth") as stack:
        out.print(asyncio.run(_scenarios(stack.url, requests, out)))
