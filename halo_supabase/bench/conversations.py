"""`halo bench conversations`: live conversations → mood updates (and escalations → tickets) as a
dashboard sees them.

Scratch servers on free ports (never the developer's own): a PostgreSQL cluster (fsync off,
synchronous_commit on, since Realtime reads only flushed WAL) with every migration and the seed,
the gateway, and the `halo worker sentiment` process (plus the escalation worker when the project
has one). The bench process plays the AI runtime — N live conversations, each sending one customer
message a second through the REST API (`api.add_conversation_message` as service_role, the AI
runtime's call), with random phases
so the load is even — and a dashboard: a teammate's supabase-py client on the private
`workspace:<id>` topic.

Latency is message sent (before the request) → the first `conversation.signal` whose
`scored_message_id` is that message or a later one of the same conversation (a coalesced update
covers every message before it). A message never covered is counted as missing. Escalation:
an AI reply carrying the `escalate` tool call → `ticket.created` for its conversation.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from realtime import RealtimeChannelOptions
from rich.console import Console
from rich.table import Table

from halo_supabase.bench.cpu import CpuMeter, processes, tree
from halo_supabase.bench.load import load_session
from halo_supabase.bench.scratch import ScratchStack, scratch_stack
from halo_supabase.bench.stats import percentiles
from halo_supabase.local.gateway.credentials import TokenService
from halo_supabase.local.migrations import apply_migrations, apply_seed
from halo_supabase.local.postgres import LocalCluster
from halo_supabase.settings import Settings
from supabase import acreate_client

__all__ = ["run_conversations_benchmark"]

WORKSPACE = "b0000000-0000-4000-8000-000000000001"  # the seed's Acme Support
AI_AGENT = "d0000000-0000-4000-8000-000000000001"  # its customer-facing AI agent
TEAMMATE = "a0000000-0000-4000-8000-000000000004"  # Remy, Inbox: Reply
FAST_CONF = {"fsync": "off", "full_page_writes": "off"}
ESCALATION_WORKER = "escalation"

TEXTS = (
    "This is ridiculous! I have been charged twice and nobody answers.",
    "I don't understand, where do I find this setting?",
    "Thanks a lot, that fixed it!",
    "My order number is 1234, it has not arrived yet.",
    "Still waiting for an answer...",
    "Can you explain what the premium plan includes?",
    "Das funktioniert immer noch nicht, langsam reicht es.",
    "No entiendo cómo cambiar mi contraseña.",
)


@dataclass
class _Run:
    sent_at: dict[str, float] = field(default_factory=dict)  # message id → send time
    order: dict[str, list[str]] = field(default_factory=dict)  # conversation → its message ids
    covered: dict[str, int] = field(default_factory=dict)  # conversation → messages covered
    latencies: list[float] = field(default_factory=list)
    stored_at: dict[str, float] = field(default_factory=dict)  # message id → append answered
    after_store: list[float] = field(default_factory=list)  # append answered → mood update
    append_ms: list[float] = field(default_factory=list)
    loop_lag: list[float] = field(default_factory=list)  # the senders' event loop, ms late
    updates: int = 0
    errors: int = 0
    escalated_at: dict[str, float] = field(default_factory=dict)  # conversation → AI reply sent
    escalation_stored_at: dict[str, float] = field(default_factory=dict)  # … its RPC answered
    ticket_latencies: list[float] = field(default_factory=list)
    ticket_after_store: list[float] = field(default_factory=list)

    def heard(self, payload: dict[str, Any], at: float) -> None:
        conversation = str(payload.get("conversation_id"))
        scored = payload.get("scored_message_id")
        ids = self.order.get(conversation)
        if not scored or ids is None or "scored_message_id" not in payload.get("changed", []):
            return  # not a mood update (e.g. the escalation's outcome)
        self.updates += 1
        done = self.covered.get(conversation, 0)
        try:
            upto = ids.index(scored, done) + 1
        except ValueError:
            return  # already covered by an earlier update
        for message in ids[done:upto]:
            self.latencies.append((at - self.sent_at[message]) * 1000)
            self.after_store.append(max(0.0, at - self.stored_at[message]) * 1000)
        self.covered[conversation] = upto

    def ticket(self, payload: dict[str, Any], at: float) -> None:
        conversation = str(payload.get("conversation_id"))
        sent = self.escalated_at.pop(conversation, None)
        if sent is not None:
            self.ticket_latencies.append((at - sent) * 1000)
            stored = self.escalation_stored_at.get(conversation, at)
            self.ticket_after_store.append(max(0.0, at - stored) * 1000)


def _prepare(settings: Settings) -> Any:
    def prepare(cluster: LocalCluster) -> None:
        apply_migrations(cluster.url(), settings.supabase_dir / "migrations")
        apply_seed(cluster.url(), settings.supabase_dir / "seed.sql")

    return prepare


@contextmanager
def _workers(stack: ScratchStack, names: list[str]) -> Iterator[list[int]]:
    env = {
        **os.environ,
        "HALO_HOME": str(stack.root / "home"),
        "HALO_DB_PORT": str(stack.cluster.port),
        "HALO_API_PORT": stack.url.rsplit(":", 1)[1],
        "HALO_LOG_LEVEL": "WARNING",
        "HALO_WORKER_POLL_SECONDS": "1",
    }
    processes = []
    with (stack.root / "workers.log").open("ab") as log:
        for name in names:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "halo_supabase.cli", "worker", name],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )
    try:
        yield [process.pid for process in processes]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


class _Api:
    """The AI runtime's calls, as plain HTTP (`load.py` says why not httpx)."""

    def __init__(self, http: aiohttp.ClientSession, url: str, key: str) -> None:
        self.http, self.url = http, f"{url}/rest/v1/rpc"
        self.headers = {
            "apikey": key,
            "Authorization": f"Bearer {key}",
            "Content-Profile": "api",
            "Accept-Profile": "api",
        }

    async def call(self, function: str, **arguments: Any) -> Any:
        body = {f"p_{name}": value for name, value in arguments.items()}
        async with self.http.post(
            f"{self.url}/{function}", json=body, headers=self.headers
        ) as response:
            response.raise_for_status()
            return await response.json()


