"""One Deno process per function, started on demand on a loopback port.

The process runs worker.ts, which imports the function's index.ts, binds its `Deno.serve`
handler to a port the kernel picks and writes that port to a file the gateway waits for. A worker is restarted when the function's files change
(catalog signature) or after it died; it is stopped with the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from deno import find_deno_bin

from halo_supabase.local.gateway.functions.catalog import FunctionSpec

__all__ = ["BootError", "FunctionWorker"]

log = logging.getLogger(__name__)

# The first start of a function may download its npm: dependencies into the Deno cache.
BOOT_TIMEOUT = 60.0
WORKER_SCRIPT = Path(str(files(__package__).joinpath("worker.ts")))


class BootError(Exception):
    """The function's process exited or never listened (syntax error, failed import, …)."""


@dataclass
class FunctionWorker:
    spec: FunctionSpec
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    port: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Requests being proxied right now, and when the last one ended (for idle reaping).
    in_flight: int = 0
    last_used: float = field(default_factory=time.monotonic)

    @property
    def alive(self) -> bool:
        """Running and listening: a worker still booting is not alive yet, so requests wait for
        its lock instead of calling a port that is not known."""
        return self.port != 0 and self.process is not None and self.process.returncode is None

    async def start(self, run_dir: Path) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        port_file = run_dir / f"{self.spec.name}-{uuid.uuid4().hex}.port"
        began = time.monotonic()
        self.port = 0
        self.process = process = await asyncio.create_subprocess_exec(
            find_deno_bin(),
            "run",
            "--allow-all",
            "--no-prompt",
            "--quiet",
            str(WORKER_SCRIPT),
            self.spec.entrypoint.resolve().as_uri(),
            cwd=self.spec.entrypoint.parent,
            env={**self.env, "HALO_FUNCTION_PORT_FILE": str(port_file)},
            stdin=asyncio.subprocess.DEVNULL,
        )
        try:
            while time.monotonic() - began < BOOT_TIMEOUT:
                if process.returncode is not None:
                    raise BootError(f"function {self.spec.name} exited with {process.returncode}")
                written = port_file.read_text() if port_file.exists() else ""
                if written.isdigit():
                    self.port = int(written)
                    log.info(
                        "function %s listening on %d after %.2fs",
                        self.spec.name,
                        self.port,
                        time.monotonic() - began,
                        extra={"action": "functions.boot"},
                    )
                    return
                await asyncio.sleep(0.02)
            await self.stop()
            raise BootError(f"function {self.spec.name} did not listen within {BOOT_TIMEOUT:.0f}s")
        finally:
            port_file.unlink(missing_ok=True)

    async def stop(self) -> None:
        process, self.process, self.port = self.process, None, 0
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
