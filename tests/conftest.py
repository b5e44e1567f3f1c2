"""Shared fixtures: a scratch PostgreSQL cluster for the whole run, and databases inside it.

The test cluster never touches the developer's own (`.halo/db`): it lives in `.halo/test/` on a
free port and is deleted at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from halo_supabase.local.bootstrap import apply_bootstrap
from halo_supabase.local.migrations import apply_migrations, apply_seed
from halo_supabase.local.ports import free_port
from halo_supabase.local.postgres import LocalCluster, PostgresBinaries, find_binaries

REPO = Path(__file__).resolve().parent.parent
TEST_STATE = REPO / ".halo" / "test"
# Durability is not under test here; skipping fsync makes cluster setup several times faster.
FAST_CONF = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def scratch_dir(name: str) -> Path:
    """A directory the server's OS user can reach (pytest's tmp_path is private to root)."""
    path = TEST_STATE / f"{name}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def binaries() -> PostgresBinaries:
    return find_binaries(os.environ.get("HALO_POSTGRES_BINARIES", "auto"))


@pytest.fixture(scope="session")
def cluster(binaries: PostgresBinaries) -> Iterator[LocalCluster]:
    shutil.rmtree(TEST_STATE, ignore_errors=True)  # scratch left by an interrupted run
    TEST_STATE.mkdir(parents=True, exist_ok=True)
    TEST_STATE.parent.chmod(0o755)
    TEST_STATE.chmod(0o755)
    instance = LocalCluster(scratch_dir("cluster"), free_port(), binaries, extra_conf=FAST_CONF)
    instance.start()
    yield instance
    instance.destroy()


def _create_database(cluster: LocalCluster, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with cluster.connect("postgres", autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return name


@pytest.fixture
def fresh_db(cluster: LocalCluster) -> Iterator[str]:
    """URL of a new database with the Supabase bootstrap and nothing else."""
    name = _create_database(cluster, "fresh")
    url = cluster.url(name)
    apply_bootstrap(url)
    yield url
    cluster.drop_database(name)


@pytest.fixture(scope="session")
def project_db(cluster: LocalCluster) -> Iterator[str]:
    """URL of a database with the bootstrap, every project migration and the seed."""
    name = _create_database(cluster, "project")
    url = cluster.url(name)
    apply_bootstrap(url)
    apply_migrations(url, REPO / "supabase" / "migrations")
    apply_seed(url, REPO / "supabase" / "seed.sql")
    yield url
    cluster.drop_database(name)


def as_user(
    conn: psycopg.Connection[tuple[object, ...]], role: str, claims: dict[str, object] | None
) -> None:
    """Inside the current transaction, act as PostgREST does for a request with these claims."""
    import json

    conn.execute(f"set local role {role}")
    conn.execute(
        "select set_config('request.jwt.claims', %s, true)", (json.dumps(claims or {"role": role}),)
    )
