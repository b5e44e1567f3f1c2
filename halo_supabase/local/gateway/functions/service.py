"""Edge Functions at /functions/v1/<name>[/sub/path]: the CLI edge runtime's routing, JWT check
and error answers in front of one Deno process per function (worker.py), proxied with streaming
bodies both ways."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
import yarl

from halo_supabase.local.gateway.app import GatewayContext
from halo_supabase.local.gateway.credentials import CredentialsError
from halo_supabase.local.gateway.functions.catalog import FunctionCatalog, FunctionSpec
from halo_supabase.local.gateway.functions.worker import BootError, FunctionWorker
from halo_supabase.local.gateway.http import Receive, Request, Scope, Send, send_bytes, send_json
from halo_supabase.settings import LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY

__all__ = ["FunctionsService", "create_service"]

log = logging.getLogger(__name__)

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "host", "te", "trailer"}
# The gateway's router adds these to every response; a function's own copy would duplicate them.
_ROUTER_CORS = {"access-control-allow-origin", "access-control-expose-headers"}
# What Deno needs from the gateway's own environment to reach the npm registry (proxies and
# extra certificate authorities; Deno reads NODE_EXTRA_CA_CERTS as Node does).
_PASSED_THROUGH = (
    "PATH",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "NPM_CONFIG_REGISTRY",
    "DENO_CERT",
    "DENO_TLS_CA_STORE",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
# A worker nobody called for this long is stopped (the next call starts it again), so a project
# with many functions does not keep ~50 MB per function resident all day under `halo dev`.
IDLE_SECONDS = 600.0
_REAP_EVERY = 30.0
BOOT_ERROR = {"code": "BOOT_ERROR", "message": "Worker failed to boot (please check logs)"}
INTERNAL_ERROR = {
    "code": "Internal Server Error",
    "message": "Request failed due to an internal server error",
}
WORKER_ERROR = {
    "code": "WORKER_ERROR",
    "message": "Function exited due to an error (please check logs)",
}


class FunctionsService:
    def __init__(self, context: GatewayContext) -> None:
        self.context = context
        settings = context.settings
        self.catalog = FunctionCatalog(settings.functions_path)
        self.deno_dir = os.environ.get("DENO_DIR") or str(settings.state_dir / "deno")
        self.workers: dict[str, FunctionWorker] = {}
        self.client: aiohttp.ClientSession | None = None
        self.idle_seconds = IDLE_SECONDS
        self.run_dir = settings.state_dir / "functions"
        self._reaper: asyncio.Task[None] | None = None

    def environment(self) -> dict[str, str]:
        """The function's environment, as `supabase functions serve` injects it (§5.4)."""
        settings = self.context.settings
        env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        env.update(self.catalog.secrets())
        env.update(
            {
                "DENO_DIR": self.deno_dir,
                "SUPABASE_URL": settings.url,
                "SUPABASE_ANON_KEY": settings.anon_key,
                "SUPABASE_SERVICE_ROLE_KEY": settings.service_role_key,
                "SUPABASE_DB_URL": settings.db_url,
                "SUPABASE_PUBLISHABLE_KEYS": json.dumps({"default": LOCAL_PUBLISHABLE_KEY}),
                "SUPABASE_SECRET_KEYS": json.dumps({"default": LOCAL_SECRET_KEY}),
            }
        )
        return env

    async def startup(self) -> None:
        self._reaper = asyncio.create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(_REAP_EVERY)
            try:
                await self.reap_idle()
            except Exception:
                log.exception("reaping idle functions failed", extra={"action": "functions.reap"})

    async def reap_idle(self) -> None:
        """Stop the workers that served nothing for `idle_seconds` and serve nothing now."""
        now = time.monotonic()
        for worker in list(self.workers.values()):
            if not worker.alive or worker.in_flight or now - worker.last_used < self.idle_seconds:
                continue
            async with worker.lock:
                if (
                    worker.in_flight == 0
                    and time.monotonic() - worker.last_used >= self.idle_seconds
                ):
                    log.info(
                        "stopping idle function %s",
                        worker.spec.name,
                        extra={"action": "functions.reap"},
                    )
                    await worker.stop()

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running loop. aiohttp rather than httpx: httpx's pool
        # scan (getpeername/select on every idle connection per request) was 28% of the
        # gateway's CPU under `halo bench ingest`. trust_env=False: loopback traffic to the
        # workers never goes through an HTTP proxy. No cookie jar: one client serves every
        # caller. Bodies pass through as they are (no decompression), and no header of its own
        # is added besides Host and the framing.
        if self.client is None:
            self.client = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, connect=5.0),
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return self.client

    async def shutdown(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        for worker in self.workers.values():
            await worker.stop()
        self.workers.clear()
        if self.client is not None:
            await self.client.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request.from_scope(scope, receive)
        name = request.path.lstrip("/").split("/", 1)[0]
        spec = self.catalog.find(name)
        if spec is None:
            await send_bytes(send, 404, b"Function not found", content_type="text/plain")
            return
        try:
            headers = self._forwarded_headers(request, spec)
        except _Unauthorized as exc:
            await send_json(send, 401, {"msg": str(exc)})
            return
        try:
            worker = await self.ensure_worker(spec)
        except BootError:
            log.exception("function failed to boot", extra={"action": "functions.boot"})
            await send_json(send, 503, BOOT_ERROR)
            return
        except Exception:
            log.exception("function could not be started", extra={"action": "functions.boot"})
            await send_json(send, 500, INTERNAL_ERROR)
            return
        await self._proxy(worker, request, headers, send)

    def _forwarded_headers(self, request: Request, spec: FunctionSpec) -> list[tuple[str, str]]:
        """The request's headers with the gateway's Authorization rewrite (§1.3), after the
        function's `verify_jwt` check as the edge runtime's main worker makes it (§5.2)."""
        try:
            bearer = self.context.tokens.bearer(request.headers, request.query())
        except CredentialsError as exc:
            raise _Unauthorized("Invalid JWT") from exc
        authorization = request.headers.get("authorization", "")
        if bearer and (not authorization or authorization.split(" ", 1)[-1].startswith("sb_")):
            authorization = f"Bearer {bearer}"
        if spec.verify_jwt and request.method != "OPTIONS":
            if not authorization:
                raise _Unauthorized("Error: Missing authorization header")
            scheme, _, token = authorization.partition(" ")
            if scheme != "Bearer":
                raise _Unauthorized("Error: Auth header is not 'Bearer {token}'")
            try:
                self.context.tokens.decode(token)
            except CredentialsError as exc:
                raise _Unauthorized("Invalid JWT") from exc
        headers = [
            (k, v) for k, v in request.header_list if k not in _HOP_BY_HOP and k != "authorization"
        ]
        if authorization:
            headers.append(("authorization", authorization))
        return headers

    async def ensure_worker(self, spec: FunctionSpec) -> FunctionWorker:
        """The function's running worker, started or restarted (changed files) as needed."""
        worker = self.workers.get(spec.name)
        if worker is not None and worker.alive and worker.spec.signature == spec.signature:
            return worker
        if worker is None:
            worker = self.workers[spec.name] = FunctionWorker(spec, {})
        async with worker.lock:
            if worker.alive and worker.spec.signature == spec.signature:
                return worker
            if worker.alive:
                log.info("reloading function %s", spec.name, extra={"action": "functions.reload"})
            await worker.stop()
            worker.spec, worker.env = spec, self.environment()
            await worker.start(self.run_dir)
            return worker

    async def _proxy(
        self, worker: FunctionWorker, request: Request, headers: list[tuple[str, str]], send: Send
    ) -> None:
        client = self._client()
        port = worker.port
        has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
        query = f"?{request.query_string}" if request.query_string else ""
        started = False
        worker.in_flight += 1
        try:
            async with client.request(
                request.method,
                yarl.URL(f"http://127.0.0.1:{port}{_raw_path(request)}{query}", encoded=True),
                headers=headers,
                data=_request_body(request.receive) if has_body else None,
                allow_redirects=False,
            ) as response:
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status,
                        "headers": [
                            (k, v)
                            for k, v in response.raw_headers
                            if k.lower().decode("latin-1") not in _HOP_BY_HOP | _ROUTER_CORS
                        ],
                    }
                )
                started = True
                async for chunk in response.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
        except aiohttp.ClientError:
            log.exception("function worker failed", extra={"action": "functions.proxy"})
            # The worker died or stopped answering (its exit may not be reaped yet): stop it so
            # the next request starts a fresh one (unless another request already did).
            if worker.port == port:
                await worker.stop()
            if started:
                await send({"type": "http.response.body", "body": b""})
            else:
                await send_json(send, 500, WORKER_ERROR)
        finally:
            worker.in_flight -= 1
            worker.last_used = time.monotonic()


class _Unauthorized(Exception):
    """The edge runtime's 401, worded as its main worker words it."""


def _raw_path(request: Request) -> str:
    """The path below /functions/v1 exactly as the client encoded it (the function parses it)."""
    raw = request.scope.get("raw_path")
    root = request.scope.get("root_path", "")
    if isinstance(raw, bytes) and raw.decode("latin-1").startswith(root):
        return raw.decode("latin-1")[len(root) :] or "/"
    return quote(request.path)


async def _request_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def create_service(context: GatewayContext) -> FunctionsService:
    return FunctionsService(context)
