"""The gateway as a real process in front of the test cluster, for tests through real clients."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from halo_supabase.local.bootstrap import apply_bootstrap
from halo_supabase.local.gateway.server import gateway_subprocess
from halo_supabase.local.migrations import apply_migrations, apply_seed
from halo_supabase.local.ports import free_port
from halo_supabase.local.postgres import LocalCluster
from halo_supabase.settings import LOCAL_ANON_KEY, LOCAL_SERVICE_ROLE_KEY
from tests.conftest import REPO, scratch_dir

FUNCTIONS_FIXTURE = REPO / "tests" / "fixtures" / "functions" / "supabase" / "functions"


@dataclass(frozen=True)
class Stack:
    """A running gateway: its URL, keys, and the database URL behind it."""

    url: str
    anon_key: str
    service_role_key: str
    db_url: str
    env: dict[str, str]


@contextmanager
def run_gateway(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`halo gateway serve` with `env` until the block ends; yields its URL once /health answers."""
    with gateway_subprocess(env, log_path) as (url, _process):
        yield url


@pytest.fixture(scope="session")
def stack(cluster: LocalCluster) -> Iterator[Stack]:
    db_url = cluster.url("postgres")
    apply_bootstrap(db_url)
    apply_migrations(db_url, REPO / "supabase" / "migrations")
    apply_seed(db_url, REPO / "supabase" / "seed.sql")
    port = free_port()
    env = {
        **os.environ,
        "HALO_HOME": str(scratch_dir("stack")),
        "HALO_DB_PORT": str(cluster.port),
        "HALO_API_PORT": str(port),
        "HALO_PROJECT_DIR": str(REPO),
        # Test fixture schemas the REST API exposes besides config.toml's (tests/fixtures/rest).
        "HALO_API_EXTRA_SCHEMAS": "rest_fixture",
        # The functions tests' own fixture functions; Deno's npm cache survives between runs.
        "HALO_FUNCTIONS_DIR": str(FUNCTIONS_FIXTURE),
        "DENO_DIR": str(REPO / ".halo" / "deno"),
    }
    with run_gateway(env, cluster.state_dir / "gateway-test.log") as url:
        yield Stack(url, LOCAL_ANON_KEY, LOCAL_SERVICE_ROLE_KEY, db_url, env)
