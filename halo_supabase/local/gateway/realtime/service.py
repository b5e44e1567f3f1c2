"""The Realtime service at /realtime/v1: the Phoenix WebSocket and the REST broadcast API."""

from __future__ import annotations

import logging

from halo_supabase.local.gateway.app import GatewayContext
from halo_supabase.local.gateway.credentials import CredentialsError
from halo_supabase.local.gateway.http import Receive, Request, Scope, Send, dumps, send_json
from halo_supabase.local.gateway.realtime.capture import ChangeCapture
from halo_supabase.local.gateway.realtime.changes import ChangeDispatcher
from halo_supabase.local.gateway.realtime.connection import Connection
from halo_supabase.local.gateway.realtime.hub import Hub
from halo_supabase.local.gateway.realtime.protocol import SERIALIZERS
from halo_supabase.local.gateway.realtime.rest import handle_broadcast_api
from halo_supabase.local.gateway.realtime.tokens import TokenRejected, verify

__all__ = ["RealtimeService", "create"]

log = logging.getLogger(__name__)


class RealtimeService:
    def __init__(self, context: GatewayContext) -> None:
        self.tokens = context.tokens
        self.db = context.db
        self.hub = Hub()
        self.dispatcher = ChangeDispatcher(self.db, self.hub)
        self.capture = ChangeCapture(self.db, self.hub, self.dispatcher)

    async def startup(self) -> None:
        await self.capture.start()

    async def shutdown(self) -> None:
        await self.capture.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        request = Request.from_scope(scope, receive)
        if request.path.startswith("/api/broadcast"):
            await handle_broadcast_api(self, request, send)
        else:
            await send_json(send, 404, {"message": "Not Found"})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request.from_scope(scope, receive)
        query = request.query()
        if request.path.rstrip("/") != "/websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        serializer = SERIALIZERS.get(query.get("vsn", "1.0.0"))
        key = (
            query.get("apikey") or request.headers.get("x-api-key") or request.headers.get("apikey")
        )
        if serializer is None:
            await _refuse(scope, send, 400, f"unsupported protocol version {query.get('vsn')!r}")
            return
        if not key:
            await _refuse(scope, send, 401, "No api key provided")
            return
        try:
            verify(self.tokens, key)
            token = self.tokens.map_key(key)
        except (TokenRejected, CredentialsError) as exc:
            await _refuse(scope, send, 401, str(exc))
            return
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        await Connection(self, send, serializer, token).run(receive)


async def _refuse(scope: Scope, send: Send, status: int, error: str) -> None:
    """Refuse the upgrade with a plain HTTP JSON error, as Realtime's socket does."""
    if "websocket.http.response" in scope.get("extensions", {}):
        body = dumps({"error": error})
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})


def create(context: GatewayContext) -> RealtimeService:
    return RealtimeService(context)
