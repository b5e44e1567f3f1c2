"""Helpers for the Auth tests: real supabase-py clients, a signup trigger, direct SQL checks,
and a second gateway with a tighter `[auth]` configuration."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from halo_supabase.local.ports import free_port
from supabase import (
    AsyncClient,
    AsyncClientOptions,
    Client,
    ClientOptions,
    acreate_client,
    create_client,
)
from tests.conftest import REPO, scratch_dir
from tests.stack.conftest import Stack, run_gateway

FIXTURE_SQL = REPO / "tests" / "fixtures" / "auth" / "signup_trigger.sql"
PASSWORD = "correct-horse-1"
_addresses = itertools.count(1)


def client_address() -> str:
    """A distinct client address per test client, so the token endpoint's per-address rate limit
    never couples one test to another (or to other parts' tests on 127.0.0.1)."""
    n = next(_addresses)
    return f"10.{os.getpid() % 250}.{n // 250}.{n % 250 + 1}"


def email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def sync_client(stack: Stack, key: str | None = None, *, address: str | None = None) -> Client:
    options = ClientOptions(
        auto_refresh_token=False,
        headers={"X-Forwarded-For": address or client_address()},
    )
    return create_client(stack.url, key or stack.anon_key, options=options)


async def async_client(stack: Stack, key: str | None = None) -> AsyncClient:
    options = AsyncClientOptions(
        auto_refresh_token=False, headers={"X-Forwarded-For": client_address()}
    )
    return await acreate_client(stack.url, key or stack.anon_key, options=options)


def install_signup_trigger(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(FIXTURE_SQL.read_text())


def fetch(db_url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall()


def scalar(db_url: str, sql: str, *args: Any) -> Any:
    rows = fetch(db_url, sql, *args)
    return rows[0][0] if rows else None


@contextmanager
def gateway_with_auth_config(stack: Stack, **overrides: object) -> Iterator[str]:
    """Another gateway on the same database whose config.toml `[auth]` has `overrides`."""
    project = scratch_dir("auth-project")
    shutil.copytree(REPO / "supabase", project / "supabase")
    config_path = project / "supabase" / "config.toml"
    text = config_path.read_text()
    for key, value in overrides.items():
        literal = str(value).lower() if isinstance(value, bool) else str(value)
        text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {literal}", text)
        assert count, f"config.toml has no `{key}` to override"
    config_path.write_text(text)
    env = {
        **stack.env,
        "HALO_HOME": str(scratch_dir("auth-stack")),
        "HALO_API_PORT": str(free_port()),
        "HALO_PROJECT_DIR": str(project),
    }
    with run_gateway(env, Path(env["HALO_HOME"]) / "gateway.log") as url:
        yield url
