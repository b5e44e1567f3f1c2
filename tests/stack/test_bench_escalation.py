"""`halo bench escalation` runs end to end on its own scratch servers with a worker process."""

from __future__ import annotations

import io

from rich.console import Console

from halo_supabase.bench.escalation import run_escalation_benchmark
from halo_supabase.settings import load_settings


def test_bench_escalation_measures_enqueue_cost_and_latency() -> None:
    buffer = io.StringIO()
    run_escalation_benchmark(load_settings(), Console(file=buffer, width=200), 5, 10.0, 5)
    text = buffer.getvalue()
    for measure in (
        "AI reply, mode Off (no job)",
        "AI reply, Conditional (+ job, doorbell)",
        "escalation → ticket.created heard",
    ):
        assert measure in text
    assert "lost: 0;" in text
