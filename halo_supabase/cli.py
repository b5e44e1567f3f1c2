"""`halo`: run the local stack, manage its database, run benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from functools import partial, wraps
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.table import Table

from halo_supabase.errors import HaloError, LocalStackError
from halo_supabase.local.database import LocalDatabase
from halo_supabase.local.migrations import MigrationFile, apply_migrations, plan_migrations
from halo_supabase.logs import configure_logging
from halo_supabase.settings import (
    LOCAL_PUBLISHABLE_KEY,
    LOCAL_SECRET_KEY,
    Settings,
    get_settings,
)

if TYPE_CHECKING:
    from halo_supabase.jobs import JobQueue
    from halo_supabase.models import JobState

__all__ = ["main"]

console = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def _reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a HaloError into a one-paragraph message and exit status 1, without a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except HaloError as exc:
            console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
            sys.exit(1)

    return wrapper


def _database() -> LocalDatabase:
    return LocalDatabase(get_settings())


def _print_applied(migration: MigrationFile) -> None:
    console.print(f"  applied [cyan]{migration.version}[/]_{migration.name}")


def env_lines(settings: Settings, db_url: str) -> list[str]:
    """The dotenv lines a client of the local stack needs."""
    lines = [
        f"SUPABASE_URL={settings.url}",
        f"SUPABASE_ANON_KEY={settings.anon_key}",
        f"SUPABASE_SERVICE_ROLE_KEY={settings.service_role_key}",
        f"SUPABASE_DB_URL={db_url}",
    ]
    if settings.stack == "local":
        lines += [
            f"SUPABASE_PUBLISHABLE_KEY={LOCAL_PUBLISHABLE_KEY}",
            f"SUPABASE_SECRET_KEY={LOCAL_SECRET_KEY}",
        ]
    return lines


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="halo-supabase")
def main() -> None:
    """Halo's support Inbox on Supabase: local stack, database and workers."""
    level = os.environ.get("HALO_LOG_LEVEL", "INFO").upper()
    configure_logging(level)


# -- halo db -------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """The local PostgreSQL cluster (127.0.0.1:HALO_DB_PORT, data in HALO_HOME/db)."""


@db.command("start")
@_reports_errors
def db_start() -> None:
    """Start PostgreSQL (initializing it on first use) and apply the Supabase bootstrap."""
    database = _database()
    result = database.start()
    state = "already running" if result.already_running else "started"
    if result.initialized:
        state = "initialized and started"
    console.print(
        f"PostgreSQL {state} on {database.cluster.host}:{database.cluster.port} "
        f"(pid {result.pid}, {result.seconds:.2f}s, {database.cluster.binaries.source} binaries "
        f"from {database.cluster.binaries.bindir})"
    )


@db.command("stop")
@_reports_errors
def db_stop() -> None:
    """Stop PostgreSQL (fast shutdown: open transactions are rolled back)."""
    stopped = _database().cluster.stop()
    console.print("PostgreSQL stopped" if stopped else "PostgreSQL was not running")


@db.command("status")
@_reports_errors
def db_status() -> None:
    """Say whether PostgreSQL runs, where, and which migrations are pending."""
    database = _database()
    status = database.cluster.status()
    table = Table(show_header=False, box=None)
    table.add_row("running", "yes" if status.running else "no")
    table.add_row("pid", str(status.pid or "-"))
    table.add_row("address", f"{status.host}:{status.port}")
    table.add_row("data directory", str(status.data_dir))
    table.add_row("binaries", f"{status.binaries.source}: {status.binaries.bindir}")
    if status.running:
        import psycopg

        with psycopg.connect(database.url) as conn:
            plan = plan_migrations(conn, database.migrations_dir)
        table.add_row("migrations applied", str(len(plan.applied)))
        table.add_row("migrations pending", ", ".join(m.version for m in plan.pending) or "none")
        if plan.missing_locally:
            table.add_row("[yellow]applied but no file[/]", ", ".join(plan.missing_locally))
    out.print(table)
    if not status.running:
        sys.exit(3)


@db.command("url")
@_reports_errors
def db_url() -> None:
    """Print the connection URL of the local database."""
    out.print(_database().url)