async def _conversation(api: _Api, run: _Run) -> str:
    row = await api.call(
        "start_conversation",
        workspace_id=WORKSPACE,
        session_id=f"bench-{uuid.uuid4().hex}",
        ai_agent_id=AI_AGENT,
    )
    conversation = str(row["id"])
    run.order[conversation] = []
    return conversation


async def _talk(api: _Api, run: _Run, conversation: str, until: float, rng: random.Random) -> None:
    """One customer message a second until `until`, starting at a random phase."""
    next_at = time.monotonic() + rng.random()
    while next_at < until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        started = time.monotonic()
        try:
            row = await api.call(
                "add_conversation_message",
                conversation_id=conversation,
                role="user",
                text=rng.choice(TEXTS),
            )
        except aiohttp.ClientError:
            run.errors += 1
        else:
            run.sent_at[str(row["id"])] = started
            run.stored_at[str(row["id"])] = time.monotonic()
            run.order[conversation].append(str(row["id"]))
            run.append_ms.append((time.monotonic() - started) * 1000)
        next_at += 1.0


async def _escalate(api: _Api, run: _Run, conversation: str) -> None:
    started = time.monotonic()
    run.escalated_at[conversation] = started
    try:
        await api.call(
            "add_conversation_message",
            conversation_id=conversation,
            role="ai",
            text="Let me get a teammate involved.",
            confidence=30,
            tool_calls=[{"name": "escalate", "arguments": {"reason": "bench"}}],
        )
    except aiohttp.ClientError:
        run.escalated_at.pop(conversation, None)
        run.errors += 1
    else:
        run.escalation_stored_at[conversation] = time.monotonic()


def _listen(url: str, anon_key: str, token: str, pipe: Connection) -> None:
    """The dashboard, in a process of its own so the senders' work never delays a receive
    timestamp (CLOCK_MONOTONIC is shared by every process)."""

    async def listen() -> None:
        heard: list[tuple[str, dict[str, Any], float]] = []
        client = await acreate_client(url, anon_key)
        await client.realtime.set_auth(token)
        channel = client.channel(
            f"workspace:{WORKSPACE}",
            RealtimeChannelOptions(config={"broadcast": None, "presence": None, "private": True}),
        )

        def record(event: str) -> Callable[[Any], None]:
            return lambda message: heard.append((event, message["payload"], time.monotonic()))

        for event in ("conversation.signal", "ticket.created"):
            channel.on_broadcast(event, record(event))
        joined = asyncio.Event()
        await channel.subscribe(lambda _state, _error: joined.set())
        await asyncio.wait_for(joined.wait(), timeout=15)
        pipe.send("ready")
        while not pipe.poll():
            await asyncio.sleep(0.05)
        await client.remove_all_channels()
        pipe.send(heard)

    asyncio.run(listen())


async def _loop_lag(lags: list[float], stop: asyncio.Event) -> None:
    """How late this process's event loop wakes up (its own load inflates send timestamps)."""
    while not stop.is_set():
        before = time.monotonic()
        await asyncio.sleep(0.01)
        lags.append((time.monotonic() - before - 0.01) * 1000)


async def _send(
    settings: Settings, stack: ScratchStack, run: _Run, count: int, seconds: float, escalations: int
) -> None:
    async with load_session(64, timeout=30) as http:
        api = _Api(http, stack.url, settings.service_role_key)
        conversations = await asyncio.gather(*(_conversation(api, run) for _ in range(count)))
        stop = asyncio.Event()
        lagging = asyncio.create_task(_loop_lag(run.loop_lag, stop))
        rng = random.Random(8)
        until = time.monotonic() + seconds
        talks = [_talk(api, run, c, until, random.Random(rng.random())) for c in conversations]
        escalating = conversations[:escalations]

        async def escalate_later() -> None:
            for conversation in escalating:
                await asyncio.sleep(seconds / (len(escalating) + 1))
                await _escalate(api, run, conversation)

        await asyncio.gather(*talks, escalate_later())
        stop.set()
        await lagging


