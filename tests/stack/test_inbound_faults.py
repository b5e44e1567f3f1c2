"""Faults during ingest: the worker process SIGKILLed mid-batch and restarted, and the gateway
restarted while webhooks arrive. Either way every email becomes exactly one message."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import scratch_dir
from tests.stack.conftest import Stack
from tests.stack.email_support import (
    email_gateway,
    email_worker,
    functions_project,
    new_inbox,
    signed_fields,
    wait_applied,
)
from tests.stack.test_inbound_email import message
from tests.stack.test_realtime_restart import GatewayRun

__all__ = ["email_gateway"]

pytestmark = pytest.mark.asyncio(loop_scope="session")


def counts(db_url: str, workspace_id: str) -> tuple[int, int, int]:
    """Tickets, email messages, and distinct Message-IDs among them."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select (select count(*) from halo.tickets where workspace_id = %s),"
            " count(*), count(distinct email_message_id) from halo.messages"
            " where workspace_id = %s and kind = 'email'",
            (workspace_id, workspace_id),
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


async def post_until_stored(http: httpx.AsyncClient, url: str, recipient: str, raw: str) -> int:
    """Post as a provider does: retry (new token, new signature) until a 2xx; returns attempts."""
    for attempt in range(1, 200):
        try:
            response = await http.post(
                f"{url}/functions/v1/inbound-email/mailgun",
                data=signed_fields(recipient, **{"body-mime": raw}),
            )
            if response.status_code == 200:
                return attempt
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("never stored")


def worker_process(stack: Stack, gateway_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **stack.env,
        "HALO_API_PORT": gateway_url.rsplit(":", 1)[1],
        "HALO_WORKER_LEASE_SECONDS": "3",
        "HALO_WORKER_BATCH": "10",
        "HALO_WORKER_POLL_SECONDS": "0.5",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "halo_supabase.cli", "worker", "email-inbound"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    stack: Stack, email_gateway: str
) -> None:
    inbox = new_inbox(stack.db_url)
    total = 80
    async with httpx.AsyncClient(timeout=60) as http:
        for n in range(total):
            raw = message(f"c{n}@customer.example", inbox.address, f"Order {n}", f"Where is {n}?")
            await post_until_stored(http, email_gateway, inbox.address, raw)
    log = scratch_dir("worker-kill") / "worker.log"
    first = worker_process(stack, email_gateway, log)
    try:
        deadline = time.monotonic() + 60
        while counts(stack.db_url, inbox.workspace_id)[1] < 8:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        at_kill = counts(stack.db_url, inbox.workspace_id)[1]
    finally:
        if first.poll() is None:
            first.kill()
    assert at_kill < total, "the worker finished before it could be killed mid-batch"
    second = worker_process(stack, email_gateway, log)
    try:
        await wait_applied(stack.db_url, inbox.address, total, timeout=90)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    assert counts(stack.db_url, inbox.workspace_id) == (total, total, total)
    assert "action=worker.stopped" in log.read_text()


async def test_a_gateway_restart_during_ingest_loses_and_duplicates_nothing(
    stack: Stack,
) -> None:
    gateway = GatewayRun(stack)
    root = scratch_dir("email-restart")
    gateway.env["HALO_FUNCTIONS_DIR"] = str(functions_project(root))
    gateway.start()
    inbox = new_inbox(stack.db_url)
    total = 40
    try:
        async with (
            httpx.AsyncClient(timeout=60) as http,
            email_worker(gateway.url, stack.service_role_key),
        ):
            sent = [
                message(
                    f"r{n}@customer.example", inbox.address, f"Case {n}", f"Help {uuid.uuid4()}"
                )
                for n in range(total)
            ]

            async def post_later(delay: float, raw: str) -> int:
                await asyncio.sleep(delay)
                return await post_until_stored(http, gateway.url, inbox.address, raw)

            # A steady stream over 2 s (a provider's pace, not a burst the gateway takes in a
            # few milliseconds), so posts are made before, during and after the restart.
            senders = [
                asyncio.create_task(post_later(n * 2.0 / total, raw)) for n, raw in enumerate(sent)
            ]
            await asyncio.sleep(0.3)
            await asyncio.to_thread(gateway.stop)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(gateway.start)
            attempts = await asyncio.gather(*senders)
            await wait_applied(stack.db_url, inbox.address, total, timeout=90)
    finally:
        gateway.stop()
    assert max(attempts) > 1, "no post was interrupted by the restart"
    # Retried posts that had been stored before the restart are applied as duplicates.
    assert counts(stack.db_url, inbox.workspace_id) == (total, total, total)
