"""`halo bench ingest` runs end to end on its own scratch servers (a few webhooks per run)."""

from __future__ import annotations

import io
import re

from rich.console import Console

from halo_supabase.bench.ingest import run_ingest_benchmark
from halo_supabase.settings import load_settings


def test_bench_ingest_counts_every_email_and_charges_cpu_to_each_component() -> None:
    buffer = io.StringIO()
    run_ingest_benchmark(
        load_settings(),
        Console(file=buffer, width=200),
        count=12,
        concurrency=4,
        rate=10.0,
        paced=6,
        worker_concurrency=4,
    )
    text = buffer.getvalue()
    assert re.findall(r"webhooks accepted\s+│ (\d+) \(0 refused", text) == ["12", "6"]
    assert re.findall(r"lost \(accepted, no ticket\)\s+│ (\d+)", text) == ["0", "0"]
    assert re.findall(r"duplicated messages\s+│ (\d+)", text) == ["0", "0"]
    for run in re.findall(r"CPU ms per email\s+│ ([^│]+)│", text):
        shares = dict(re.findall(r"(\w+) ([\d.]+)", run))
        assert set(shares) == {"postgres", "gateway", "deno", "worker", "bench", "total"}
        # Every component did work for these emails; the total is their sum.
        assert all(float(ms) > 0 for ms in shares.values()), run
        parts = sum(float(ms) for name, ms in shares.items() if name != "total")
        assert abs(parts - float(shares["total"])) < 0.2