@db.command("psql", context_settings={"ignore_unknown_options": True})
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
@_reports_errors
def db_psql(psql_args: tuple[str, ...]) -> None:
    """Open psql on the local database (extra arguments go to psql)."""
    database = _database()
    psql = database.cluster.binaries.tool("psql")
    os.execv(str(psql), [str(psql), "-d", database.url, *psql_args])


@db.command("migrate")
@click.option("--db-url", help="Apply to this database instead of the local one.")
@_reports_errors
def db_migrate(db_url: str | None) -> None:
    """Apply the migrations in supabase/migrations that are not applied yet."""
    database = _database()
    if db_url is None:
        database.start()
        applied = database.migrate(_print_applied)
    else:
        applied = apply_migrations(db_url, database.migrations_dir, on_applied=_print_applied)
    console.print(f"{len(applied)} migration(s) applied" if applied else "database is up to date")


@db.command("reset")
@_reports_errors
def db_reset() -> None:
    """Recreate the local database: bootstrap, every migration, then supabase/seed.sql."""
    timings = _database().reset(_print_applied)
    steps = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in timings.steps.items())
    console.print(f"database reset in {timings.total:.2f}s ({steps})")


@db.command("drift")
@_reports_errors
def db_drift() -> None:
    """Check that supabase/schemas/ and supabase/migrations/ build the same database."""
    from halo_supabase.local.declared_schema import drift_in_cluster

    database = _database()
    database.cluster.start()
    with console.status("building one database from schemas/ and one from migrations/…"):
        differences = drift_in_cluster(database.cluster, database.settings.supabase_dir)
    for difference in differences:
        out.print(str(difference), markup=False)
    if differences:
        console.print(
            f"[red]{len(differences)} difference(s)[/]: change the schema file and write a "
            "migration with only the difference, until this prints none"
        )
        sys.exit(1)
    console.print("[green]✓[/] supabase/schemas/ and supabase/migrations/ build the same database")


@db.command("test")
@_reports_errors
def db_test() -> None:
    """Run the pgTAP files in supabase/tests on a scratch database of the local cluster
    (bootstrap, every migration, the seed), dropped afterwards; the local database is untouched."""
    from halo_supabase.local.pgtap import discover_test_files, ensure_pgtap, run_test_file

    settings = get_settings()
    files = discover_test_files(settings.supabase_dir / "tests")
    if not files:
        console.print("no pgTAP files in supabase/tests")
        return
    scratch = LocalDatabase(settings, dbname=f"halo_db_test_{os.getpid()}")
    with console.status(f"building the scratch database {scratch.dbname}…"):
        scratch.reset()
    failed = 0
    try:
        ensure_pgtap(scratch.url, scratch.cluster.binaries)
        for path in files:
            result = run_test_file(path, scratch.url, scratch.cluster.binaries)
            mark = "[green]ok[/]" if result.ok else "[red]FAILED[/]"
            console.print(f"{mark} {result.summary()}")
            failed += not result.ok
    finally:
        scratch.cluster.drop_database(scratch.dbname)
    console.print(f"{len(files) - failed} passed, {failed} failed")
    if failed:
        sys.exit(1)


# -- halo env / halo dev -----------------------------------------------------------------------


@main.command("env")
@_reports_errors
def env() -> None:
    """Print the dotenv lines for clients of the local stack."""
    settings = get_settings()
    db_url = _database().url if settings.stack == "local" else settings.db_url
    out.print("\n".join(env_lines(settings, db_url)))


def _ensure_function_secrets(settings: Settings) -> None:
    from halo_supabase.local.function_secrets import ensure_local_function_secrets

    added = ensure_local_function_secrets(settings.functions_path)
    if added:
        console.print(
            f"[green]✓[/] local webhook secrets {', '.join(added)} written to "
            f"{settings.functions_path / '.env'}"
        )


def _start_database() -> LocalDatabase:
    database = _database()
    with console.status("starting PostgreSQL…"):
        started, applied, seeded_now = database.ensure_ready(_print_applied)
    cluster = database.cluster
    console.print(
        f"[green]✓[/] PostgreSQL {cluster.binaries.major_version} on {cluster.host}:{cluster.port} "
        f"({'already running' if started.already_running else 'started'}, pid {started.pid}); "
        f"migrations: {len(applied)} applied now" + ("; seed applied" if seeded_now else "")
    )
    return database


