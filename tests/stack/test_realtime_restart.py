"""Clients rejoin by themselves when the gateway restarts, and the new gateway's capture slot
delivers again (the old temporary slot died with the old process)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from realtime import RealtimeSubscribeStates

from halo_supabase.local.ports import free_port
from supabase import acreate_client
from tests.conftest import scratch_dir
from tests.stack.conftest import Stack
from tests.stack.realtime_support import Inbox, execute, rt_stack, start_js, user_token

__all__ = ["rt_stack"]  # the fixture, imported so pytest finds it

pytestmark = pytest.mark.asyncio(loop_scope="session")


class GatewayRun:
    """A gateway process of this test's own, which the test stops and starts on one port."""

    def __init__(self, stack: Stack) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **stack.env,
            "HALO_API_PORT": str(self.port),
            "HALO_HOME": str(scratch_dir("rt-restart")),
        }
        self.log = Path(self.env["HALO_HOME"]) / "gateway.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "halo_supabase.cli", "gateway", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"gateway did not start:\n{self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None


@pytest.fixture
def gateway(rt_stack: Stack) -> Iterator[GatewayRun]:
    run = GatewayRun(rt_stack)
    run.start()
    yield run
    run.stop()


def capture_slots(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select count(*) from pg_replication_slots where slot_name like 'halo_realtime_%%' and temporary"
        ).fetchone()
    return int(row[0]) if row else 0


async def test_clients_rejoin_after_the_gateway_restarts(
    rt_stack: Stack, gateway: GatewayRun
) -> None:
    me = str(uuid.uuid4())
    client = await acreate_client(gateway.url, rt_stack.anon_key)
    await client.realtime.set_auth(user_token(me))
    changes, states = Inbox(), Inbox()
    channel = client.channel(f"restart-{me[:8]}")
    channel.on_postgres_changes(
        "INSERT", changes.callback(), schema="rtfx", table="notes", filter=f"owner=eq.{me}"
    )
    await channel.subscribe(lambda state, error: states.add(state))
    assert states.items == [RealtimeSubscribeStates.SUBSCRIBED]
    slots_before = capture_slots(rt_stack.db_url)

    await asyncio.to_thread(gateway.stop)
    await states.wait(lambda items: RealtimeSubscribeStates.CHANNEL_ERROR in items)
    await asyncio.to_thread(gateway.start)
    await states.wait(lambda items: items[-1] == RealtimeSubscribeStates.SUBSCRIBED, timeout=20)
    # The old process's temporary slot is gone; the new one took its place.
    assert capture_slots(rt_stack.db_url) == slots_before

    execute(
        rt_stack.db_url, "insert into rtfx.notes (owner, body) values (%s, 'after restart')", me
    )
    (change,) = await changes.wait(1)
    assert change["data"]["record"]["body"] == "after restart"
    await client.realtime.close()


@pytest.mark.parametrize("vsn", ["1.0.0", "2.0.0"])
async def test_supabase_js_rejoins_after_the_gateway_restarts(
    rt_stack: Stack, gateway: GatewayRun, vsn: str
) -> None:
    name = f"rejoin-{uuid.uuid4().hex[:8]}"
    process = await asyncio.to_thread(
        start_js, rt_stack, "realtime_rejoin.mjs", vsn, name, url=gateway.url
    )
    await asyncio.to_thread(gateway.stop)
    await asyncio.to_thread(gateway.start)
    deadline = time.monotonic() + 40
    while process.poll() is None and time.monotonic() < deadline:
        execute(rt_stack.db_url, "select realtime.send('{\"n\": 1}', 'after', %s, false)", name)
        await asyncio.sleep(0.5)
    stdout, stderr = await asyncio.to_thread(process.communicate, timeout=10)
    assert stdout.strip(), stderr
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["heard"] is not None, (result, stderr)
    assert result["heard"]["n"] == 1
    assert result["statuses"][0] == "SUBSCRIBED"
