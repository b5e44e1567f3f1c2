"""Run the gateway: in the foreground (`halo gateway serve`, `halo dev`) or as a background
process with a pid file (`halo up` / `halo down`)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from halo_supabase.errors import LocalStackError, PortInUseError
from halo_supabase.local.gateway.app import Gateway
from halo_supabase.settings import Settings

__all__ = ["GatewayProcess", "GatewayStatus", "gateway_subprocess", "run_serving", "serve"]

HOST = "127.0.0.1"


def build_server(settings: Settings) -> uvicorn.Server:
    config = uvicorn.Config(
        Gateway(settings),
        host=HOST,
        port=settings.api_port,
        loop="uvloop",
        http="httptools",
        # The sans-I/O implementation costs ~4x less CPU per WebSocket frame than the legacy one
        # (measured by `halo bench realtime`); Supabase Realtime (Phoenix) does not compress frames.
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        lifespan="on",
        log_level="warning",
        access_log=False,
        ws_max_size=1024 * 1024,
    )
    return uvicorn.Server(config)


def run_serving(server: uvicorn.Server, on_ready: Callable[[], None]) -> None:
    """Run `server` until it stops, calling `on_ready` once it accepts connections."""

    async def main() -> None:
        serving = asyncio.ensure_future(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.02)
        if server.started:
            on_ready()
        await serving

    with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
        runner.run(main())


def serve(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn handles both and drains connections)."""
    server = build_server(settings)
    server.run()
    if not server.started:
        raise LocalStackError(
            f"the gateway could not start on {HOST}:{settings.api_port}; see the messages above"
        )


@contextmanager
def gateway_subprocess(
    env: dict[str, str], log_path: Path, timeout: float = 30.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`halo gateway serve` with `env` (HALO_API_PORT names its port) until the block ends;
    yields its URL and process once /health answers. For tests and benchmarks."""
    url = f"http://{HOST}:{env['HALO_API_PORT']}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "halo_supabase.cli", "gateway", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url, timeout=1.0):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
                raise LocalStackError(
                    f"the gateway did not start on {url}; its log ends with:\n{tail}"
                )
            time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class GatewayStatus:
    running: bool
    pid: int | None
    url: str
    healthy: bool


def _serves_gateway(argv: list[bytes]) -> bool:
    """Whether a command line is one that serves the gateway (a pid file may name a pid that was
    reused by another program since)."""
    return (b"gateway" in argv and b"serve" in argv) or b"dev" in argv


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie nobody reaped yet does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class GatewayProcess:
    """The gateway of this project: a background process (`halo up`) or `halo dev` serving it in
    the foreground; either records its pid in HALO_HOME, which `halo status` and `halo down` read."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pid_file = settings.state_dir / "gateway.pid"
        self.log_file = settings.state_dir / "gateway.log"
        self.url = f"http://{HOST}:{settings.api_port}"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if _serves_gateway(cmdline.split(b"\0")) and _alive(pid) else None

    @contextmanager
    def served_here(self) -> Iterator[None]:
        """Record this process (`halo dev`) as the gateway while the block runs; refused while
        another gateway of this project runs."""
        running = self.pid()
        if running is not None:
            raise LocalStackError(
                f"the gateway of this project already runs (pid {running}); `halo down` stops it"
            )
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(str(os.getpid()))
        try:
            yield
        finally:
            if self.pid_file.exists() and self.pid_file.read_text().strip() == str(os.getpid()):
                self.pid_file.unlink()

    def status(self) -> GatewayStatus:
        pid = self.pid()
        return GatewayStatus(pid is not None, pid, self.url, pid is not None and _healthy(self.url))

    def start(self, timeout: float = 30.0) -> tuple[int, bool]:
        """Start in the background and wait until /health answers; (pid, already_running)."""
        pid = self.pid()
        if pid is not None:
            return pid, True
        if _healthy(self.url, timeout=0.5):
            raise PortInUseError(HOST, self.settings.api_port, "HALO_API_PORT")
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "halo_supabase.cli", "gateway", "serve"],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=str(self.settings.project_dir.resolve()),
            )
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise LocalStackError(
                    f"the gateway exited with code {process.returncode}; its log ends with:\n"
                    + "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
                )
            if _healthy(self.url, timeout=0.5):
                return process.pid, False
            time.sleep(0.1)
        process.terminate()
        raise LocalStackError(f"the gateway did not answer on {self.url} within {timeout:.0f}s")

    def stop(self, timeout: float = 15.0) -> bool:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True