def _stop_processes(processes: list[subprocess.Popen[bytes]], timeout: float) -> None:
    """SIGTERM each (workers finish or release their jobs), wait, SIGKILL what outlives `timeout`."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@main.command("dev")
@click.option(
    "--demo", "with_demo", is_flag=True, help="Also run `halo demo` once the stack is ready."
)
@_reports_errors
def dev(with_demo: bool) -> None:
    """Run the local stack in the foreground until Ctrl-C: Postgres, migrations, seed, gateway,
    and every worker (`halo worker all`)."""
    from halo_supabase.local.gateway.server import GatewayProcess

    # This process is the gateway `halo status` reports; one already running is refused first.
    with GatewayProcess(get_settings()).served_here():
        _run_dev(with_demo)


def _run_dev(with_demo: bool) -> None:
    from halo_supabase.demo import DEMO_PASSWORD, demo_logins
    from halo_supabase.local.gateway.server import build_server, run_serving

    began = time.monotonic()
    database = _start_database()
    settings = database.settings
    _ensure_function_secrets(settings)
    server = build_server(settings)
    # Until uvicorn installs its own handlers, a Ctrl-C or SIGTERM still asks it to exit.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: setattr(server, "should_exit", True))

    workers: list[subprocess.Popen[bytes]] = []

    def announce() -> None:
        console.print(
            f"[green]✓[/] gateway on {settings.url} (REST, Auth, Realtime, Storage, Functions)"
        )
        # The workers run as their own process (their own event loop and signal handling), as
        # they would beside a hosted project; they reach the stack only through the gateway.
        # A session of their own: a terminal's Ctrl-C reaches only `halo dev`, which then stops
        # them with one SIGTERM (a second signal would make them exit without draining).
        for command in (["mail", "sink"], ["worker", "all"], *([["demo"]] if with_demo else [])):
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "halo_supabase.cli", *command],
                    start_new_session=True,
                )
            )
        console.print(
            f"[green]✓[/] SMTP sink on {settings.smtp_host}:{settings.smtp_port} (`halo mail`); "
            f"workers running (`halo jobs list`)"
        )
        console.print("\n".join(env_lines(settings, database.url)), markup=False)
        logins = demo_logins(database.url)
        if logins:
            console.print(f"demo logins (password {DEMO_PASSWORD}, from supabase/seed.sql):")
            for login in logins:
                console.print(
                    f"  {login.email:<24} {login.workspace:<20} {login.role} · Inbox: "
                    f"{login.inbox_permission}",
                    markup=False,
                )
        console.print(
            f"[bold green]ready[/] in {time.monotonic() - began:.1f}s; Ctrl-C stops the stack "
            f"(PostgreSQL log: {database.cluster.log_file})"
        )
        # From now on a Ctrl-C or SIGTERM stops the workers first, while the gateway still serves
        # them (they finish or release their jobs through it), then the gateway; a second one
        # stops the gateway at once.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop_workers_then_gateway())

    stopping: list[threading.Thread] = []

    def stop_workers_then_gateway() -> None:
        if stopping:
            server.should_exit = True
            return
        console.print("stopping the workers…")

        def run() -> None:
            _stop_processes(workers, settings.worker_shutdown_grace_seconds + 15)
            server.should_exit = True

        stopping.append(threading.Thread(target=run, daemon=True))
        stopping[0].start()

    try:
        run_serving(server, announce)
    finally:
        _stop_processes(workers, settings.worker_shutdown_grace_seconds + 15)
        database.cluster.stop()
        console.print("stopped")
    if not server.started:
        raise LocalStackError(f"the gateway could not start on port {settings.api_port}")


@main.command("up")
@_reports_errors
def up() -> None:
    """Start PostgreSQL and the gateway in the background; print the dotenv lines."""
    from halo_supabase.local.gateway.server import GatewayProcess

    database = _start_database()
    _ensure_function_secrets(database.settings)
    gateway = GatewayProcess(database.settings)
    pid, already = gateway.start()
    console.print(
        f"[green]✓[/] gateway on {gateway.url} ({'already running' if already else 'started'}, "
        f"pid {pid}, log {gateway.log_file})"
    )
    out.print("\n".join(env_lines(database.settings, database.url)))


@main.command("down")
@_reports_errors
def down() -> None:
    """Stop the gateway and PostgreSQL started by `halo up`."""
    from halo_supabase.local.gateway.server import GatewayProcess

    settings = get_settings()
    stopped = GatewayProcess(settings).stop()
    console.print("gateway stopped" if stopped else "gateway was not running")
    console.print(
        "PostgreSQL stopped" if _database().cluster.stop() else "PostgreSQL was not running"
    )


@main.command("status")
@_reports_errors
def status() -> None:
    """Report the local stack: PostgreSQL and the gateway (exit 3 when something is down)."""
    from halo_supabase.local.gateway.server import GatewayProcess

    settings = get_settings()
    db_status = _database().cluster.status()
    gateway = GatewayProcess(settings).status()
    table = Table(show_header=False, box=None)
    table.add_row(
        "PostgreSQL",
        f"running, pid {db_status.pid}, {db_status.host}:{db_status.port}"
        if db_status.running
        else "stopped",
    )
    table.add_row(
        "gateway",
        f"running, pid {gateway.pid}, {gateway.url}"
        + ("" if gateway.healthy else " (not answering)")
        if gateway.running
        else "stopped",
    )
    out.print(table)
    if not (db_status.running and gateway.healthy):
        sys.exit(3)


@main.group()
def gateway() -> None:
    """The gateway process (REST, Auth, Realtime, Storage, Functions on HALO_API_PORT)."""


@gateway.command("serve")
@_reports_errors
def gateway_serve() -> None:
    """Serve in the foreground (PostgreSQL must be running: `halo db start`)."""
    from halo_supabase.local.gateway.server import serve

    serve(get_settings())


# -- halo worker, halo jobs -----------------------------------------------------------------------


@main.command("worker")
@click.argument("names", nargs=-1, required=True)
@_reports_errors
def worker(names: tuple[str, ...]) -> None:
    """Run workers (NAME ... or `all`) until SIGTERM/Ctrl-C; they finish or release their jobs."""
    import asyncio

    from halo_supabase.log_format import configure_service_logging
    from halo_supabase.worker_host import run_workers
    from workers import REGISTRY

    chosen = list(REGISTRY) if names == ("all",) else list(names)
    unknown = [name for name in chosen if name not in REGISTRY]
    if unknown:
        raise click.UsageError(
            f"unknown worker {', '.join(unknown)}; choose from: all, {', '.join(REGISTRY)}"
        )
    settings = get_settings()
    configure_service_logging(settings.log_level)
    # uvloop (installed with uvicorn[standard], as the gateway uses it): a worker's CPU goes to
    # HTTP round trips through the gateway, where it costs less than the default loop.
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(run_workers(settings, [REGISTRY[name] for name in chosen]))


@main.group()
def jobs() -> None:
    """Durable jobs: list them, retry or discard dead letters (through the API, service key)."""


def _with_job_queue(action: Callable[[JobQueue], Awaitable[T]]) -> T:
    import asyncio

    from halo_supabase.jobs import JobQueue
    from halo_supabase.worker_host import service_client

    async def run() -> T:
        return await action(JobQueue(await service_client(get_settings())))

    return asyncio.run(run())


@jobs.command("list")
@click.option("--dead", is_flag=True, help="Only dead letters.")
@click.option(
    "--state", type=click.Choice(["queued", "running", "done", "dead"]), help="Only this state."
)
@click.option("--kind", help="Only this job kind.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@_reports_errors
def jobs_list(dead: bool, state: JobState | None, kind: str | None, limit: int) -> None:
    """Newest jobs first: id, kind, state, attempts, next run or lease end, last error."""
    wanted: JobState | None = "dead" if dead else state
    rows = _with_job_queue(lambda queue: queue.list(state=wanted, kind=kind, limit=limit))
    table = Table("id", "kind", "state", "attempts", "visible at", "last error")
    for job in rows:
        last_line = (job.last_error or "").splitlines()[-1:] or [""]
        table.add_row(
            str(job.id),
            job.kind,
            job.state,
            f"{job.attempts}/{job.max_attempts}",
            job.visible_at.strftime("%Y-%m-%d %H:%M:%S"),
            last_line[0][:80],
        )
    out.print(table)


async def _retry(queue: JobQueue, job_id: int) -> None:
    await queue.retry(job_id)


async def _discard(queue: JobQueue, job_id: int) -> None:
    await queue.discard(job_id)


@jobs.command("retry")
@click.argument("job_ids", nargs=-1, type=int, required=True)
@_reports_errors
def jobs_retry(job_ids: tuple[int, ...]) -> None:
    """Queue dead letters again with fresh attempts."""
    for job_id in job_ids:
        _with_job_queue(partial(_retry, job_id=job_id))
        console.print(f"[green]✓[/] job {job_id} queued again")


@jobs.command("discard")
@click.argument("job_ids", nargs=-1, type=int, required=True)
@_reports_errors
def jobs_discard(job_ids: tuple[int, ...]) -> None:
    """Delete dead letters for good."""
    for job_id in job_ids:
        _with_job_queue(partial(_discard, job_id=job_id))
        console.print(f"[green]✓[/] job {job_id} discarded")


# -- halo demo ------------------------------------------------------------------------------------


@main.command("demo")
@click.option(
    "--rate",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Emails per second (more than 0).",
)
@click.option(
    "--corpus",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of .eml files [default: tests/fixtures/email in the project].",
)
@click.option("--to", "recipient", default=None, help="Inbound address [default: the seed's].")
@_reports_errors
def demo(rate: float, corpus: Path | None, recipient: str | None) -> None:
    """Post a stream of signed Mailgun webhooks (the email corpus) to the running `halo dev`."""
    from halo_supabase.demo import DEMO_ADDRESS, run_demo

    settings = get_settings()
    folder = corpus or settings.project_dir / "tests" / "fixtures" / "email"

    def report(name: str, status: int) -> None:
        mark = "[green]✓[/]" if status == 200 else f"[red]✗ {status}[/]"
        console.print(f"{mark} {name}")

    accepted, refused = run_demo(settings, folder, rate, report, recipient or DEMO_ADDRESS)
    console.print(f"{accepted} accepted, {refused} refused; `halo jobs list` shows the work")


# -- halo mail ------------------------------------------------------------------------------------


def _mail_dir() -> Path:
    return get_settings().state_dir / "mail"


@main.group("mail", invoke_without_command=True)
@click.pass_context
def mail(ctx: click.Context) -> None:
    """What the local SMTP sink received (`halo dev` runs it): `halo mail` lists, `show N` prints."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(mail_list)


