"""`halo bench views` runs end to end (one round) against the test stack's seeded database."""

from __future__ import annotations

import io

from rich.console import Console

from halo_supabase.bench.views import run_views_benchmark
from halo_supabase.settings import load_settings
from tests.stack.conftest import Stack


def test_bench_views_measures_every_scenario(stack: Stack) -> None:
    buffer = io.StringIO()
    run_views_benchmark(
        load_settings(), stack.db_url, stack.url, 1, Console(file=buffer, width=200)
    )
    text = buffer.getvalue()
    for scenario in (
        "first page: all",
        "first page: spam",
        "inbox_counts()",
        "unread_counts()",
        "filter: 3 conditions",
        "search: a customer",
        "next page (keyset) of All",
    ):
        assert f"{scenario}" in text
    assert "timeout" not in text
