"""`halo bench escalation`: what the escalation path costs, on scratch servers.

A scratch cluster with every migration and the seed, a gateway, and one `halo worker escalation`
process (never the developer's own servers). Two measurements:

* **Enqueue cost**: `api.add_conversation_message` for an AI reply, in SQL as service_role, for an
  agent whose escalation mode is Off (no job) and one in Conditional mode (one
  `conversation.escalate` job and its doorbell in the same transaction), interleaved. The
  difference of the medians is what the trigger-side enqueue adds to every AI message. Their jobs
  are deleted before the worker starts, so the latency run has no backlog.
* **Escalation → visible ticket**: live conversations, each getting an AI reply that calls the
  `escalate` tool, posted through the gateway (supabase-py) at a steady rate, while the bench
  listens on the private `workspace:<id>` topic as the service role. Latency is the reply's RPC
  returning (the message is committed) → its `ticket.created` broadcast received, the path a
  dashboard sees: doorbell, claim, context, decision, ticket, broadcast.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse
from uuid import UUID

import psycopg
from realtime import RealtimeChannelOptions
from rich.console import Console
from rich.table import Table

from halo_supabase.bench.scratch import ScratchStack, scratch_stack
from halo_supabase.bench.stats import percentiles
from halo_supabase.client import HaloClient
from halo_supabase.local.migrations import apply_migrations, apply_seed
from halo_supabase.local.postgres import LocalCluster
from halo_supabase.settings import Settings

__all__ = ["run_escalation_benchmark"]

WORKSPACE = "b0000000-0000-4000-8000-000000000001"  # the seed's Acme Support
FAST_CONF = {"fsync": "off", "full_page_writes": "off"}


@dataclass
class Escalations:
    committed_at: dict[str, float] = field(default_factory=dict)  # conversation → reply stored
    heard_at: dict[str, float] = field(default_factory=dict)  # conversation → ticket.created
    rpc_ms: list[float] = field(default_factory=list)


def _agents(db_url: str) -> tuple[str, str]:
    """An agent with escalation Off and one in Conditional mode (escalate tool trusted)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        ids = []
        for name, mode in (("Bench off", "off"), ("Bench conditional", "conditional")):
            row = conn.execute(
                "insert into halo.ai_agents (workspace_id, name) values (%s, %s) returning id",
                (WORKSPACE, name),
            ).fetchone()
            assert row is not None
            conn.execute(
                "update halo.escalation_settings set mode = %s where ai_agent_id = %s",
                (mode, row[0]),
            )
            ids.append(str(row[0]))
    return ids[0], ids[1]


def _enqueue_cost(db_url: str, off: str, conditional: str, rounds: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"off": [], "conditional": []}
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("set role service_role")
        conversations = {
            label: str(
                conn.execute(
                    "select (api.start_conversation(%s, p_ai_agent_id => %s)).id",
                    (WORKSPACE, agent),
                ).fetchone()[0]  # type: ignore[index]
            )
            for label, agent in (("off", off), ("conditional", conditional))
        }
        for _ in range(rounds):
            for label, conversation in conversations.items():
                started = time.perf_counter()
                conn.execute(
                    "select api.add_conversation_message(%s, 'ai', 'Here is how to reset it.',"
                    " p_confidence => 90::smallint, p_tool_calls => '[\"knowledge_search\"]')",
                    (conversation,),
                )
                timings[label].append((time.perf_counter() - started) * 1000)
        # Those replies' jobs would be a backlog in front of the latency run: drop them.
        conn.execute("reset role")
        conn.execute("delete from halo.jobs where kind = 'conversation.escalate'")
    return timings