@mail.command("list")
@_reports_errors
def mail_list() -> None:
    """Sent messages, oldest first: number, envelope recipients, subject, threading headers."""
    from halo_supabase.local.mail_sink import read_mailbox

    table = Table("#", "to", "subject", "in-reply-to", "auto")
    for number, sent in enumerate(read_mailbox(_mail_dir()), 1):
        table.add_row(
            str(number),
            sent.header("X-Halo-Envelope-To"),
            sent.header("Subject"),
            sent.header("In-Reply-To")[:60],
            sent.header("Auto-Submitted"),
        )
    out.print(table)


@mail.command("show")
@click.argument("number", type=click.IntRange(min=1))
@_reports_errors
def mail_show(number: int) -> None:
    """Print message NUMBER (from `halo mail list`) as received."""
    from halo_supabase.local.mail_sink import read_mailbox

    box = read_mailbox(_mail_dir())
    if number > len(box):
        held = "no messages" if not box else f"{len(box)} message{'s' if len(box) > 1 else ''}"
        raise click.BadParameter(
            f"there is no message {number}: the sink holds {held}; `halo mail list` shows them",
            param_hint="NUMBER",
        )
    out.print(box[number - 1].path.read_text(errors="replace"), markup=False, highlight=False)


@mail.command("sink")
@_reports_errors
def mail_sink() -> None:
    """Run the SMTP sink on HALO_SMTP_HOST:HALO_SMTP_PORT in the foreground."""
    import asyncio

    from halo_supabase.local.mail_sink import MailSink

    settings = get_settings()
    sink = MailSink(_mail_dir(), settings.smtp_host, settings.smtp_port)
    console.print(f"SMTP sink on {settings.smtp_host}:{settings.smtp_port}, keeping {_mail_dir()}")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(sink.serve_forever())


