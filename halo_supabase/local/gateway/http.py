"""Small HTTP plumbing over raw ASGI: parsed requests, JSON/bytes responses, CORS.

Raw ASGI rather than a framework keeps the per-request overhead of the gateway low (its goal is at
most 1 ms median over direct SQL).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

__all__ = [
    "CORS_ALLOW_HEADERS",
    "CORS_EXPOSE_HEADERS",
    "CORS_METHODS",
    "ASGIApp",
    "BodyTooLarge",
    "Message",
    "Receive",
    "Request",
    "Scope",
    "Send",
    "cors_headers",
    "dumps",
    "send_bytes",
    "send_json",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CORS_ALLOW_HEADERS = (
    "authorization, x-client-info, apikey, content-type, x-retry-count, prefer, accept-profile, "
    "content-profile, range, range-unit, x-supabase-api-version, x-region, x-upsert, cache-control"
)
CORS_EXPOSE_HEADERS = (
    "Content-Range, Range-Unit, Location, Content-Location, Content-Type, Preference-Applied, "
    "X-Supabase-Api-Version, Content-Length, ETag, X-Total-Count, Link"
)
CORS_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


class BodyTooLarge(Exception):
    """The request body is over the service's limit; the service answers 413 in its own shape."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body is larger than {limit} bytes")


@dataclass
class Request:
    """One HTTP request. `path` is relative to the service's prefix (e.g. `/todos` for /rest/v1/todos)."""

    scope: Scope
    receive: Receive
    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    header_list: list[tuple[str, str]] = field(default_factory=list)
    _body: bytes | None = None

    @classmethod
    def from_scope(cls, scope: Scope, receive: Receive) -> Request:
        header_list = [
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", [])
        ]
        headers: dict[str, str] = {}
        for name, value in header_list:
            # Repeated headers (supabase-py sends X-Client-Info twice after .schema()) keep the first.
            headers.setdefault(name, value)
        return cls(
            scope=scope,
            receive=receive,
            method=scope.get("method", "GET").upper(),
            path=scope["path"],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            header_list=header_list,
        )

    def query_items(self) -> list[tuple[str, str]]:
        """Query parameters in order, percent-decoded, repeated keys kept."""
        return parse_qsl(self.query_string, keep_blank_values=True)

    def query(self) -> dict[str, str]:
        return dict(self.query_items())

    @property
    def path_unquoted(self) -> str:
        return unquote(self.path)

    async def body(self, limit: int) -> bytes:
        """The whole body, refusing more than `limit` bytes without reading it all."""
        if self._body is not None:
            return self._body
        declared = self.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self._body = b"".join(chunks)
        return self._body


def cors_headers(request_headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """CORS headers as Supabase's gateway answers browsers (any origin; credentials are tokens)."""
    origin = request_headers.get("origin")
    headers = [
        (b"access-control-allow-origin", (origin or "*").encode("latin-1")),
        (b"access-control-expose-headers", CORS_EXPOSE_HEADERS.encode()),
    ]
    if origin:
        headers.append((b"vary", b"Origin"))
    return headers


def _encode_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    *,
    content_type: str | None = "application/json; charset=utf-8",
    headers: Iterable[tuple[str, str]] = (),
    head_only: bool = False,
) -> None:
    raw = _encode_headers(headers)
    if content_type is not None and status != 204:
        raw.append((b"content-type", content_type.encode("latin-1")))
    if status not in (204, 304):
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head_only or status == 204 else body})


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


async def send_json(
    send: Send,
    status: int,
    value: object,
    *,
    headers: Iterable[tuple[str, str]] = (),
    head_only: bool = False,
) -> None:
    await send_bytes(send, status, dumps(value), headers=headers, head_only=head_only)
