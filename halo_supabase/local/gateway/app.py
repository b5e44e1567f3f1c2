"""The gateway ASGI app: routes by path prefix to each service, answers CORS, runs lifespans."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Protocol

from halo_supabase.local.gateway.credentials import TokenService
from halo_supabase.local.gateway.db import GatewayDatabase
from halo_supabase.local.gateway.http import (
    CORS_ALLOW_HEADERS,
    CORS_METHODS,
    Message,
    Receive,
    Scope,
    Send,
    cors_headers,
    send_json,
)
from halo_supabase.settings import Settings

__all__ = ["SERVICES", "Gateway", "GatewayContext", "Service"]

log = logging.getLogger(__name__)

# Path prefix → "module:factory"; a factory takes a GatewayContext and returns a Service.
SERVICES: dict[str, str] = {
    "/rest/v1": "halo_supabase.local.gateway.rest:create_service",
    "/auth/v1": "halo_supabase.local.gateway.auth:create_service",
    "/storage/v1": "halo_supabase.local.gateway.storage:create_service",
    "/functions/v1": "halo_supabase.local.gateway.functions:create_service",
    "/realtime/v1": "halo_supabase.local.gateway.realtime:create",
}


@dataclass
class GatewayContext:
    """What every service shares: settings, the token service and the database pools."""

    settings: Settings
    tokens: TokenService
    db: GatewayDatabase


class Service(Protocol):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...


class Gateway:
    """The ASGI application behind HALO_API_PORT."""

    def __init__(self, settings: Settings, *, db_host: str = "127.0.0.1") -> None:
        self.context = GatewayContext(
            settings=settings,
            tokens=TokenService(settings),
            db=GatewayDatabase(db_host, settings.db_port),
        )
        self.routes: list[tuple[str, Service]] = []
        for prefix, target in sorted(SERVICES.items(), key=lambda item: -len(item[0])):
            module_name, _, factory_name = target.partition(":")
            factory = getattr(importlib.import_module(module_name), factory_name)
            self.routes.append((prefix, factory(self.context)))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.context.db.open()
                    for _, service in self.routes:
                        await service.startup()
                except Exception as exc:
                    log.exception("gateway startup failed", extra={"action": "gateway.startup"})
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for _, service in self.routes:
                    await service.shutdown()
                await self.context.db.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path: str = scope["path"]
        if scope["type"] == "http":
            request_headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            if scope["method"] == "OPTIONS" and "access-control-request-method" in request_headers:
                await self._preflight(send, request_headers)
                return
            send = self._with_cors(send, request_headers)
            if path == "/health":
                await send_json(send, 200, {"status": "ok"})
                return
        for prefix, service in self.routes:
            if path == prefix or path.startswith(prefix + "/"):
                inner = dict(scope)
                inner["path"] = path[len(prefix) :] or "/"
                inner["root_path"] = scope.get("root_path", "") + prefix
                await service(inner, receive, send)
                return
        if scope["type"] == "http":
            await send_json(send, 404, {"message": "no Route matched with those values"})
        else:
            await send({"type": "websocket.close", "code": 1008})

    @staticmethod
    async def _preflight(send: Send, request_headers: dict[str, str]) -> None:
        requested = request_headers.get("access-control-request-headers")
        headers = [
            *cors_headers(request_headers),
            (b"access-control-allow-methods", CORS_METHODS.encode()),
            (b"access-control-allow-headers", (requested or CORS_ALLOW_HEADERS).encode("latin-1")),
            (b"access-control-max-age", b"3600"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    def _with_cors(send: Send, request_headers: dict[str, str]) -> Send:
        extra = cors_headers(request_headers)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        return send_with_cors