# -- halo seed -----------------------------------------------------------------------------------


@main.command("seed")
@click.option("--tickets", type=click.IntRange(min=100), required=True, help="Tickets to create.")
@click.option("--db-url", help="Seed this database instead of the local one (needs a superuser).")
@_reports_errors
def seed(tickets: int, db_url: str | None) -> None:
    """Add realistic volume: 100 workspaces (one with 30% of the tickets), ~10 messages each."""
    from halo_supabase.volume_seed import seed_volume

    if db_url is None:
        database = _database()
        database.ensure_ready(_print_applied)
        db_url = database.url
    with console.status(f"seeding {tickets:,} tickets…") as status:

        def report(step: str, seconds: float) -> None:
            console.print(f"  {step} {seconds:.1f}s")
            status.update(f"seeding {tickets:,} tickets… ({step} done)")

        result = seed_volume(db_url, tickets, report)
    console.print(
        f"seeded {result.tickets:,} tickets and {result.messages:,} messages in 100 workspaces "
        f"(run {result.run}) in {result.total_seconds:.1f}s"
    )


# -- halo ai -------------------------------------------------------------------------------------


@main.group()
def ai() -> None:
    """The offline AI model: retrain and evaluate it."""


@ai.command("train-sentiment")
@click.option(
    "--data",
    "data",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Labelled JSON-lines set [default: tests/fixtures/sentiment/messages.jsonl].",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where to write the model [default: the package's ai/data/sentiment_model.json].",
)
@_reports_errors
def ai_train_sentiment(data: str | None, out_path: str | None) -> None:
    """Fit the sentiment model on the training split and report it on the held-out split."""
    import json
    from pathlib import Path

    from halo_supabase.ai.training import DEFAULT_DATASET, evaluate, load_dataset, train

    messages = load_dataset(Path(data) if data else DEFAULT_DATASET)
    model = train(messages)
    target = Path(out_path) if out_path else Path(__file__).parent / "ai/data/sentiment_model.json"
    target.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    report = evaluate(model, messages)
    console.print(
        f"trained on {model.trained_on} messages, wrote {target}\n"
        f"held-out ({report.messages} messages): polarity accuracy "
        f"{report.polarity_accuracy:.3f}, mood macro-F1 {report.mood_macro_f1:.3f}"
    )


