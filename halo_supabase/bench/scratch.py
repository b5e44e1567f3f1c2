"""Scratch servers for benchmarks: a throwaway cluster and gateway on free ports, never the
developer's own, deleted afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from halo_supabase.local.bootstrap import apply_bootstrap
from halo_supabase.local.gateway.server import gateway_subprocess
from halo_supabase.local.ports import free_port
from halo_supabase.local.postgres import LocalCluster, find_binaries
from halo_supabase.settings import Settings

__all__ = ["ScratchStack", "scratch_cluster", "scratch_stack"]


@dataclass(frozen=True)
class ScratchStack:
    cluster: LocalCluster
    url: str  # the gateway's base URL
    process: subprocess.Popen[bytes]  # the gateway (its memory and CPU are measured alone)
    root: Path  # everything of this scratch stack lives below it

    @property
    def db_url(self) -> str:
        return self.cluster.url()


@contextmanager
def scratch_cluster(
    settings: Settings, name: str, *, extra_conf: dict[str, str] | None = None
) -> Iterator[LocalCluster]:
    """A fresh cluster in HALO_HOME/bench-<name> with the Supabase bootstrap applied."""
    root = settings.state_dir / f"bench-{name}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    root.chmod(0o755)
    cluster = LocalCluster(
        root,
        free_port(),
        find_binaries(settings.postgres_binaries),
        os_user=settings.db_os_user,
        extra_conf=extra_conf,
    )
    try:
        cluster.start()
        apply_bootstrap(cluster.url())
        yield cluster
    finally:
        cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def scratch_stack(
    settings: Settings,
    name: str,
    *,
    env: dict[str, str] | None = None,
    extra_conf: dict[str, str] | None = None,
    prepare: Callable[[LocalCluster], None] | None = None,
) -> Iterator[ScratchStack]:
    """A scratch cluster plus `halo gateway serve` in front of it (`env` adds settings;
    `prepare` loads data before the gateway reads the schema)."""
    with scratch_cluster(settings, name, extra_conf=extra_conf) as cluster:
        if prepare is not None:
            prepare(cluster)
        root = cluster.state_dir
        gateway_env = {
            **os.environ,
            "HALO_HOME": str(root / "home"),
            "HALO_DB_PORT": str(cluster.port),
            "HALO_API_PORT": str(free_port()),
            "HALO_PROJECT_DIR": str(settings.project_dir.resolve()),
            "HALO_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        with gateway_subprocess(gateway_env, root / "gateway.log") as (url, process):
            yield ScratchStack(cluster, url, process, root)
