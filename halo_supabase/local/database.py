"""The local stack's database: the cluster from settings, bootstrapped, migrated and seeded."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from halo_supabase.local.bootstrap import apply_bootstrap
from halo_supabase.local.migrations import (
    MigrationFile,
    apply_migrations,
    apply_seed,
    seeded,
)
from halo_supabase.local.postgres import LocalCluster, StartResult, find_binaries
from halo_supabase.settings import Settings

__all__ = ["LocalDatabase", "Timings"]


@dataclass
class Timings:
    """Seconds spent in each step of a command, in order, for progress output and benchmarks."""

    steps: dict[str, float] = field(default_factory=dict)

    def measure(self, name: str, began: float) -> None:
        self.steps[name] = time.monotonic() - began

    @property
    def total(self) -> float:
        return sum(self.steps.values())


class LocalDatabase:
    """The `postgres` database of the local cluster, with the project's migrations and seed."""

    def __init__(self, settings: Settings, *, dbname: str = "postgres") -> None:
        self.settings = settings
        self.dbname = dbname
        self.cluster = LocalCluster(
            settings.state_dir,
            settings.db_port,
            find_binaries(settings.postgres_binaries),
            os_user=settings.db_os_user,
        )

    @property
    def url(self) -> str:
        return self.cluster.url(self.dbname)

    @property
    def migrations_dir(self) -> Path:
        return self.settings.supabase_dir / "migrations"

    @property
    def seed_path(self) -> Path:
        return self.settings.supabase_dir / "seed.sql"

    def start(self) -> StartResult:
        """Start the cluster and bring the Supabase bootstrap up to date."""
        result = self.cluster.start()
        apply_bootstrap(self.url)
        return result

    def migrate(
        self, on_applied: Callable[[MigrationFile], None] | None = None
    ) -> list[MigrationFile]:
        return apply_migrations(self.url, self.migrations_dir, on_applied=on_applied)

    def seed(self) -> bool:
        return apply_seed(self.url, self.seed_path)

    def ensure_ready(
        self, on_applied: Callable[[MigrationFile], None] | None = None
    ) -> tuple[StartResult, list[MigrationFile], bool]:
        """What `halo dev` needs: running, migrated, and seeded once (a later seed is `reset`)."""
        started = self.start()
        applied = self.migrate(on_applied)
        seeded_now = False
        if not seeded(self.url):
            seeded_now = self.seed()
        return started, applied, seeded_now

    def reset(self, on_applied: Callable[[MigrationFile], None] | None = None) -> Timings:
        """Recreate the database empty, then bootstrap, migrate and seed it."""
        timings = Timings()
        began = time.monotonic()
        self.cluster.start()
        timings.measure("start", began)
        began = time.monotonic()
        self.cluster.recreate_database(self.dbname)
        timings.measure("recreate", began)
        began = time.monotonic()
        apply_bootstrap(self.url)
        timings.measure("bootstrap", began)
        began = time.monotonic()
        self.migrate(on_applied)
        timings.measure("migrate", began)
        began = time.monotonic()
        self.seed()
        timings.measure("seed", began)
        return timings
