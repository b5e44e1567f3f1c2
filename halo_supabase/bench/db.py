"""`halo bench db`: how long the local cluster takes to initialize, start and reset."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from halo_supabase.local.bootstrap import apply_bootstrap
from halo_supabase.local.migrations import apply_migrations, apply_seed
from halo_supabase.local.ports import free_port
from halo_supabase.local.postgres import LocalCluster, find_binaries
from halo_supabase.settings import Settings

__all__ = ["run_db_benchmark"]


def _timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def run_db_benchmark(settings: Settings, runs: int, out: Console) -> None:
    """Measure on a scratch cluster (never the developer's own), then delete it."""
    binaries = find_binaries(settings.postgres_binaries)
    samples: dict[str, list[float]] = {
        "initdb + first start": [],
        "stop": [],
        "start (initialized)": [],
        "start when running": [],
        "reset (recreate, bootstrap, migrations, seed)": [],
    }
    migrations = settings.supabase_dir / "migrations"
    seed = settings.supabase_dir / "seed.sql"
    for run in range(runs):
        cluster = LocalCluster(
            settings.state_dir / f"bench-db-{run}",
            free_port(),
            binaries,
            os_user=settings.db_os_user,
        )
        cluster.destroy()
        try:
            samples["initdb + first start"].append(_timed(cluster.start))
            samples["stop"].append(_timed(cluster.stop))
            samples["start (initialized)"].append(_timed(cluster.start))
            samples["start when running"].append(_timed(cluster.start))

            def reset(cluster: LocalCluster = cluster) -> None:
                cluster.recreate_database()
                apply_bootstrap(cluster.url())
                apply_migrations(cluster.url(), migrations)
                apply_seed(cluster.url(), seed)

            samples["reset (recreate, bootstrap, migrations, seed)"].append(_timed(reset))
        finally:
            cluster.destroy()
    table = Table(
        title=f"local PostgreSQL ({binaries.source} {binaries.major_version}), {runs} runs"
    )
    for column in ("step", "min s", "median s", "max s"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for step, values in samples.items():
        table.add_row(
            step, f"{min(values):.3f}", f"{statistics.median(values):.3f}", f"{max(values):.3f}"
        )
    out.print(table)
