"""Bucket endpoints: create, get, list, update, empty, delete — each as the request's role."""

from __future__ import annotations

import re
from typing import Any

from halo_supabase.local.gateway.storage.call import Call, json_row
from halo_supabase.local.gateway.storage.errors import StorageError
from halo_supabase.local.gateway.storage.queries import QUERIES

__all__ = [
    "create_bucket",
    "delete_bucket",
    "empty_bucket",
    "get_bucket",
    "list_buckets",
    "update_bucket",
]

# storage-api's bucket name rule (letters, digits and a few punctuation marks; no slashes).
_BUCKET_NAME = re.compile(r"^[\w!\-.*'() &$@=;:+,?]+$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}


def parse_file_size_limit(value: object) -> int | None:
    """An integer number of bytes, or a string such as "20MB" as storage-api accepts."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if match is None:
        raise StorageError.invalid_request(
            "Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B"
        )
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])


def _mime_types(value: object) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise StorageError.invalid_request("allowed_mime_types must be a list of strings")
    return [item for item in value if item]


def _bucket_json(row: Any) -> dict[str, Any]:
    bucket = json_row(row)
    # storage-api's response schema types owner as a string, so a null owner goes out as "".
    bucket["owner"] = bucket.get("owner") or ""
    bucket["type"] = "STANDARD"
    return bucket


_BUCKET_SORT_COLUMNS = {"id", "name", "created_at", "updated_at"}


async def list_buckets(call: Call) -> None:
    """GET /bucket with storage-js's optional limit, offset, search, sortColumn, sortOrder."""
    query = call.request.query()
    column = query.get("sortColumn", "name")
    order = query.get("sortOrder", "asc").lower()
    try:
        limit = int(query["limit"]) if "limit" in query else None
        offset = int(query.get("offset", "0"))
    except ValueError:
        raise StorageError.invalid_request(
            "querystring/limit and offset must be integers"
        ) from None
    if column not in _BUCKET_SORT_COLUMNS or order not in ("asc", "desc"):
        raise StorageError.invalid_request("querystring/sortColumn or sortOrder is invalid")
    async with call.as_role() as conn:
        rows = await conn.fetch(
            QUERIES["list_buckets"], query.get("search") or None, column, order, limit, offset
        )
    await call.reply([_bucket_json(row) for row in rows])


async def get_bucket(call: Call) -> None:
    async with call.as_role() as conn:
        row = await conn.fetchrow(QUERIES["bucket"], call.bucket_id)
    if row is None:
        raise StorageError.no_such_bucket()
    await call.reply(_bucket_json(row))


async def create_bucket(call: Call) -> None:
    body = await call.json_body()
    name = body.get("name") or body.get("id")
    bucket_id = body.get("id") or name
    if not isinstance(name, str) or not isinstance(bucket_id, str):
        raise StorageError.invalid_request("body must have required property 'name'")
    if not _BUCKET_NAME.match(bucket_id) or len(bucket_id) > 100:
        raise StorageError.invalid_bucket_name()
    owner, owner_id = call.owner
    async with call.as_role() as conn:
        await conn.execute(
            QUERIES["insert_bucket"],
            bucket_id,
            name,
            owner,
            owner_id,
            bool(body.get("public", False)),
            parse_file_size_limit(body.get("file_size_limit")),
            _mime_types(body.get("allowed_mime_types")),
        )
    await call.reply({"name": name})


async def update_bucket(call: Call) -> None:
    body = await call.json_body()
    public = body.get("public")
    async with call.as_role() as conn:
        updated = await conn.fetchval(
            QUERIES["update_bucket"],
            call.bucket_id,
            bool(public) if public is not None else None,
            "file_size_limit" in body,
            parse_file_size_limit(body.get("file_size_limit")),
            "allowed_mime_types" in body,
            _mime_types(body.get("allowed_mime_types")),
        )
    if updated is None:
        raise StorageError.no_such_bucket()
    await call.reply({"message": "Successfully updated"})


async def empty_bucket(call: Call) -> None:
    async with call.as_role() as conn:
        if await conn.fetchrow(QUERIES["bucket"], call.bucket_id) is None:
            raise StorageError.no_such_bucket()
        versions = [
            row["version"] for row in await conn.fetch(QUERIES["empty_bucket"], call.bucket_id)
        ]
    await call.parts.blobs.delete(*versions)
    await call.reply({"message": "Successfully emptied"})


async def delete_bucket(call: Call) -> None:
    async with call.as_role() as conn:
        if await conn.fetchrow(QUERIES["bucket"], call.bucket_id) is None:
            raise StorageError.no_such_bucket()
        async with call.as_storage() as storage:
            if await storage.fetchval(QUERIES["bucket_has_objects"], call.bucket_id):
                raise StorageError.bucket_not_empty()
        if await conn.fetchval(QUERIES["delete_bucket"], call.bucket_id) is None:
            raise StorageError.no_such_bucket()
    await call.reply({"message": "Successfully deleted"})
