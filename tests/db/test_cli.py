"""`halo db …`, `halo env` and `halo dev` as a developer runs them, in their own state directory."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from dotenv import dotenv_values

from halo_supabase.local.ports import free_port
from halo_supabase.settings import LOCAL_SERVICE_ROLE_KEY
from tests.conftest import REPO, scratch_dir
from workers import REGISTRY

HALO = [sys.executable, "-m", "halo_supabase.cli"]


@pytest.fixture
def halo_env() -> Iterator[dict[str, str]]:
    env = {
        **os.environ,
        "HALO_HOME": str(scratch_dir("cli")),
        "HALO_DB_PORT": str(free_port()),
        "HALO_API_PORT": str(free_port()),
        "HALO_SMTP_PORT": str(free_port()),
        "HALO_PROJECT_DIR": str(REPO),
        "COLUMNS": "200",
    }
    yield env
    subprocess.run([*HALO, "down"], env=env, capture_output=True, timeout=60)
    shutil.rmtree(env["HALO_HOME"], ignore_errors=True)


def halo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HALO, *args], env=env, capture_output=True, text=True, timeout=120)


def test_db_lifecycle_commands(halo_env: dict[str, str]) -> None:
    port = halo_env["HALO_DB_PORT"]
    first = halo(halo_env, "db", "start")
    assert first.returncode == 0, first.stderr
    assert f"initialized and started on 127.0.0.1:{port}" in first.stderr
    again = halo(halo_env, "db", "start")
    assert again.returncode == 0 and "already running" in again.stderr

    url = halo(halo_env, "db", "url").stdout.strip()
    assert url == f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres"

    status = halo(halo_env, "db", "status")
    assert status.returncode == 0
    assert "running" in status.stdout and "yes" in status.stdout
    assert "migrations pending" in status.stdout

    migrate = halo(halo_env, "db", "migrate")
    assert migrate.returncode == 0, migrate.stderr
    assert "applied 20261204000000_baseline" in migrate.stderr
    assert "database is up to date" in halo(halo_env, "db", "migrate").stderr
    drift = halo(halo_env, "db", "drift")
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert "build the same database" in drift.stderr

    psql = halo(
        halo_env, "db", "psql", "-tAc", "select count(*) from supabase_migrations.schema_migrations"
    )
    assert psql.returncode == 0 and psql.stdout.strip() == str(
        len(list((REPO / "supabase" / "migrations").glob("*.sql")))
    )

    stop = halo(halo_env, "db", "stop")
    assert "PostgreSQL stopped" in stop.stderr
    assert "was not running" in halo(halo_env, "db", "stop").stderr
    stopped = halo(halo_env, "db", "status")
    assert stopped.returncode == 3 and "no" in stopped.stdout


def test_reset_recreates_migrates_and_seeds(halo_env: dict[str, str]) -> None:
    assert halo(halo_env, "db", "start").returncode == 0
    url = halo(halo_env, "db", "url").stdout.strip()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table public.leftover (a int)")
    reset = halo(halo_env, "db", "reset")
    assert reset.returncode == 0, reset.stderr
    assert "database reset in" in reset.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("select to_regclass('public.leftover')").fetchone() == (None,)
        assert conn.execute(
            "select count(*) > 0 from supabase_migrations.schema_migrations"
        ).fetchone() == (True,)
        assert conn.execute("select count(*) from supabase_migrations.seed_files").fetchone() == (
            1,
        )


def test_port_in_use_is_reported_without_a_traceback(halo_env: dict[str, str]) -> None:
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(halo_env["HALO_DB_PORT"])))
        squatter.listen()
        result = halo(halo_env, "db", "start")
    assert result.returncode == 1
    assert "is already in use by another process" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_reported_by_name(halo_env: dict[str, str]) -> None:
    result = halo({**halo_env, "HALO_DB_PORT": "fifty"}, "db", "url")
    assert result.returncode == 1
    assert "HALO_DB_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_prints_dotenv_lines(halo_env: dict[str, str]) -> None:
    result = halo(halo_env, "env")
    lines = dict(line.split("=", 1) for line in result.stdout.strip().splitlines())
    assert lines["SUPABASE_URL"] == f"http://127.0.0.1:{halo_env['HALO_API_PORT']}"
    assert lines["SUPABASE_ANON_KEY"].startswith("eyJ")
    assert lines["SUPABASE_DB_URL"].endswith(f":{halo_env['HALO_DB_PORT']}/postgres")


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    assert process.stderr is not None
    seen = ""
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = process.stderr.readline()
            if not line:
                break
            seen += line
    return seen


def test_dev_runs_in_the_foreground_and_stops_cleanly(halo_env: dict[str, str]) -> None:
    process = subprocess.Popen([*HALO, "dev"], env=halo_env, stderr=subprocess.PIPE, text=True)
    try:
        output = _read_until(process, "ready", timeout=60)
        assert "ready" in output, output
        assert "PostgreSQL" in output and "seed applied" in output
        assert "workers running" in output and "SMTP sink" in output
        # A fresh checkout gets local webhook secrets, so `halo demo` can sign its posts.
        functions_env = dotenv_values(REPO / "supabase" / "functions" / ".env")
        assert functions_env.get("MAILGUN_WEBHOOK_SIGNING_KEY"), "no local signing key"
        # Only logins that really sign in with the demo password are listed.
        assert "demo logins (password halo-demo-2026" in output
        assert re.search(r"agent@acme\.test +Acme Support +member · Inbox: reply", output)
        health = httpx.get(f"http://127.0.0.1:{halo_env['HALO_API_PORT']}/health")
        assert health.status_code == 200
        url = halo(halo_env, "db", "url").stdout.strip()
        with psycopg.connect(url) as conn:
            assert conn.execute(
                "select count(*) from supabase_migrations.seed_files"
            ).fetchone() == (1,)
        _read_until(process, "doorbell.subscribed", timeout=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert process.stderr is not None
        shutdown = process.stderr.read()
        # The workers stop first, while the gateway still answers them: no connection errors.
        assert shutdown.index("stopping the workers") < shutdown.index("stopped\n"), shutdown
        assert shutdown.count("action=worker.stopped") == len(REGISTRY), shutdown
        assert "level=error" not in shutdown, shutdown
    finally:
        if process.poll() is None:
            process.kill()
    assert halo(halo_env, "db", "status").returncode == 3


def test_up_status_down(halo_env: dict[str, str]) -> None:
    up = halo(halo_env, "up")
    assert up.returncode == 0, up.stderr
    assert f"SUPABASE_URL=http://127.0.0.1:{halo_env['HALO_API_PORT']}" in up.stdout
    assert "already running" in halo(halo_env, "up").stderr
    status = halo(halo_env, "status")
    assert status.returncode == 0, status.stdout
    assert status.stdout.count("running") == 2
    down = halo(halo_env, "down")
    assert "gateway stopped" in down.stderr and "PostgreSQL stopped" in down.stderr
    assert halo(halo_env, "status").returncode == 3


def test_db_test_runs_on_a_scratch_database_whatever_the_local_one_holds(
    halo_env: dict[str, str],
) -> None:
    assert halo(halo_env, "db", "reset").returncode == 0
    url = halo(halo_env, "db", "url").stdout.strip()
    with psycopg.connect(url, autocommit=True) as conn:
        # Used: a demo ticket is gone, which the pgTAP stories count on.
        conn.execute("delete from halo.tickets where id = 'a1000000-0000-4000-8000-000000000002'")
    result = halo(halo_env, "db", "test")
    assert result.returncode == 0, result.stderr
    files = list((REPO / "supabase" / "tests").rglob("*.sql"))
    assert f"{len(files)} passed, 0 failed" in result.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from halo.tickets").fetchone() == (6,)
        assert conn.execute(
            "select count(*) from pg_database where datname like 'halo_db_test_%'"
        ).fetchone() == (0,)


def _realtime_delivers(api_url: str, db_url: str, timeout: float) -> bool:
    """Whether a broadcast sent from the database reaches a subscriber within `timeout`: proof
    that the gateway's Realtime capture streams from this database."""
    import asyncio

    from supabase import acreate_client

    async def probe() -> bool:
        client = await acreate_client(api_url, LOCAL_SERVICE_ROLE_KEY)
        heard = asyncio.Event()
        channel = client.channel("jobs:probe", {"config": {"private": True}})
        channel.on_broadcast("probe", lambda _message: heard.set())
        await channel.subscribe()
        deadline = time.monotonic() + timeout
        try:
            while not heard.is_set() and time.monotonic() < deadline:
                with psycopg.connect(db_url, autocommit=True) as conn:
                    conn.execute("select realtime.send('{}'::jsonb, 'probe', 'jobs:probe', true)")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(heard.wait(), timeout=0.5)
        finally:
            await client.realtime.close()
        return heard.is_set()

    return asyncio.run(probe())