# -- halo bench ----------------------------------------------------------------------------------


@main.group()
def bench() -> None:
    """Benchmarks that print numbers (docs/performance.md has the current figures)."""


@bench.command("db")
@click.option("--runs", default=3, show_default=True, help="Repetitions of each measurement.")
@_reports_errors
def bench_db(runs: int) -> None:
    """Time cluster initialization, start, restart and `db reset` on a scratch cluster."""
    from halo_supabase.bench.db import run_db_benchmark

    run_db_benchmark(get_settings(), runs, out)


@bench.command("rest")
@click.option("--seconds", default=3.0, show_default=True, help="Measurement time per table cell.")
@click.option(
    "--direct",
    type=click.Choice(["asyncpg", "psycopg"]),
    default="psycopg",
    show_default=True,
    help="Driver of the direct-SQL column (asyncpg is the gateway's own).",
)
@_reports_errors
def bench_rest(seconds: float, direct: str) -> None:
    """Requests/s and latency of /rest/v1 vs the same queries sent directly, at 1 and 16 clients."""
    from halo_supabase.bench.rest import run_rest_benchmark

    run_rest_benchmark(get_settings(), seconds, out, direct)


@bench.command("views")
@click.option("--rounds", default=50, show_default=True, help="Measurements per scenario.")
@click.option("--db-url", help="The seeded database (default: the local one).")
@click.option("--api-url", help="The gateway in front of it (default: the local one).")
@_reports_errors
def bench_views(rounds: int, db_url: str | None, api_url: str | None) -> None:
    """p50/p95 of the inbox views, counts, filter, search and keyset paging on `halo seed` data."""
    from halo_supabase.bench.views import run_views_benchmark

    settings = get_settings()
    run_views_benchmark(settings, db_url or settings.db_url, api_url or settings.url, rounds, out)


@bench.command("sentiment")
@click.option("--messages", default=5000, show_default=True, help="Messages to score.")
@_reports_errors
def bench_sentiment(messages: int) -> None:
    """Time the offline sentiment model: load, per-message latency p50/p95, messages/s."""
    from halo_supabase.bench.sentiment import run_sentiment_benchmark

    run_sentiment_benchmark(messages, out)


