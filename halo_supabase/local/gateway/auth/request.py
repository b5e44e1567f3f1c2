"""One Auth request: the gateway's parsed request plus what GoTrue reads from it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from halo_supabase.local.gateway.auth.errors import API_VERSION_HEADER, AuthError
from halo_supabase.local.gateway.auth.params import BODY_LIMIT, Params, ParamsSpec, decode
from halo_supabase.local.gateway.auth.sessions import Client
from halo_supabase.local.gateway.http import BodyTooLarge, Request

__all__ = ["AuthRequest", "Reply"]


@dataclass
class Reply:
    """What a handler answers: status, JSON body (None for no body) and extra headers."""

    status: int
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


class AuthRequest:
    def __init__(self, request: Request) -> None:
        self.http = request
        self.method = request.method
        self.headers = request.headers
        self.query = request.query()

    @property
    def api_version(self) -> str | None:
        return self.headers.get(API_VERSION_HEADER)

    async def raw_body(self) -> bytes:
        try:
            return await self.http.body(BODY_LIMIT)
        except BodyTooLarge:
            raise AuthError(
                413,
                "request_entity_too_large",
                f"Request body too large (max {BODY_LIMIT} bytes)",
            ) from None

    async def params(self, spec: ParamsSpec) -> Params:
        return decode(await self.raw_body(), spec)

    def rate_limit_key(self) -> str | None:
        """The first X-Forwarded-For value, as GoTrue reads its configured rate-limit header.

        GoTrue skips rate limiting when that header is absent; so does this service, which keeps
        direct local clients (tests, workers, all on 127.0.0.1) unlimited, as under the
        Supabase CLI, whose GoTrue has no rate-limit header configured at all.
        """
        key = self.headers.get("x-forwarded-for", "").split(",")[0].strip()
        return key or None

    def client(self) -> Client:
        """The caller's user agent and address (first X-Forwarded-For hop, as GoTrue reads it)."""
        forwarded = self.headers.get("x-forwarded-for", "").split(",")[0]
        peer = self.http.scope.get("client")
        address = _ip(forwarded) or _ip(peer[0] if peer else None)
        return Client(self.headers.get("user-agent", ""), address)

    def requested_audience(
        self, claims: dict[str, Any] | None, default: str, admin_roles: tuple[str, ...]
    ) -> str:
        """GoTrue's request audience: the X-JWT-AUD header, else a non-admin token's `aud`."""
        header = self.headers.get("x-jwt-aud")
        if header:
            return header
        if claims is not None and claims.get("role") not in admin_roles:
            aud = claims.get("aud")
            if isinstance(aud, list):
                aud = aud[0] if aud else None
            if isinstance(aud, str) and aud:
                return aud
        return default