def test_status_and_db_reset_while_dev_runs(halo_env: dict[str, str]) -> None:
    process = subprocess.Popen([*HALO, "dev"], env=halo_env, stderr=subprocess.PIPE, text=True)
    api_url = f"http://127.0.0.1:{halo_env['HALO_API_PORT']}"
    try:
        assert "ready" in _read_until(process, "ready", timeout=60)
        status = halo(halo_env, "status")
        assert status.returncode == 0, status.stdout
        assert f"running, pid {process.pid}, {api_url}" in status.stdout
        assert "already runs" in halo(halo_env, "dev").stderr

        url = halo(halo_env, "db", "url").stdout.strip()
        assert _realtime_delivers(api_url, url, timeout=15)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create table public.leftover (a int)")
        reset = halo(halo_env, "db", "reset")
        assert reset.returncode == 0, reset.stderr
        assert "Traceback" not in reset.stderr
        with psycopg.connect(url) as conn:
            assert conn.execute("select to_regclass('public.leftover')").fetchone() == (None,)
        # The running gateway reconnects to the new database: REST and Realtime answer.
        jobs = httpx.get(
            f"{api_url}/rest/v1/jobs?limit=1",
            headers={
                "apikey": LOCAL_SERVICE_ROLE_KEY,
                "Authorization": f"Bearer {LOCAL_SERVICE_ROLE_KEY}",
                "Accept-Profile": "api",
            },
            timeout=30,
        )
        assert jobs.status_code == 200, jobs.text
        assert _realtime_delivers(api_url, url, timeout=20)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert halo(halo_env, "status").returncode == 3
