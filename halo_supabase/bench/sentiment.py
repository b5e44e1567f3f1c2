"""`halo bench sentiment`: model load time, per-message scoring latency and throughput.

The conversation worker's budget is a mood update within 500 ms p95 end to end; scoring is the
only CPU-heavy step of it, so this measures exactly that step plus the running-mood update.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from halo_supabase.ai import features, sentiment
from halo_supabase.ai.mood import RunningSentiment
from halo_supabase.ai.training import DEFAULT_DATASET, load_dataset
from halo_supabase.bench.stats import percentiles

__all__ = ["run_sentiment_benchmark"]

# Used when the labelled set is not at hand (an installed package without the repository).
_SAMPLE = (
    "Thanks so much, that fixed it!",
    "I don't understand what this error means, where is the settings page?",
    "Great, another outage. Just what I needed today.",
    "Esto es inaceptable. Quiero mi dinero YA.",
    "Je ne comprends pas ce que veut dire ce message d'erreur.",
    "Ich warte seit zwei Tagen auf eine Antwort.",
    "Não consigo fazer login desde hoje cedo.",
)


def run_sentiment_benchmark(messages: int, out: Console, dataset: Path = DEFAULT_DATASET) -> None:
    """Score ``messages`` messages one at a time, as the worker does, and print the numbers."""
    texts = [m.text for m in load_dataset(dataset)] if dataset.exists() else list(_SAMPLE)

    sentiment.default_model.cache_clear()
    features._vader.cache_clear()
    began = time.perf_counter()
    model = sentiment.default_model()
    model.score(texts[0])  # the first call loads VADER's lexicon from the wheel
    load_seconds = time.perf_counter() - began

    latencies: list[float] = []
    running = RunningSentiment()
    began = time.perf_counter()
    for i in range(messages):
        start = time.perf_counter()
        running.add(model.score(texts[i % len(texts)]))
        _ = running.mood
        latencies.append(time.perf_counter() - start)
    elapsed = time.perf_counter() - began

    table = Table(title="offline sentiment model", show_header=False)
    table.add_row("model load (weights + VADER lexicon)", f"{load_seconds * 1000:.1f} ms")
    table.add_row("messages scored", str(messages))
    table.add_row("throughput (one core)", f"{messages / elapsed:,.0f} messages/s")
    table.add_row("latency p50", f"{percentiles(latencies, 50)[0] * 1000:.3f} ms")
    table.add_row("latency p95", f"{percentiles(latencies, 95)[0] * 1000:.3f} ms")
    table.add_row("latency max", f"{max(latencies) * 1000:.3f} ms")
    table.add_row("latency mean", f"{statistics.fmean(latencies) * 1000:.3f} ms")
    out.print(table)
