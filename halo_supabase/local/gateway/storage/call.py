"""What a storage handler works with: the request, who makes it, and the service's parts."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from halo_supabase.local.gateway.credentials import Credentials
from halo_supabase.local.gateway.db import GatewayDatabase
from halo_supabase.local.gateway.http import Request, Send, dumps, send_bytes
from halo_supabase.local.gateway.storage.blobs import BlobStore
from halo_supabase.local.gateway.storage.errors import StorageError, from_database
from halo_supabase.local.gateway.storage.signing import UrlSigner

__all__ = ["Call", "StorageParts", "json_row", "owner_of"]


@dataclass(frozen=True)
class StorageParts:
    db: GatewayDatabase
    blobs: BlobStore
    signer: UrlSigner
    max_file_size: int


@dataclass
class Call:
    parts: StorageParts
    request: Request
    send: Send
    credentials: Credentials
    bucket_id: str = ""
    name: str = ""

    @asynccontextmanager
    async def as_role(self) -> AsyncIterator[PoolConnectionProxy]:
        """One transaction as the request's role (RLS decides); database errors in storage's shape."""
        try:
            async with self.parts.db.as_request(
                self.credentials,
                method=self.request.method,
                path=self.request.path,
                headers=self.request.headers,
                search_path="storage, public, extensions",
            ) as conn:
                yield conn
        except asyncpg.PostgresError as exc:
            raise from_database(exc) from exc

    @asynccontextmanager
    async def as_storage(self) -> AsyncIterator[PoolConnectionProxy]:
        """The platform's own connection, where storage-api acts as superuser (public reads,
        signed URLs, bucket limits)."""
        try:
            async with self.parts.db.admin() as conn, conn.transaction():
                yield conn
        except asyncpg.PostgresError as exc:
            raise from_database(exc) from exc

    @property
    def owner(self) -> tuple[uuid.UUID | None, str | None]:
        return owner_of(self.credentials.user_id)

    async def json_body(self) -> dict[str, Any]:
        try:
            raw = await self.request.body(1024 * 1024)
            value = json.loads(raw or b"{}")
        except ValueError:
            raise StorageError.invalid_request("Body is not valid JSON") from None
        if not isinstance(value, dict):
            raise StorageError.invalid_request("body must be object")
        return value

    async def reply(self, value: object, status: int = 200) -> None:
        await send_bytes(
            self.send, status, dumps(value), content_type="application/json; charset=utf-8"
        )


def owner_of(sub: str | None) -> tuple[uuid.UUID | None, str | None]:
    """(owner uuid, owner_id text) as storage-api records an uploader from the JWT `sub`."""
    try:
        return (uuid.UUID(sub) if sub else None), sub
    except ValueError:
        return None, sub


def json_row(record: Record | Mapping[str, Any]) -> dict[str, Any]:
    """A row as storage-api serializes it: ISO timestamps, string ids, parsed jsonb."""
    result: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, datetime):
            result[key] = value.isoformat().replace("+00:00", "Z")
        elif isinstance(value, uuid.UUID):
            result[key] = str(value)
        elif key in ("metadata", "user_metadata") and isinstance(value, str):
            result[key] = json.loads(value)
        else:
            result[key] = value
    return result
