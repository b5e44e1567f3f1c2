"""`halo bench rest`: requests/s and latency of /rest/v1 against the same queries sent directly.

Runs on a scratch cluster and a gateway process on free ports (never the developer's stack). The
load generator is a minimal keep-alive HTTP/1.1 client over asyncio streams, so the numbers
measure the gateway rather than an HTTP client library. The direct column sends each query over
one open connection per client, with psycopg 3 (the default; the faster of the two here) or
asyncpg (`--direct asyncpg`, the gateway's own driver).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import psycopg
from rich.console import Console
from rich.table import Table

from halo_supabase.bench.scratch import scratch_stack
from halo_supabase.bench.stats import percentiles
from halo_supabase.local.postgres import LocalCluster
from halo_supabase.settings import LOCAL_ANON_KEY, Settings
from halo_supabase.sql_files import load_script

__all__ = ["run_rest_benchmark"]


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: Callable[[int], str]
    body: Callable[[int], bytes]
    sql: str
    args: Callable[[int], tuple[object, ...]]


SCENARIOS = (
    Scenario(
        "GET one row",
        "GET",
        lambda i: f"/rest/v1/posts?select=*&id=eq.{1 + i % 10000}",
        lambda i: b"",
        "select coalesce(json_agg(t), '[]')::text from (select * from bench.posts where id = $1) t",
        lambda i: (1 + i % 10000,),
    ),
    Scenario(
        "GET with embed",
        "GET",
        lambda i: f"/rest/v1/posts?select=id,title,author:authors(name)&id=eq.{1 + i % 10000}",
        lambda i: b"",
        "select coalesce(json_agg(t), '[]')::text from (select p.id, p.title, (select row_to_json(a) from "
        "(select name from bench.authors where id = p.author_id) a) as author from bench.posts p where p.id = $1) t",
        lambda i: (1 + i % 10000,),
    ),
    Scenario(
        "POST one row",
        "POST",
        lambda i: "/rest/v1/posts",
        lambda i: b'{"author_id": %d, "title": "bench"}' % (1 + i % 100),
        "with w as (insert into bench.posts (author_id, title) values ($1, 'bench') returning *) "
        "select coalesce(json_agg(w), '[]')::text from w",
        lambda i: (1 + i % 100,),
    ),
    Scenario(
        "RPC",
        "POST",
        lambda i: "/rest/v1/rpc/add",
        lambda i: b'{"a": %d, "b": 2}' % i,
        "select to_json(bench.add($1, 2))::text",
        lambda i: (i,),
    ),
)


class _Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads the whole response."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    async def request(self, method: str, path: str, body: bytes) -> int:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\napikey: {LOCAL_ANON_KEY}\r\n"
            f"Authorization: Bearer {LOCAL_ANON_KEY}\r\nAccept-Profile: bench\r\nContent-Profile: bench\r\n"
            f"Prefer: return=representation\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        response = await self.reader.readuntil(b"\r\n\r\n")
        status = int(response[9:12])
        length = 0
        for line in response.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status


async def _measure(
    concurrency: int, seconds: float, one: Callable[[int], Awaitable[None]]
) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def worker() -> None:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            await one(next(counter))
            latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


class _DirectPool:
    """`concurrency` open connections of one driver; `fetch` runs a scenario's query on a free one."""

    def __init__(self, driver: str) -> None:
        self.driver = driver
        self.free: list[Any] = []

    async def open(self, db_url: str, size: int) -> None:
        for _ in range(size):
            if self.driver == "asyncpg":
                self.free.append(await asyncpg.connect(db_url))
            else:
                self.free.append(
                    await psycopg.AsyncConnection.connect(
                        db_url, autocommit=True, prepare_threshold=0
                    )
                )

    async def fetch(self, sql: str, args: tuple[object, ...]) -> None:
        conn = self.free.pop()
        try:
            if self.driver == "asyncpg":
                await conn.fetchval(sql, *args)
            else:
                await (await conn.execute(sql.replace("$1", "%s"), args)).fetchone()
        finally:
            self.free.append(conn)

    async def close(self) -> None:
        for conn in self.free:
            await conn.close()


async def _run(url: str, db_url: str, seconds: float, direct_driver: str, out: Console) -> Table:
    api_port = urlsplit(url).port
    table = Table(
        title=f"/rest/v1 vs direct SQL over {direct_driver}, {seconds:g} s per cell (2-core machine)"
    )
    for column in (
        "request",
        "clients",
        "gateway req/s",
        "p50 ms",
        "p95 ms",
        "direct req/s",
        "p50 ms",
        "p95 ms",
        "p50 overhead ms",
        "direct/gateway",
    ):
        table.add_column(column, justify="left" if column == "request" else "right")
    pool = _DirectPool(direct_driver)
    await pool.open(db_url, 16)
    try:
        for scenario in SCENARIOS:
            for concurrency in (1, 16):
                connections = []
                for _ in range(concurrency):
                    reader, writer = await asyncio.open_connection("127.0.0.1", api_port)
                    connections.append(_Connection(reader, writer, f"127.0.0.1:{api_port}"))
                free = list(connections)

                async def over_http(
                    i: int, scenario: Scenario = scenario, free: list[_Connection] = free
                ) -> None:
                    connection = free.pop()
                    try:
                        status = await connection.request(
                            scenario.method, scenario.path(i), scenario.body(i)
                        )
                    finally:
                        free.append(connection)
                    if status >= 300:
                        raise RuntimeError(f"{scenario.name}: HTTP {status}")

                async def direct(i: int, scenario: Scenario = scenario) -> None:
                    await pool.fetch(scenario.sql, scenario.args(i))

                await _measure(concurrency, min(0.5, seconds), over_http)  # warm up caches
                gateway = await _measure(concurrency, seconds, over_http)
                await _measure(concurrency, min(0.5, seconds), direct)
                plain = await _measure(concurrency, seconds, direct)
                for connection in connections:
                    connection.writer.close()
                g50, g95 = (1000 * v for v in percentiles(gateway, 50, 95))
                d50, d95 = (1000 * v for v in percentiles(plain, 50, 95))
                table.add_row(
                    scenario.name,
                    str(concurrency),
                    f"{len(gateway) / seconds:,.0f}",
                    f"{g50:.2f}",
                    f"{g95:.2f}",
                    f"{len(plain) / seconds:,.0f}",
                    f"{d50:.2f}",
                    f"{d95:.2f}",
                    f"{g50 - d50:.2f}",
                    f"{len(plain) / max(len(gateway), 1):.1f}x",
                )
                out.print(f"  measured {scenario.name} at {concurrency} client(s)", style="dim")
    finally:
        await pool.close()
    return table


def run_rest_benchmark(
    settings: Settings, seconds: float, out: Console, direct_driver: str = "psycopg"
) -> None:
    """Start a scratch cluster and gateway, measure every scenario, print the table, clean up."""

    def load_bench_schema(cluster: LocalCluster) -> None:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute(load_script("halo_supabase.bench", "rest_bench.sql"))
            conn.execute("vacuum analyze")

    env = {"HALO_API_EXTRA_SCHEMAS": "bench"}
    with scratch_stack(settings, "rest", env=env, prepare=load_bench_schema) as stack:
        table = asyncio.run(_run(stack.url, stack.db_url, seconds, direct_driver, out))
    # Wide enough for every column even when stdout is not a terminal (rich assumes 80).
    Console(file=out.file, width=150, highlight=False).print(table)