@bench.command("auth")
@click.option("--requests", default=400, show_default=True, help="Requests per measurement.")
@_reports_errors
def bench_auth(requests: int) -> None:
    """Requests/s and p50/p95 of sign-in, refresh and GET /user on a scratch stack."""
    from halo_supabase.bench.auth import run_auth_benchmark

    run_auth_benchmark(get_settings(), requests, out)


@bench.command("storage")
@click.option("--count", default=200, show_default=True, help="Requests per measurement.")
@_reports_errors
def bench_storage(count: int) -> None:
    """Time Storage uploads, downloads, listing, signing and Edge Function calls."""
    from halo_supabase.bench.storage import run_storage_benchmark

    run_storage_benchmark(get_settings(), count, out)


@bench.command("realtime")
@click.option(
    "--subscribers",
    default="1,100,1000",
    show_default=True,
    help="Comma-separated subscriber counts on one topic.",
)
@click.option(
    "--cycles",
    default=10_000,
    show_default=True,
    help="Connect/disconnect cycles for the leak check.",
)
@_reports_errors
def bench_realtime(subscribers: str, cycles: int) -> None:
    """Realtime latency (DB broadcast, postgres_changes), fan-out and memory, on scratch servers."""
    from halo_supabase.bench.realtime import run_realtime_benchmark

    sizes = [int(part) for part in subscribers.split(",") if part.strip()]
    run_realtime_benchmark(get_settings(), out, sizes, cycles)


@bench.command("ingest")
@click.option("--count", default=10_000, show_default=True, help="Webhooks in the throughput run.")
@click.option("--concurrency", default=32, show_default=True, help="Concurrent webhook senders.")
@click.option("--rate", default=50.0, show_default=True, help="Emails/s of the paced latency run.")
@click.option("--paced", default=500, show_default=True, help="Webhooks in the latency run.")
@click.option(
    "--worker-concurrency",
    default=32,
    show_default=True,
    help="Jobs the email worker runs at once.",
)
@_reports_errors
def bench_ingest(
    count: int, concurrency: int, rate: float, paced: int, worker_concurrency: int
) -> None:
    """Signed webhooks → edge function → worker → ticket.created broadcast, on scratch servers."""
    from halo_supabase.bench.ingest import run_ingest_benchmark

    run_ingest_benchmark(get_settings(), out, count, concurrency, rate, paced, worker_concurrency)


@bench.command("conversations")
@click.option("--conversations", default=200, show_default=True, help="Live conversations.")
@click.option("--seconds", default=30.0, show_default=True, help="How long they talk.")
@click.option(
    "--escalations", default=20, show_default=True, help="Conversations the AI escalates."
)
@_reports_errors
def bench_conversations(conversations: int, seconds: float, escalations: int) -> None:
    """Live conversations at 1 message/s each → mood updates and escalation tickets, as a
    dashboard receives them, on scratch servers."""
    from halo_supabase.bench.conversations import run_conversations_benchmark

    run_conversations_benchmark(get_settings(), out, conversations, seconds, escalations)


@bench.command("escalation")
@click.option("--count", default=200, show_default=True, help="Escalations through the gateway.")
@click.option("--rate", default=20.0, show_default=True, help="Escalations per second.")
@click.option(
    "--rounds", default=500, show_default=True, help="AI replies per agent (enqueue cost)."
)
@_reports_errors
def bench_escalation(count: int, rate: float, rounds: int) -> None:
    """AI reply enqueue cost and escalation → ticket.created latency, on scratch servers."""
    from halo_supabase.bench.escalation import run_escalation_benchmark

    run_escalation_benchmark(get_settings(), out, count, rate, rounds)


@bench.command("email")
@click.option("--rounds", default=20, show_default=True, help="Passes over the corpus.")
@click.option(
    "--corpus",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of .eml files [default: tests/fixtures/email in the project].",
)
@_reports_errors
def bench_email(rounds: int, corpus: Path | None) -> None:
    """Parse + classify + strip + thread throughput over the email fixture corpus (no database)."""
    from halo_supabase.bench.email import run_email_benchmark

    folder = corpus or get_settings().project_dir / "tests" / "fixtures" / "email"
    if not any(folder.glob("*.eml")):
        raise click.UsageError(f"no .eml files in {folder}; pass --corpus with a folder of emails")
    run_email_benchmark(folder, rounds, out)


if __name__ == "__main__":
    main()
