"""`halo bench ingest`: signed Mailgun webhooks → tickets → `ticket.created` broadcasts, end to end.

Scratch servers on free ports (never the developer's own): a PostgreSQL cluster (fsync off,
synchronous_commit on, since Realtime reads only flushed WAL) with every migration and the seed,
the gateway serving the project's `inbound-email` function with a bench signing key, and one
`halo worker email-inbound` process. The bench process posts webhooks through the real edge
function and listens on the private `workspace:<id>` topic as the service role.

Two runs: **throughput** (N webhooks from `concurrency` senders as fast as they are accepted) and
**latency** (a paced stream at `rate` emails/s). Latency is webhook accepted (the 2xx) →
`ticket.created` received, matched through the delivery id the function returns and the ticket it
became. Lost = accepted deliveries without a ticket; duplicated = messages beyond one per email.
Each run also prints the CPU time every component spent per email (from /proc): on a machine
shared with other work that figure moves far less than the wall-clock ones.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import psycopg
from realtime import RealtimeChannelOptions
from rich.console import Console
from rich.table import Table

from halo_supabase.bench.cpu import CpuMeter, processes, tree
from halo_supabase.bench.load import load_session
from halo_supabase.local.bootstrap import apply_bootstrap
from halo_supabase.local.migrations import apply_migrations, apply_seed
from halo_supabase.local.ports import free_port
from halo_supabase.local.postgres import LocalCluster, find_binaries
from halo_supabase.settings import Settings
from supabase import acreate_client

__all__ = ["run_ingest_benchmark"]

WORKSPACE = "b0000000-0000-4000-8000-000000000001"  # the seed's Acme Support
ADDRESS = "support@acme.test"
FAST_CONF = {"fsync": "off", "full_page_writes": "off"}


@dataclass
class Run:
    accepted_at: dict[str, float] = field(default_factory=dict)  # delivery id → 2xx time
    heard_at: dict[str, float] = field(default_factory=dict)  # ticket id → broadcast time
    refused: int = 0
    started: float = 0.0
    sent_done: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # component → CPU seconds in the run


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.state_dir / "bench-ingest"
        self.cluster = LocalCluster(
            self.home / "db",
            free_port(),
            find_binaries(settings.postgres_binaries),
            os_user=settings.db_os_user,
            extra_conf=FAST_CONF,
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.signing_key = secrets.token_hex(16)
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, worker_concurrency: int) -> None:
        self.cluster.destroy()
        self.cluster.start()
        db = self.cluster.url()
        apply_bootstrap(db)
        apply_migrations(db, self.settings.supabase_dir / "migrations")
        apply_seed(db, self.settings.supabase_dir / "seed.sql")
        functions = self.home / "project" / "supabase" / "functions"
        functions.mkdir(parents=True, exist_ok=True)
        for name in ("inbound-email", "_shared"):
            link = functions / name
            if not link.exists():
                link.symlink_to(self.settings.supabase_dir / "functions" / name)
        (functions / ".env").write_text(f"MAILGUN_WEBHOOK_SIGNING_KEY={self.signing_key}\n")
        (functions.parent / "config.toml").write_text(
            (self.settings.supabase_dir / "config.toml").read_text()
        )
        env = {
            **os.environ,
            "HALO_HOME": str(self.home),
            "HALO_DB_PORT": str(self.cluster.port),
            "HALO_API_PORT": str(self.port),
            "HALO_PROJECT_DIR": str(self.settings.project_dir.resolve()),
            "HALO_FUNCTIONS_DIR": str(functions),
            "DENO_DIR": str(self.settings.state_dir / "deno"),
            "HALO_LOG_LEVEL": "WARNING",
            "HALO_WORKER_CONCURRENCY": str(worker_concurrency),
            "HALO_WORKER_BATCH": str(worker_concurrency * 2),
            "HALO_WORKER_POLL_SECONDS": "1",
        }
        self.home.mkdir(parents=True, exist_ok=True)
        for name, command in (("gateway", ["gateway", "serve"]),):
            self._spawn(name, command, env)
        self._wait_healthy()
        self._spawn("worker", ["worker", "email-inbound"], env)

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        with (self.home / f"{name}.log").open("ab") as log:
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "halo_supabase.cli", *command],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the bench gateway did not start; see {self.home / 'gateway.log'}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.cluster.destroy()

    def fields(self, n: int, tag: str) -> dict[str, str]:
        timestamp, token = str(int(time.time())), secrets.token_hex(25)
        signature = hmac.new(
            self.signing_key.encode(), (timestamp + token).encode(), hashlib.sha256
        ).hexdigest()
        raw = (
            f"From: Customer {n} <c{n}.{tag}@customer.example>\r\nTo: {ADDRESS}\r\n"
            f"Subject: Order {n} has not arrived\r\n"
            f"Message-ID: <{tag}.{n}.{uuid.uuid4().hex}@customer.example>\r\n"
            "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"\r\nHello, my order {n} has not arrived yet. Can you check it?\r\n"
        )
        return {
            "recipient": ADDRESS,
            "timestamp": timestamp,
            "token": token,
            "signature": signature,
            "body-mime": raw,
        }


def _components(stack: Stack) -> CpuMeter:
    """PostgreSQL, the gateway, its Deno workers, the email worker and this bench, by process."""

    def groups() -> dict[str, list[int]]:
        table = processes()
        gateway, worker = (process.pid for process in stack.processes)
        served = tree(gateway, table)
        return {
            "postgres": [p.pid for p in tree(stack.cluster.running_pid(), table)],
            "gateway": [p.pid for p in served if "deno" not in p.command],
            "deno": [p.pid for p in served if "deno" in p.command],
            "worker": [p.pid for p in tree(worker, table)],
            "bench": [os.getpid()],
        }

    return CpuMeter(groups)


def _percentiles(values: Sequence[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0],) * 3 if values else (float("nan"),) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


async def _listen(stack: Stack, run_ref: list[Run]) -> Any:
    client = await acreate_client(stack.url, stack.settings.service_role_key)
    channel = client.channel(
        f"workspace:{WORKSPACE}",
        RealtimeChannelOptions(config={"broadcast": None, "presence": None, "private": True}),
    )

    def heard(message: Any) -> None:
        ticket = message.get("payload", {}).get("ticket_id")
        if ticket:
            run_ref[0].heard_at.setdefault(str(ticket), time.monotonic())

    channel.on_broadcast("ticket.created", heard)
    await channel.subscribe()
    return client


async def _post(http: aiohttp.ClientSession, stack: Stack, run: Run, n: int, tag: str) -> None:
    for _ in range(20):  # a provider retries what was not accepted
        try:
            async with http.post(
                f"{stack.url}/functions/v1/inbound-email/mailgun", data=stack.fields(n, tag)
            ) as response:
                if response.status == 200:
                    run.accepted_at[(await response.json())["id"]] = time.monotonic()
                    return
        except (aiohttp.ClientError, TimeoutError):
            await asyncio.sleep(0.5)
            continue
        run.refused += 1
        await asyncio.sleep(0.5)


async def _throughput(stack: Stack, run: Run, count: int, concurrency: int) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    async with load_session(concurrency, timeout=120) as http:

        async def sender() -> None:
            while not queue.empty():
                await _post(http, stack, run, queue.get_nowait(), "t")

        run.started = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        run.sent_done = time.monotonic()


async def _paced(stack: Stack, run: Run, count: int, rate: float) -> None:
    async with load_session(100, timeout=120) as http:
        run.started = time.monotonic()
        tasks = []
        for n in range(count):
            delay = run.started + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_post(http, stack, run, n, "p")))
        await asyncio.gather(*tasks)
        run.sent_done = time.monotonic()


async def _settle(stack: Stack, run: Run, timeout: float) -> dict[str, str]:
    """Wait until every accepted delivery is applied and its broadcast heard; delivery → ticket."""
    deadline = time.monotonic() + timeout
    ids = list(run.accepted_at)
    mapping: dict[str, str] = {}
    while time.monotonic() < deadline:
        with psycopg.connect(stack.cluster.url()) as conn:
            rows = conn.execute(
                "select id::text, ticket_id::text from halo.inbound_emails"
                " where id = any(%s::uuid[]) and state <> 'received'",
                (ids,),
            ).fetchall()
        mapping = {r[0]: r[1] for r in rows if r[1]}
        if len(rows) == len(ids) and all(t in run.heard_at for t in mapping.values()):
            break
        await asyncio.sleep(0.5)
    return mapping


def _report(out: Console, name: str, run: Run, mapping: dict[str, str], db_url: str) -> None:
    accepted = len(run.accepted_at)
    latencies = [
        (run.heard_at[ticket] - run.accepted_at[delivery]) * 1000
        for delivery, ticket in mapping.items()
        if ticket in run.heard_at
    ]
    last = max(run.heard_at.values(), default=run.sent_done)
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select count(*), count(distinct email_message_id) from halo.messages m"
            " join halo.inbound_emails i on i.message_id = m.id where i.id = any(%s::uuid[])",
            (list(run.accepted_at),),
        ).fetchone()
    messages, distinct = row if row else (0, 0)
    p50, p95, p99 = _percentiles(latencies)
    table = Table(title=name, show_header=False)
    table.add_row("webhooks accepted", f"{accepted} ({run.refused} refused and retried)")
    table.add_row("accepted/s", f"{accepted / max(run.sent_done - run.started, 1e-9):.1f}")
    table.add_row("tickets/s (end to end)", f"{len(latencies) / max(last - run.started, 1e-9):.1f}")
    table.add_row("accepted → broadcast p50 / p95 / p99", f"{p50:.0f} / {p95:.0f} / {p99:.0f} ms")
    table.add_row("lost (accepted, no ticket)", str(accepted - len(mapping)))
    table.add_row("duplicated messages", str(messages - distinct))
    per_email = {name: seconds * 1000 / max(accepted, 1) for name, seconds in run.cpu.items()}
    table.add_row(
        "CPU ms per email",
        " · ".join(f"{name} {ms:.1f}" for name, ms in per_email.items())
        + f" · total {sum(per_email.values()):.1f}",
    )
    table.add_row("load average (1 min)", f"{os.getloadavg()[0]:.2f}")
    out.print(table)


async def _measure(
    stack: Stack, out: Console, count: int, concurrency: int, rate: float, paced: int
) -> None:
    run_ref = [Run()]
    client = await _listen(stack, run_ref)
    try:
        out.print(f"throughput: {count} webhooks, {concurrency} concurrent senders…")
        meter = _components(stack)
        meter.start()
        await _throughput(stack, run_ref[0], count, concurrency)
        mapping = await _settle(stack, run_ref[0], timeout=600)
        run_ref[0].cpu = meter.stop()
        _report(out, "throughput", run_ref[0], mapping, stack.cluster.url())
        run_ref[0] = Run()
        out.print(f"latency: {paced} webhooks paced at {rate:g}/s…")
        meter.start()
        await _paced(stack, run_ref[0], paced, rate)
        mapping = await _settle(stack, run_ref[0], timeout=300)
        run_ref[0].cpu = meter.stop()
        _report(out, f"latency at {rate:g} emails/s", run_ref[0], mapping, stack.cluster.url())
    finally:
        await client.remove_all_channels()


def run_ingest_benchmark(
    settings: Settings,
    out: Console,
    count: int = 10_000,
    concurrency: int = 32,
    rate: float = 50.0,
    paced: int = 500,
    worker_concurrency: int = 32,
) -> None:
    """Measure on scratch servers (never the developer's own), then delete them."""
    stack = Stack(settings)
    try:
        stack.start(worker_concurrency)
        asyncio.run(_measure(stack, out, count, concurrency, rate, paced))
    finally:
        stack.stop()