def _measure(
    settings: Settings,
    stack: ScratchStack,
    count: int,
    seconds: float,
    escalations: int,
    cpu: CpuMeter,
) -> _Run:
    run = _Run()
    now = int(time.time())
    token = TokenService(settings).sign(
        {
            "sub": TEAMMATE,
            "role": "authenticated",
            "aud": "authenticated",
            "iat": now,
            "exp": now + 3600,
        }
    )
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    listener = context.Process(
        target=_listen, args=(stack.url, settings.anon_key, token, theirs), daemon=True
    )
    listener.start()
    try:
        if not ours.poll(30):
            raise RuntimeError("the dashboard listener did not subscribe within 30 s")
        ours.recv()
        cpu.start()
        asyncio.run(_send(settings, stack, run, count, seconds, escalations))
        time.sleep(5)  # the last updates and tickets arrive
        cpu.stop()
        ours.send("stop")
        heard = ours.recv() if ours.poll(30) else []
    finally:
        listener.join(timeout=10)
        if listener.is_alive():
            listener.kill()
    for event, payload, at in heard:
        if event == "conversation.signal":
            run.heard(payload, at)
        else:
            run.ticket(payload, at)
    return run


def _table(
    out: Console, run: _Run, count: int, seconds: float, escalation: str | None, cpu: CpuMeter
) -> None:
    sent = len(run.sent_at)
    p50, p95, p99 = percentiles(run.latencies, 50, 95, 99)
    a50, a95 = percentiles(run.append_ms, 50, 95)
    table = Table(
        title=f"{count} live conversations, 1 message/s each, {seconds:g} s", show_header=False
    )
    table.add_row("customer messages sent", f"{sent} ({sent / seconds:.0f}/s, {run.errors} errors)")
    table.add_row("add_conversation_message p50 / p95", f"{a50:.0f} / {a95:.0f} ms")
    (l95,) = percentiles(run.loop_lag, 95)
    lmax = max(run.loop_lag, default=float("nan"))
    table.add_row("senders' event loop lag p95 / max", f"{l95:.0f} / {lmax:.0f} ms")
    table.add_row("mood updates received", f"{run.updates} (≤ 2/s per conversation)")
    table.add_row("message → mood update p50 / p95 / p99", f"{p50:.0f} / {p95:.0f} / {p99:.0f} ms")
    s50, s95 = percentiles(run.after_store, 50, 95)
    table.add_row("message stored → mood update p50 / p95", f"{s50:.0f} / {s95:.0f} ms")
    table.add_row("messages without an update", str(sent - len(run.latencies)))
    if escalation is None:
        e50, e95 = percentiles(run.ticket_latencies, 50, 95)
        missing = len(run.escalated_at)
        table.add_row(
            "escalation sent → ticket.created p50 / p95",
            f"{e50:.0f} / {e95:.0f} ms ({len(run.ticket_latencies)} tickets, {missing} missing)",
        )
        t50, t95 = percentiles(run.ticket_after_store, 50, 95)
        table.add_row("escalation stored → ticket.created p50 / p95", f"{t50:.0f} / {t95:.0f} ms")
    else:
        table.add_row("escalation → ticket.created", f"unavailable: {escalation}")
    per_message = ", ".join(
        f"{name} {used * 1000 / max(sent, 1):.2f}" for name, used in cpu.used.items()
    )
    table.add_row("server CPU ms per customer message", per_message)
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    table.add_row("load average (1 / 5 / 15 min)", load)
    out.print(table)


def run_conversations_benchmark(
    settings: Settings,
    out: Console,
    conversations: int = 200,
    seconds: float = 30.0,
    escalations: int = 20,
) -> None:
    """Measure on scratch servers (never the developer's own), then delete them."""
    from workers import REGISTRY

    names = ["sentiment"]
    escalation: str | None = None
    if ESCALATION_WORKER in REGISTRY:
        names.append(ESCALATION_WORKER)
    else:
        escalation = "this build has no escalation worker"
        escalations = 0
    out.print(f"starting scratch servers and workers ({', '.join(names)})…")
    with (
        scratch_stack(
            settings, "conversations", extra_conf=FAST_CONF, prepare=_prepare(settings)
        ) as stack,
        _workers(stack, names) as worker_pids,
    ):
        time.sleep(2)  # the workers subscribe to their doorbells
        out.print(f"{conversations} conversations for {seconds:g} s…")
        cpu = CpuMeter(
            lambda: {
                "gateway": [stack.process.pid],
                "workers": worker_pids,
                # Found again when the run ends: backends opened during it count too.
                "postgres": [p.pid for p in tree(stack.cluster.running_pid(), processes())],
            }
        )
        run = _measure(settings, stack, conversations, seconds, escalations, cpu)
    _table(out, run, conversations, seconds, escalation, cpu)
