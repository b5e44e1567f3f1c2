"""`halo bench realtime`: commit-to-delivery latency, fan-out throughput and memory of Realtime.

Everything runs on scratch servers on free ports: a PostgreSQL cluster with the bootstrap and one
bench table, and the gateway as its own process (so its memory is measured alone). Subscribers are
raw WebSocket clients speaking the V1 protocol, as realtime-py does, all in this process: their
own receive work is part of the latencies measured, which therefore overstate the server's share.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import ClientConnection, connect

from halo_supabase.bench.cpu import cpu_seconds
from halo_supabase.bench.scratch import ScratchStack, scratch_stack
from halo_supabase.bench.stats import percentiles
from halo_supabase.local.gateway.credentials import TokenService
from halo_supabase.settings import Settings
from halo_supabase.sql_files import load_script

__all__ = ["run_realtime_benchmark"]

TOPIC = "realtime:bench"
BINDING = {"event": "INSERT", "schema": "bench_rt", "table": "items"}
# No fsync (durability is not measured), but synchronous_commit stays on: logical decoding only
# sees WAL that was flushed, so asynchronous commit would add up to wal_writer_delay (200 ms).
FAST_CONF = {"fsync": "off", "full_page_writes": "off"}


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Subscriber:
    """One WebSocket joined to the bench topic; it only timestamps frames (parsing comes later)."""

    ws: ClientConnection
    frames: list[tuple[float, str]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    async def read(self) -> None:
        async for message in self.ws:
            self.frames.append((time.perf_counter(), str(message)))


class Bench:
    WARM_UP_CYCLES = 3000

    def __init__(self, settings: Settings, out: Console, stack: ScratchStack) -> None:
        self.settings = settings
        self.out = out
        self.cluster = stack.cluster
        self.gateway = stack.process
        self.token = TokenService(settings).sign(
            {"sub": "00000000-0000-0000-0000-00000000b0b0", "role": "authenticated", "exp": 2**31}
        )
        ws_base = stack.url.replace("http://", "ws://", 1)
        self.ws_url = f"{ws_base}/realtime/v1/websocket?apikey={settings.anon_key}&vsn=1.0.0"

    @property
    def gateway_rss(self) -> int:
        return _rss_kib(self.gateway.pid)

    # -- clients ------------------------------------------------------------------------------

    async def _join(self, config: dict[str, Any], topic: str = TOPIC) -> ClientConnection:
        ws = await connect(self.ws_url, max_size=None, ping_interval=None)
        payload = {"config": config, "access_token": self.token}
        await ws.send(
            json.dumps(
                {
                    "topic": topic,
                    "event": "phx_join",
                    "payload": payload,
                    "ref": "1",
                    "join_ref": "1",
                }
            )
        )
        reply = json.loads(await ws.recv())
        if reply.get("payload", {}).get("status") != "ok":
            raise RuntimeError(f"join failed: {reply}")
        return ws

    async def subscribe(self, count: int) -> list[Subscriber]:
        config = {"broadcast": {"self": False}, "postgres_changes": [BINDING]}
        subscribers: list[Subscriber] = []
        for start in range(0, count, 100):
            sockets = await asyncio.gather(
                *(self._join(config) for _ in range(min(100, count - start)))
            )
            subscribers.extend(Subscriber(ws) for ws in sockets)
        for subscriber in subscribers:
            subscriber.task = asyncio.create_task(subscriber.read())
        await asyncio.sleep(0.5)  # let "Subscribed to PostgreSQL" and other join pushes land
        return subscribers

    @staticmethod
    async def close(subscribers: list[Subscriber]) -> None:
        for subscriber in subscribers:
            if subscriber.task is not None:
                subscriber.task.cancel()
        await asyncio.gather(*(s.ws.close() for s in subscribers), return_exceptions=True)

    # -- measurements -------------------------------------------------------------------------

    async def latency(
        self,
        conn: Any,
        subscribers: list[Subscriber],
        statement: str,
        marker: str,
        seq_of: Callable[[dict[str, Any]], int],
        messages: int = 60,
    ) -> tuple[list[float], int]:
        """Commit `messages` rows, paced so that deliveries stay near 10,000/s (a load the gateway
        sustains, as in Supabase's own benchmark); latency of each delivery after its commit."""
        for subscriber in subscribers:
            subscriber.frames.clear()
        committed: dict[int, float] = {}
        pause = max(0.02, len(subscribers) / 10_000)
        for seq in range(messages):
            await conn.execute(statement, seq)
            committed[seq] = time.perf_counter()
            await asyncio.sleep(pause)
        expected = messages * len(subscribers)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = sum(1 for s in subscribers for _, f in s.frames if marker in f)
            if got >= expected:
                break
            await asyncio.sleep(0.05)
        samples: list[float] = []
        for subscriber in subscribers:
            for received, frame in subscriber.frames:
                if marker in frame:
                    seq = seq_of(json.loads(frame)["payload"])
                    samples.append((received - committed[seq]) * 1000)
        return samples, expected - len(samples)

    @property
    def gateway_cpu(self) -> float:
        """CPU seconds the gateway process has used (user + system)."""
        return cpu_seconds(self.gateway.pid)

    async def fan_out(self, subscribers: list[Subscriber]) -> tuple[float, float, int]:
        """One client broadcasts as fast as it can: deliveries per second of wall time, gateway
        CPU microseconds per delivery (what the rate would be on an idle core), and losses."""
        for subscriber in subscribers:
            subscriber.frames.clear()
        count = max(50, 20_000 // len(subscribers))
        sender = await self._join({"broadcast": {"self": False}})
        frame: dict[str, Any] = {"topic": TOPIC, "event": "broadcast", "ref": None, "join_ref": "1"}
        cpu = self.gateway_cpu
        began = time.perf_counter()
        for n in range(count):
            frame["payload"] = {"type": "broadcast", "event": "fan", "payload": {"n": n}}
            await sender.send(json.dumps(frame))
        expected = count * len(subscribers)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sum(len(s.frames) for s in subscribers) >= expected:
                break
            await asyncio.sleep(0.01)
        last = max((s.frames[-1][0] for s in subscribers if s.frames), default=began)
        delivered = sum(len(s.frames) for s in subscribers)
        cpu_per_delivery = (self.gateway_cpu - cpu) / max(delivered, 1) * 1e6
        await sender.close()
        return delivered / max(last - began, 1e-9), cpu_per_delivery, expected - delivered

    async def churn(self, cycles: int, concurrency: int = 50) -> tuple[int, int]:
        """RSS after a warm-up and after `cycles` connect/join/track/disconnect cycles."""

        async def cycle(slot: int) -> None:
            # One topic per concurrent slot: each cycle reads its own replies and nothing else, so
            # the client never stalls on unread frames and every close is clean.
            topic = f"realtime:churn-{slot}"
            ws = await self._join({"presence": {"key": "", "enabled": True}}, topic)
            track = {"event": "track", "payload": {"u": slot}}
            await ws.send(
                json.dumps(
                    {
                        "topic": topic,
                        "event": "presence",
                        "ref": "2",
                        "join_ref": "1",
                        "payload": track,
                    }
                )
            )
            while json.loads(await ws.recv()).get("ref") != "2":
                pass
            await ws.close()

        async def run(total: int) -> None:
            for _ in range(0, total, concurrency):
                await asyncio.gather(*(cycle(slot) for slot in range(concurrency)))

        # The allocator's high-water mark settles after a few thousand cycles; growth is measured
        # from there, so it shows leaks rather than arena warm-up.
        await run(self.WARM_UP_CYCLES)
        await asyncio.sleep(1)
        before = self.gateway_rss
        await run(cycles)
        await asyncio.sleep(1)
        return before, self.gateway_rss


def _seq_of_broadcast(payload: dict[str, Any]) -> int:
    return int(payload["payload"]["seq"])


def _seq_of_change(payload: dict[str, Any]) -> int:
    return int(payload["data"]["record"]["seq"])


async def _measure(bench: Bench, sizes: Sequence[int], cycles: int) -> None:
    conn = await asyncpg.connect(bench.cluster.url())
    await conn.execute(load_script("halo_supabase.bench", "realtime_bench.sql"))
    table = Table(title="Realtime on the embedded gateway (V1 clients, one topic)")
    for column in (
        "subscribers",
        "DB broadcast p50/p95/p99 ms",
        "postgres_changes p50/p95/p99 ms",
        "broadcast fan-out deliveries/s",
        "gateway CPU µs per delivery",
        "gateway memory per connection",
        "lost",
    ):
        table.add_column(column, justify="right")
    for size in sizes:
        before = bench.gateway_rss
        subscribers = await bench.subscribe(size)
        per_connection = (bench.gateway_rss - before) / size
        send = "select realtime.send(jsonb_build_object('seq', $1::int), 'tick', 'bench', false)"
        db, db_lost = await bench.latency(
            conn, subscribers, send, '"event":"tick"', _seq_of_broadcast
        )
        insert = "insert into bench_rt.items (seq) values ($1)"
        changes, changes_lost = await bench.latency(
            conn, subscribers, insert, '"postgres_changes"', _seq_of_change
        )
        rate, cpu_per_delivery, fan_lost = await bench.fan_out(subscribers)
        await bench.close(subscribers)
        table.add_row(
            str(size),
            "{:.1f} / {:.1f} / {:.1f}".format(*percentiles(db, 50, 95, 99)),
            "{:.1f} / {:.1f} / {:.1f}".format(*percentiles(changes, 50, 95, 99)),
            f"{rate:,.0f}",
            f"{cpu_per_delivery:.1f}",
            f"{per_connection:.0f} KiB" if size >= 100 else "-",
            str(db_lost + changes_lost + fan_lost),
        )
        bench.out.print(f"[dim]{size} subscribers measured[/dim]")
        await asyncio.sleep(1)
    await conn.close()
    bench.out.print(table)
    bench.out.print(
        f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    before, after = await bench.churn(cycles)
    bench.out.print(
        f"gateway RSS after {bench.WARM_UP_CYCLES:,} warm-up cycles: {before / 1024:.1f} MiB; after {cycles:,} more "
        f"connect/join/track/disconnect cycles: {after / 1024:.1f} MiB "
        f"(growth {(after - before) / 1024:+.1f} MiB)"
    )


def run_realtime_benchmark(
    settings: Settings, out: Console, sizes: Sequence[int] = (1, 100, 1000), cycles: int = 10_000
) -> None:
    """Measure on scratch servers (never the developer's own), then delete them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Each subscriber costs a socket here and one in the gateway (which inherits the limit).
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    with scratch_stack(settings, "realtime", extra_conf=FAST_CONF) as stack:
        asyncio.run(_measure(Bench(settings, out, stack), sizes, cycles))
