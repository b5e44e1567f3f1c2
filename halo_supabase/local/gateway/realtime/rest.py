"""Realtime's REST broadcast API: `POST /api/broadcast` (batch) and
`POST /api/broadcast/<topic>/events/<event>` (one message, what `http_send`/`httpSend` call).

Both answer 202 with an empty body once the messages are queued on the subscribers' sockets;
private messages are delivered only when the caller passes the write check on `realtime.messages`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from halo_supabase.local.gateway.credentials import CredentialsError
from halo_supabase.local.gateway.http import BodyTooLarge, Request, Send, send_bytes, send_json
from halo_supabase.local.gateway.realtime.authorization import may_write
from halo_supabase.local.gateway.realtime.channel import flag
from halo_supabase.local.gateway.realtime.tokens import TokenRejected, verify

if TYPE_CHECKING:
    from halo_supabase.local.gateway.realtime.service import RealtimeService

__all__ = ["handle_broadcast_api"]

MAX_BODY = 3 * 1024 * 1024


async def handle_broadcast_api(service: RealtimeService, request: Request, send: Send) -> None:
    if request.method != "POST":
        await send_json(send, 405, {"message": "Method Not Allowed"})
        return
    try:
        token = service.tokens.bearer(request.headers)
        claims = verify(service.tokens, token) if token else None
    except (CredentialsError, TokenRejected):
        claims = None
    if claims is None:
        await send_json(send, 401, {"message": "Unauthorized"})
        return
    try:
        body = await request.body(MAX_BODY)
    except BodyTooLarge:
        await send_json(send, 413, {"message": "Payload Too Large"})
        return
    parts = request.path.strip("/").split("/")
    if parts == ["api", "broadcast"]:
        messages, errors = _batch(body)
    elif len(parts) == 5 and parts[:2] == ["api", "broadcast"] and parts[3] == "events":
        private = flag(request.query().get("private"))
        messages, errors = _single(unquote(parts[2]), unquote(parts[4]), private, body)
    else:
        await send_json(send, 404, {"message": "Not Found"})
        return
    if errors:
        await send_json(send, 422, {"errors": errors})
        return
    permitted: dict[str, bool] = {}
    for message in messages:
        topic = message["topic"]
        if message["private"]:
            if topic not in permitted:
                permitted[topic] = await may_write(service.db, topic, claims, "broadcast")
            if not permitted[topic]:
                continue
        inner: dict[str, Any] = {
            "type": "broadcast",
            "event": message["event"],
            "payload": message["payload"],
        }
        if message.get("id") is not None:
            inner["meta"] = {"id": str(message["id"])}
        service.hub.broadcast(topic, message["private"], inner)
    await send_bytes(send, 202, b"", content_type=None)


def _batch(body: bytes) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    try:
        document = json.loads(body or b"null")
    except ValueError:
        return [], {"body": ["is not valid JSON"]}
    raw = document.get("messages") if isinstance(document, dict) else None
    if not isinstance(raw, list):
        return [], {"messages": ["can't be blank"]}
    messages: list[dict[str, Any]] = []
    problems: list[dict[str, list[str]]] = []
    for item in raw:
        problem: dict[str, list[str]] = {}
        if not isinstance(item, dict):
            problems.append({"message": ["is invalid"]})
            continue
        for field in ("topic", "event"):
            if not isinstance(item.get(field), str) or not item.get(field):
                problem[field] = ["can't be blank"]
        if not isinstance(item.get("payload"), dict):
            problem["payload"] = ["is invalid"]
        problems.append(problem)
        messages.append(
            {
                "topic": str(item.get("topic", "")).removeprefix("realtime:"),
                "event": item.get("event"),
                "payload": item.get("payload"),
                "private": flag(item.get("private")),
                "id": item.get("id"),
            }
        )
    if any(problems):
        return [], {"messages": problems}
    return messages, {}


def _single(
    topic: str, event: str, private: bool, body: bytes
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return [], {"payload": ["is not valid JSON"]}
    if not isinstance(payload, dict):
        return [], {"payload": ["is invalid"]}
    message = {"topic": topic.removeprefix("realtime:"), "event": event, "payload": payload}
    return [{**message, "private": private, "id": None}], {}
