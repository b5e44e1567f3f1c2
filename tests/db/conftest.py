"""Fixtures for the inbox data model tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from halo_supabase.local.bootstrap import apply_bootstrap
from halo_supabase.local.migrations import apply_migrations, apply_seed
from halo_supabase.local.postgres import LocalCluster
from tests.conftest import REPO, _create_database


@pytest.fixture(scope="module")
def inbox_db(cluster: LocalCluster) -> Iterator[str]:
    """A database per test module with every migration and the demo seed.

    For tests that write a lot or concurrently, so the session's project_db stays as seeded.
    Tests sharing it compare against state they read first, never against absolute counts.
    """
    name = _create_database(cluster, "inbox")
    url = cluster.url(name)
    apply_bootstrap(url)
    apply_migrations(url, REPO / "supabase" / "migrations")
    apply_seed(url, REPO / "supabase" / "seed.sql")
    yield url
    cluster.drop_database(name)