def _spawn_worker(stack: ScratchStack) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HALO_HOME": str(stack.root / "home"),
        "HALO_DB_PORT": str(stack.cluster.port),
        "HALO_API_PORT": str(urlparse(stack.url).port),
        "HALO_LOG_LEVEL": "WARNING",
        "HALO_WORKER_CONCURRENCY": "8",
        "HALO_WORKER_BATCH": "16",
    }
    log = (stack.root / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "halo_supabase.cli", "worker", "escalation"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def _escalate(
    settings: Settings, stack: ScratchStack, agent: str, count: int, rate: float
) -> Escalations:
    key = settings.service_role_key
    api = await HaloClient.connect(stack.url, key)
    client = api.supabase
    run = Escalations()
    everyone_heard = asyncio.Event()

    def heard(message: Any) -> None:
        conversation = message["payload"].get("conversation_id")
        if conversation in run.committed_at and conversation not in run.heard_at:
            run.heard_at[conversation] = time.monotonic()
            if len(run.heard_at) == count:
                everyone_heard.set()

    channel = client.channel(
        f"workspace:{WORKSPACE}",
        RealtimeChannelOptions(config={"broadcast": None, "presence": None, "private": True}),
    )
    channel.on_broadcast("ticket.created", heard)
    await channel.subscribe()
    conversations: list[str] = []
    for _ in range(count):
        started = await api.start_conversation(
            UUID(WORKSPACE), session_id=str(uuid.uuid4()), ai_agent_id=UUID(agent)
        )
        conversations.append(str(started.id))

    async def one(conversation: str) -> None:
        sent = time.monotonic()
        await api.add_conversation_message(
            UUID(conversation),
            "ai",
            "Let me get a teammate for this.",
            confidence=30,
            tool_calls=[{"name": "escalate", "arguments": {"reason": "bench"}}],
        )
        run.committed_at[conversation] = time.monotonic()
        run.rpc_ms.append((run.committed_at[conversation] - sent) * 1000)

    tasks = []
    origin = time.monotonic()
    for index, conversation in enumerate(conversations):
        tasks.append(asyncio.create_task(one(conversation)))
        await asyncio.sleep(max(0.0, origin + (index + 1) / rate - time.monotonic()))
    await asyncio.gather(*tasks)
    with contextlib.suppress(TimeoutError):  # the missing ones are reported as lost
        await asyncio.wait_for(everyone_heard.wait(), timeout=30)
    await client.realtime.close()
    return run


def run_escalation_benchmark(
    settings: Settings, out: Console, count: int, rate: float, rounds: int
) -> None:
    def prepare(cluster: LocalCluster) -> None:
        apply_migrations(cluster.url(), settings.supabase_dir / "migrations")
        apply_seed(cluster.url(), settings.supabase_dir / "seed.sql")

    with scratch_stack(settings, "escalation", extra_conf=FAST_CONF, prepare=prepare) as stack:
        off, conditional = _agents(stack.db_url)
        out.print(f"enqueue cost: {rounds} AI replies per agent, in SQL")
        costs = _enqueue_cost(stack.db_url, off, conditional, rounds)
        worker = _spawn_worker(stack)
        try:
            time.sleep(2)  # the worker subscribes to its doorbell
            out.print(f"escalations: {count} at {rate:g}/s through the gateway")
            run = asyncio.run(_escalate(settings, stack, conditional, count, rate))
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    table = Table(title="halo bench escalation")
    for column in ("measure", "n", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right" if column != "measure" else "left")

    def row(name: str, values: list[float]) -> None:
        p50, p95, p99 = percentiles(values, 50, 95, 99)
        table.add_row(name, str(len(values)), f"{p50:.2f}", f"{p95:.2f}", f"{p99:.2f}")

    row("AI reply, mode Off (no job)", costs["off"])
    row("AI reply, Conditional (+ job, doorbell)", costs["conditional"])
    row("AI reply RPC through the gateway", run.rpc_ms)
    latencies = [
        (run.heard_at[c] - run.committed_at[c]) * 1000
        for c in run.committed_at
        if c in run.heard_at
    ]
    row("escalation → ticket.created heard", latencies)
    out.print(table)
    missing = len(run.committed_at) - len(latencies)
    p95 = percentiles(latencies, 95)[0]
    out.print(
        f"lost: {missing}; goal escalation → visible ticket p95 ≤ 300 ms: "
        + ("met" if latencies and p95 <= 300 and not missing else "NOT met")
        + f"; load average {os.getloadavg()[0]:.2f}"
    )
