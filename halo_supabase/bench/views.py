"""`halo bench views`: latency of the inbox views on a `halo seed` volume, in SQL and over REST.

Runs against a database seeded with `halo seed` and the gateway in front of it (`halo up`), as a
member with Inbox: Manage of the biggest workspace: every call goes through RLS, in SQL (role
and JWT claims set as PostgREST sets them) and through `/rest/v1/rpc` with a real JWT.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from rich.console import Console
from rich.table import Table

from halo_supabase.errors import HaloError
from halo_supabase.local.gateway.credentials import TokenService
from halo_supabase.settings import Settings

__all__ = ["run_views_benchmark"]

BUILTIN = [
    "all",
    "agent_requests",
    "sales",
    "assigned_to_me",
    "mentions",
    "open",
    "priority",
    "in_progress",
    "snoozed",
    "resolved",
    "ai_resolved",
    "spam",
]
THREE_CONDITIONS = {
    "op": "and",
    "children": [
        {"field": "status", "cmp": "in", "value": ["open", "priority", "in_progress"]},
        {"field": "channel", "cmp": "eq", "value": "email"},
        {"field": "last_activity", "cmp": "within_last", "value": "30d"},
    ],
}


@dataclass(frozen=True)
class Scenario:
    name: str
    function: str
    args: dict[str, Any]
    goal_ms: float


@dataclass(frozen=True)
class Member:
    workspace_id: str
    user_id: str
    tickets: int


def _member(db_url: str) -> Member:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select t.workspace_id::text, m.user_id::text, count(*)"
            " from halo.tickets t join halo.members m on m.workspace_id = t.workspace_id"
            " and m.role = 'member' and m.inbox_permission = 'manage'"
            " group by 1, 2 order by 3 desc limit 1"
        ).fetchone()
    if row is None:
        raise HaloError("no seeded workspace found; run `halo seed --tickets 1000000` first")
    return Member(str(row[0]), str(row[1]), int(row[2]))


def _scenarios(db_url: str, member: Member, claims: str) -> list[Scenario]:
    with psycopg.connect(db_url) as conn:
        conn.execute("set role authenticated")
        conn.execute("select set_config('request.jwt.claims', %s, false)", (claims,))
        last = conn.execute(
            "select last_activity_at::text, id::text from api.list_tickets(%s, 'all')"
            " order by last_activity_at, id limit 1",
            (member.workspace_id,),
        ).fetchone()
        name = conn.execute(
            "select c.name from api.list_tickets(%s, 'all', p_limit => 1) t"
            " join halo.contacts c on c.id = t.contact_id",
            (member.workspace_id,),
        ).fetchone()
    assert last is not None and name is not None
    w = {"p_workspace_id": member.workspace_id}
    scenarios = [
        Scenario(f"first page: {view}", "list_tickets", {**w, "p_view": view}, 20)
        for view in BUILTIN
    ]
    return [
        *scenarios,
        Scenario("inbox_counts()", "inbox_counts", w, 50),
        Scenario("unread_counts() (12 views x 100 tickets)", "unread_counts", w, 100),
        Scenario(
            "filter: 3 conditions",
            "list_tickets",
            {**w, "p_view": "everything", "p_filter": THREE_CONDITIONS},
            50,
        ),
        Scenario(
            f"search: a customer ({name[0]})",
            "list_tickets",
            {**w, "p_view": "everything", "p_search": name[0]},
            100,
        ),
        Scenario(
            "search: 'screenshot' (in 1/8 of messages)",
            "list_tickets",
            {**w, "p_view": "everything", "p_search": "screenshot"},
            100,
        ),
        Scenario(
            "next page (keyset) of All",
            "list_tickets",
            {**w, "p_view": "all", "p_after_value": last[0], "p_after_id": last[1]},
            20,
        ),
    ]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def _time(call: Callable[[], object], rounds: int) -> tuple[float, float]:
    for _ in range(3):
        call()
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return _percentiles(samples)


def run_views_benchmark(
    settings: Settings, db_url: str, api_url: str, rounds: int, out: Console
) -> None:
    """Measure every scenario `rounds` times in SQL and over REST; print p50/p95 in ms."""
    member = _member(db_url)
    claims = json.dumps({"sub": member.user_id, "role": "authenticated", "aud": "authenticated"})
    token = TokenService(settings).sign(
        {**json.loads(claims), "exp": int(time.time()) + 3600, "iat": int(time.time())}
    )
    scenarios = _scenarios(db_url, member, claims)
    headers = {
        "apikey": settings.anon_key,
        "Authorization": f"Bearer {token}",
        "Content-Profile": "api",
        "Accept-Profile": "api",
    }
    table = Table(
        title=f"halo bench views — workspace with {member.tickets:,} tickets, {rounds} rounds"
    )
    for column in ("scenario", "SQL p50", "SQL p95", "REST p50", "REST p95", "goal p95"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    with (
        psycopg.connect(db_url, autocommit=True) as conn,
        httpx.Client(base_url=api_url, headers=headers, timeout=60, trust_env=False) as http,
    ):
        for scenario in scenarios:
            sql = (
                f"select count(*) from api.{scenario.function}("
                + ", ".join(f"{name} => %({name})s" for name in scenario.args)
                + ")"
            )
            params = {
                k: json.dumps(v) if isinstance(v, dict) else v for k, v in scenario.args.items()
            }

            def in_sql(sql: str = sql, params: dict[str, Any] = params) -> None:
                with conn.transaction(force_rollback=True):
                    conn.execute("set local statement_timeout = '5s'")
                    conn.execute("set local role authenticated")
                    conn.execute("select set_config('request.jwt.claims', %s, true)", (claims,))
                    conn.execute(sql, params).fetchall()

            def over_rest(scenario: Scenario = scenario) -> None:
                response = http.post(f"/rest/v1/rpc/{scenario.function}", json=scenario.args)
                if response.status_code != 200:
                    raise HaloError(
                        f"{scenario.name}: HTTP {response.status_code} {response.text[:300]}"
                    )

            try:
                sql_p50, sql_p95 = _time(in_sql, rounds)
                rest_p50, rest_p95 = _time(over_rest, rounds)
            except (psycopg.Error, HaloError) as exc:
                # A query over the statement timeout is a result, not a crash of the benchmark.
                table.add_row(scenario.name, "timeout", "", "", "", f"≤ {scenario.goal_ms:.0f}")
                out.print(f"  {scenario.name}: {str(exc).splitlines()[0][:120]}")
                continue
            mark = "" if rest_p95 <= scenario.goal_ms else " ✗"
            table.add_row(
                scenario.name,
                f"{sql_p50:.1f}",
                f"{sql_p95:.1f}",
                f"{rest_p50:.1f}",
                f"{rest_p95:.1f}{mark}",
                f"≤ {scenario.goal_ms:.0f}",
            )
            out.print(f"  {scenario.name}: REST p95 {rest_p95:.1f} ms")
    out.print(table)
