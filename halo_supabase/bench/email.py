"""`halo bench email`: how fast one core parses, classifies and strips the fixture corpus.

Each round runs every .eml of the corpus through parse_email, classify, strip_quotes and
threading_candidates (what the worker does before touching the database) and times each message.
The large-attachment fixture is reported apart: base64 decoding dominates it and would hide the
per-message cost of everything else.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from halo_supabase.bench.stats import percentiles
from halo_supabase.email.classify import classify
from halo_supabase.email.parse import parse_email
from halo_supabase.email.quotes import strip_quotes
from halo_supabase.email.threading import threading_candidates

__all__ = ["LARGE_MESSAGE_BYTES", "run_email_benchmark"]

LARGE_MESSAGE_BYTES = 500_000
_SECRETS = [b"bench-workspace-secret"]
_OWN_DOMAINS = ["mail.halo.test"]


def _process(raw: bytes) -> None:
    msg = parse_email(raw)
    classify(msg, own_domains=_OWN_DOMAINS)
    strip_quotes(msg.text)
    threading_candidates(msg, _SECRETS)


def run_email_benchmark(corpus: Path, rounds: int, out: Console) -> None:
    """Time the corpus `rounds` times and print throughput and latency per message class."""
    messages = [path.read_bytes() for path in sorted(corpus.glob("*.eml"))]
    groups: dict[str, list[float]] = {"typical": [], "large >500kB": []}
    totals: dict[str, float] = {"typical": 0.0, "large >500kB": 0.0}
    # CPU time beside wall time: on a shared machine the difference is other people's load.
    cpu: dict[str, float] = {"typical": 0.0, "large >500kB": 0.0}
    for raw in messages:  # warm caches (regex compilation, codec lookups) outside the timing
        _process(raw)
    with Progress(transient=True, console=out) as progress:
        task = progress.add_task("parse + classify + strip + thread", total=rounds)
        for _ in range(rounds):
            for raw in messages:
                group = "large >500kB" if len(raw) > LARGE_MESSAGE_BYTES else "typical"
                began, began_cpu = time.perf_counter(), time.process_time()
                _process(raw)
                elapsed = time.perf_counter() - began
                cpu[group] += time.process_time() - began_cpu
                groups[group].append(elapsed)
                totals[group] += elapsed
            progress.advance(task)

    table = Table(
        title=f"{len(messages)} messages x {rounds} rounds, one core (latency is wall time)"
    )
    columns = ("messages", "count", "messages/s", "msg/CPU-s", "p50 ms", "p95 ms", "max ms")
    for column in columns:
        table.add_column(column, justify="right" if column != "messages" else "left")
    for name, samples in groups.items():
        if samples:
            table.add_row(
                name,
                str(len(samples)),
                f"{len(samples) / totals[name]:,.0f}",
                f"{len(samples) / max(cpu[name], 1e-9):,.0f}",
                f"{statistics.median(samples) * 1000:.2f}",
                f"{percentiles(samples, 95)[0] * 1000:.2f}",
                f"{max(samples) * 1000:.2f}",
            )
    everything = [s for samples in groups.values() for s in samples]
    table.add_row(
        "all",
        str(len(everything)),
        f"{len(everything) / sum(totals.values()):,.0f}",
        f"{len(everything) / max(sum(cpu.values()), 1e-9):,.0f}",
        f"{statistics.median(everything) * 1000:.2f}",
        f"{percentiles(everything, 95)[0] * 1000:.2f}",
        f"{max(everything) * 1000:.2f}",
    )
    out.print(table)
