"""`halo bench storage`: latency and throughput of Storage and Edge Functions through the gateway.

Runs on a scratch cluster and a scratch gateway process (never the developer's stack), with the
official supabase-py client as an application would use it, sequentially (one client).
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
from rich.console import Console
from rich.table import Table

from halo_supabase.bench.scratch import scratch_stack
from halo_supabase.settings import LOCAL_SERVICE_ROLE_KEY, Settings
from supabase import create_client

__all__ = ["run_storage_benchmark"]

_FUNCTION = 'Deno.serve(() => new Response("ok"));\n'


@contextmanager
def _scratch_gateway(settings: Settings) -> Iterator[str]:
    """A scratch stack whose gateway serves one trivial function; yields its URL."""
    functions = settings.state_dir / "bench-storage-functions" / "supabase" / "functions"
    shutil.rmtree(functions.parent.parent, ignore_errors=True)
    (functions / "bench").mkdir(parents=True)
    (functions / "bench" / "index.ts").write_text(_FUNCTION)
    env = {
        "HALO_FUNCTIONS_DIR": str(functions),
        "DENO_DIR": os.environ.get("DENO_DIR") or str(settings.state_dir / "deno"),
    }
    try:
        with scratch_stack(settings, "storage", env=env) as stack:
            yield stack.url
    finally:
        shutil.rmtree(functions.parent.parent, ignore_errors=True)


def _samples(action: Callable[[int], object], count: int) -> list[float]:
    action(-1)  # warm-up, not measured
    times = []
    for i in range(count):
        began = time.perf_counter()
        action(i)
        times.append(time.perf_counter() - began)
    return times


def run_storage_benchmark(settings: Settings, count: int, out: Console) -> None:
    small, large = b"x" * 1024, os.urandom(1024 * 1024)
    with _scratch_gateway(settings) as url:
        client = create_client(url, LOCAL_SERVICE_ROLE_KEY)
        client.storage.create_bucket("bench")
        bucket = client.storage.from_("bench")
        large_count = max(5, count // 10)
        rows: list[tuple[str, list[float], int]] = [
            ("upload 1 KiB", _samples(lambda i: bucket.upload(f"s/{i}", small), count), 1024),
            ("download 1 KiB", _samples(lambda i: bucket.download(f"s/{max(i, 0)}"), count), 1024),
            (
                "upload 1 MiB",
                _samples(lambda i: bucket.upload(f"l/{i}", large), large_count),
                len(large),
            ),
            (
                "download 1 MiB",
                _samples(lambda i: bucket.download(f"l/{max(i, 0)}"), large_count),
                len(large),
            ),
            (
                "list a folder of 100",
                _samples(lambda i: bucket.list("s", {"limit": 100}), count),
                0,
            ),
            (
                "create a signed URL",
                _samples(lambda i: bucket.create_signed_url("s/0", 60), count),
                0,
            ),
        ]
        function_url = f"{url}/functions/v1/bench"
        headers = {"Authorization": f"Bearer {LOCAL_SERVICE_ROLE_KEY}"}
        with httpx.Client(timeout=120) as http:
            began = time.perf_counter()
            http.get(function_url, headers=headers).raise_for_status()
            cold = time.perf_counter() - began
            rows.append(("function: first call (Deno start)", [cold], 0))
            rows.append(
                (
                    "function: warm call",
                    _samples(lambda i: http.get(function_url, headers=headers), count),
                    0,
                )
            )
            rows.append(
                (
                    "function: invoke via supabase-py",
                    _samples(lambda i: client.functions.invoke("bench"), count),
                    0,
                )
            )
    table = Table(title=f"Storage and Edge Functions through the gateway, sequential, n={count}")
    for column in ("operation", "p50 ms", "p95 ms", "ops/s", "MB/s"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for name, times, size in rows:
        ordered = sorted(times)
        p50 = statistics.median(ordered)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        rate = len(times) / sum(times)
        table.add_row(
            name,
            f"{p50 * 1000:.2f}",
            f"{p95 * 1000:.2f}",
            f"{rate:.0f}",
            f"{rate * size / 1e6:.1f}" if size else "",
        )
    out.print(table)
