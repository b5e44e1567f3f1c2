"""A gateway serving the project's own edge functions (inbound-email) with test secrets, a
workspace of the test's own with an inbound address, signed Mailgun posts, and the email worker
run in-process on the real runtime."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from halo_supabase.ai.offline_provider import OfflineProvider
from halo_supabase.client import HaloClient
from halo_supabase.runtime import Handler, Worker, WorkerConfig
from supabase import AsyncClientOptions
from tests.conftest import REPO, scratch_dir
from tests.stack.conftest import Stack, run_gateway
from workers import email_inbound

SIGNING_KEY = "key-test-" + "9" * 32
BASIC_AUTH = "halo-inbound:test-password"
RELAY_TOKEN = "relay-token-for-tests"
CORPUS = REPO / "tests" / "fixtures" / "email"


def functions_project(root: Path) -> Path:
    """A Supabase project folder whose functions are the repository's, with a test `.env`."""
    functions = root / "supabase" / "functions"
    functions.mkdir(parents=True)
    for name in ("inbound-email", "_shared"):
        (functions / name).symlink_to(REPO / "supabase" / "functions" / name)
    (functions / ".env").write_text(
        f"MAILGUN_WEBHOOK_SIGNING_KEY={SIGNING_KEY}\n"
        f"INBOUND_BASIC_AUTH={BASIC_AUTH}\n"
        f"INBOUND_RELAY_TOKEN={RELAY_TOKEN}\n"
    )
    (root / "supabase" / "config.toml").write_text((REPO / "supabase" / "config.toml").read_text())
    return functions


@pytest.fixture(scope="session")
def email_gateway(stack: Stack) -> Iterator[str]:
    from halo_supabase.local.ports import free_port

    root = scratch_dir("email-gateway")
    env = {
        **stack.env,
        "HALO_API_PORT": str(free_port()),
        "HALO_HOME": str(root / "home"),
        "HALO_FUNCTIONS_DIR": str(functions_project(root)),
    }
    with run_gateway(env, root / "gateway.log") as url:
        yield url


@dataclass(frozen=True)
class Inbox:
    workspace_id: str
    address: str


def new_inbox(db_url: str) -> Inbox:
    address = f"support-{uuid.uuid4().hex[:10]}@inbox.halo-test.example"
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "insert into halo.workspaces (name) values ('Inbound test') returning id"
        ).fetchone()
        assert row is not None
        conn.execute(
            "insert into halo.inbound_addresses (workspace_id, address, is_default)"
            " values (%s, %s, true)",
            (row[0], address),
        )
    return Inbox(str(row[0]), address)


def mailgun_signature(timestamp: str, token: str, key: str = SIGNING_KEY) -> str:
    return hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


def signed_fields(recipient: str, **fields: str) -> dict[str, str]:
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    return {
        "recipient": recipient,
        "timestamp": timestamp,
        "token": token,
        "signature": mailgun_signature(timestamp, token),
        **fields,
    }


async def post_mailgun(
    http: httpx.AsyncClient, gateway: str, fields: dict[str, str]
) -> httpx.Response:
    return await http.post(f"{gateway}/functions/v1/inbound-email/mailgun", data=fields)


async def service_api(url: str, key: str) -> HaloClient:
    """The typed client as a worker has it (realtime-py gives up early: the runtime resubscribes)."""
    return await HaloClient.connect(
        url, key, AsyncClientOptions(realtime={"max_retries": 2, "initial_backoff": 0.2})
    )


@asynccontextmanager
async def running_worker(
    url: str, key: str, name: str, kind: str, handler: Callable[[HaloClient], Handler]
) -> AsyncIterator[None]:
    """A worker of `kind` on the real runtime, in this event loop, until the block ends;
    `handler` builds the job handler from the worker's client."""
    stop = asyncio.Event()
    api = await service_api(url, key)
    worker = Worker(WorkerConfig(name, kind, poll_seconds=0.5, concurrency=4), handler(api), api)
    task = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


def email_worker(url: str, key: str) -> AbstractAsyncContextManager[None]:
    return running_worker(
        url,
        key,
        "email-inbound",
        email_inbound.KIND,
        lambda api: email_inbound.EmailInbound(api, OfflineProvider()).handle,
    )


def deliveries(db_url: str, recipient: str) -> list[tuple[str, str, dict[str, object] | None]]:
    with psycopg.connect(db_url) as conn:
        return [
            (str(r[0]), r[1], r[2])
            for r in conn.execute(
                "select id, state, outcome from halo.inbound_emails where recipient = %s"
                " order by received_at",
                (recipient,),
            )
        ]


async def wait_applied(
    db_url: str, recipient: str, count: int, timeout: float = 20
) -> list[tuple[str, str, dict[str, object] | None]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = deliveries(db_url, recipient)
        if len(rows) >= count and all(state != "received" for _, state, _ in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries not applied in time: {rows}")
        await asyncio.sleep(0.1)
