"""Shared pieces of the Realtime tests: the fixture schema, user tokens, and an event inbox."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from halo_supabase.local.gateway.credentials import TokenService
from halo_supabase.settings import Settings
from tests.stack.conftest import Stack
from tests.stack.js import JS_DIR

FIXTURE_SQL = Path(__file__).resolve().parent.parent / "fixtures" / "realtime" / "schema.sql"

_tokens = TokenService(Settings())


def apply_fixture(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(FIXTURE_SQL.read_text())


@pytest.fixture(scope="session")
def rt_stack(stack: Stack) -> Stack:
    """The session's stack with the Realtime fixture schema applied."""
    apply_fixture(stack.db_url)
    return stack


def user_token(
    user_id: str | None = None, *, ttl: float = 3600, role: str = "authenticated"
) -> str:
    now = int(time.time())
    return _tokens.sign(
        {
            "sub": user_id or str(uuid.uuid4()),
            "role": role,
            "aud": "authenticated",
            "iat": now,
            "exp": int(now + ttl),
        }
    )


def execute(db_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one statement in its own committed transaction, as an application write would."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


@dataclass
class Inbox:
    """Collects callback arguments; `wait` until a predicate over them holds."""

    items: list[Any] = field(default_factory=list)

    def add(self, *args: Any) -> None:
        self.items.append(args[0] if len(args) == 1 else args)

    def callback(self) -> Callable[..., None]:
        return self.add

    async def wait(
        self, predicate: Callable[[list[Any]], bool] | int = 1, timeout: float = 5.0
    ) -> list[Any]:
        check = predicate if callable(predicate) else (lambda items: len(items) >= predicate)
        deadline = time.monotonic() + timeout
        while not check(self.items):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; inbox holds {self.items!r}")
            await asyncio.sleep(0.02)
        return self.items

    async def quiet(self, seconds: float = 0.5) -> list[Any]:
        """Let in-flight deliveries land, for asserting something did NOT arrive."""
        await asyncio.sleep(seconds)
        return self.items


def start_js(
    stack: Stack, script: str, *args: str, url: str | None = None
) -> subprocess.Popen[str]:
    """Start a tests/js script and return once it prints {"ready":true} (its channels are
    subscribed), so the test can write rows for it to observe."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; supabase-js tests need Node.js 20+")
    env = {
        **stack.env,
        "SUPABASE_URL": url or stack.url,
        "SUPABASE_ANON_KEY": stack.anon_key,
        "SUPABASE_SERVICE_ROLE_KEY": stack.service_role_key,
    }
    process = subprocess.Popen(
        # Node 20 has a WebSocket global only behind this flag (22+ has it by default).
        [node, "--experimental-websocket", str(JS_DIR / script), *args],
        env=env,
        cwd=JS_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        if line.strip() == '{"ready":true}':
            return process
        lines.append(line)
    _, stderr = process.communicate(timeout=10)
    pytest.fail(f"{script} ended before it was ready:\n{''.join(lines)}\n{stderr}")
