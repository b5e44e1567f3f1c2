"""Object endpoints: upload, download, info, list, move, copy, remove, signed URLs.

Rows in storage.objects are read and written as the request's role, so the project's RLS
policies decide exactly as on Supabase; storage-api's superuser paths (public buckets, signed
URLs, bucket limits) use the platform connection. Bytes are written before the row and deleted
after the row's deletion commits (blobs.py), so a refused request leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import quote

from asyncpg import Record

from halo_supabase.local.gateway.storage.call import Call, json_row, owner_of
from halo_supabase.local.gateway.storage.errors import StorageError
from halo_supabase.local.gateway.storage.queries import QUERIES
from halo_supabase.local.gateway.storage.ranges import parse_range
from halo_supabase.local.gateway.storage.signing import SignedToken, object_url
from halo_supabase.local.gateway.storage.upload import read_upload

__all__ = [
    "copy_object",
    "create_signed_upload_url",
    "delete_object",
    "download",
    "list_objects",
    "move_object",
    "remove_objects",
    "sign_upload_or_upload",
    "sign_url",
    "sign_urls",
    "upload",
    "upload_with_token",
]

Access = Literal["authenticated", "public", "signed"]
_CHUNK = 256 * 1024
_SIGNED_UPLOAD_SECONDS = 2 * 60 * 60
_SORT_COLUMNS = {"name", "updated_at", "created_at", "last_accessed_at"}


class _Probe(Exception):
    """Rolls back a trial insert that only asks RLS whether an upload would be allowed."""


def check_key(name: str) -> None:
    """Object keys are non-empty paths without empty or dot segments."""
    if not name or any(segment in ("", ".", "..") for segment in name.split("/")):
        raise StorageError.invalid_key(name)


async def _bucket(call: Call, bucket_id: str) -> Record:
    async with call.as_storage() as conn:
        bucket = await conn.fetchrow(QUERIES["bucket"], bucket_id)
    if bucket is None:
        raise StorageError.no_such_bucket()
    return bucket


def _upsert_header(call: Call) -> bool:
    return call.request.headers.get("x-upsert", "false").lower() == "true"


async def upload(call: Call, *, upsert: bool | None = None) -> None:
    """POST (upsert only with `x-upsert: true`) and PUT (always overwrites) of one object."""
    object_id = await _store(call, upsert=_upsert_header(call) if upsert is None else upsert)
    await call.reply({"Id": object_id, "Key": f"{call.bucket_id}/{call.name}"})


async def upload_with_token(call: Call) -> None:
    token = call.request.query().get("token")
    if not token:
        raise StorageError.invalid_jwt("No token provided")
    signed = call.parts.signer.verify(token, call.bucket_id, call.name, "upload")
    object_id = await _store(call, upsert=signed.upsert, signed=signed)
    await call.reply({"Id": object_id, "Key": f"{call.bucket_id}/{call.name}"})


async def _store(call: Call, *, upsert: bool, signed: SignedToken | None = None) -> str:
    """Write the bytes, then the row: as the caller's role, or for a signed upload as storage
    itself on behalf of the token's owner. Returns the object's id."""
    check_key(call.name)
    bucket = await _bucket(call, call.bucket_id)
    limit = call.parts.max_file_size
    if bucket["file_size_limit"]:
        limit = min(limit, int(bucket["file_size_limit"]))
    file = await read_upload(call.request, max_size=limit, allowed=bucket["allowed_mime_types"])
    version, md5 = await call.parts.blobs.write(file.data)
    metadata = {
        "eTag": f'"{md5}"',
        "size": len(file.data),
        "mimetype": file.mimetype,
        "cacheControl": file.cache_control,
        "contentLength": len(file.data),
        "httpStatusCode": 200,
        "lastModified": datetime.now(UTC).isoformat(),
    }
    owner, owner_id = call.owner if signed is None else owner_of(signed.owner)
    query = QUERIES["upsert_object" if upsert else "insert_object"]
    try:
        connection = call.as_role() if signed is None else call.as_storage()
        async with connection as conn:
            row = await conn.fetchrow(
                query,
                call.bucket_id,
                call.name,
                owner,
                owner_id,
                version,
                json.dumps(metadata),
                json.dumps(file.user_metadata) if file.user_metadata is not None else None,
            )
    except BaseException:
        await call.parts.blobs.delete(version)
        raise
    assert row is not None
    await call.parts.blobs.delete(row["previous_version"])
    return str(row["id"])


async def _find(call: Call, access: Access) -> Record:
    bucket = await _bucket(call, call.bucket_id)
    if access == "public" and not bucket["public"]:
        raise StorageError.no_such_bucket()
    if access == "signed":
        token = call.request.query().get("token")
        if not token:
            raise StorageError.invalid_jwt("No token provided")
        call.parts.signer.verify(token, call.bucket_id, call.name, "download")
    connection = call.as_role() if access == "authenticated" else call.as_storage()
    async with connection as conn:
        row = await conn.fetchrow(QUERIES["object"], call.bucket_id, call.name)
    if row is None:
        raise StorageError.no_such_key()
    return row


async def download(call: Call, access: Access, *, info: bool = False) -> None:
    row = await _find(call, access)
    meta = json.loads(row["metadata"]) if row["metadata"] else {}
    if info:
        await call.reply(
            {
                "id": str(row["id"]),
                "name": row["name"],
                "version": row["version"],
                "bucket_id": row["bucket_id"],
                "size": meta.get("size"),
                "content_type": meta.get("mimetype"),
                "cache_control": meta.get("cacheControl"),
                "etag": meta.get("eTag"),
                "metadata": json.loads(row["user_metadata"]) if row["user_metadata"] else None,
                "last_modified": json_row(row)["updated_at"],
                "created_at": json_row(row)["created_at"],
            }
        )
        return
    path = call.parts.blobs.path(row["version"])
    size = path.stat().st_size
    etag = str(meta.get("eTag") or "")
    headers = [
        (b"content-type", str(meta.get("mimetype") or "application/octet-stream").encode()),
        (b"cache-control", str(meta.get("cacheControl") or "no-cache").encode()),
        (b"etag", etag.encode()),
        (b"last-modified", format_datetime(row["updated_at"], usegmt=True).encode()),
        (b"accept-ranges", b"bytes"),
    ]
    download_name = call.request.query().get("download")
    if download_name is not None:
        filename = download_name or call.name.rsplit("/", 1)[-1]
        headers.append(
            (b"content-disposition", f"attachment; filename*=UTF-8''{quote(filename)}".encode())
        )
    if etag and call.request.headers.get("if-none-match") == etag:
        await call.send({"type": "http.response.start", "status": 304, "headers": headers})
        await call.send({"type": "http.response.body", "body": b""})
        return
    status, first, last = 200, 0, size - 1
    if "range" in call.request.headers:
        status = 206
        first, last = parse_range(call.request.headers["range"], size)
        headers.append((b"content-range", f"bytes {first}-{last}/{size}".encode()))
    headers.append((b"content-length", str(last - first + 1).encode()))
    await call.send({"type": "http.response.start", "status": status, "headers": headers})
    if call.request.method == "HEAD":
        await call.send({"type": "http.response.body", "body": b""})
        return
    with path.open("rb") as file:
        file.seek(first)
        remaining = last - first + 1
        while True:
            chunk = await asyncio.to_thread(file.read, min(_CHUNK, remaining))
            remaining -= len(chunk)
            more = remaining > 0 and bool(chunk)
            await call.send({"type": "http.response.body", "body": chunk, "more_body": more})
            if not more:
                break


async def list_objects(call: Call) -> None:
    body = await call.json_body()
    prefix = body.get("prefix")
    if not isinstance(prefix, str):
        raise StorageError.invalid_request("body must have required property 'prefix'")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    search = str(body.get("search") or "")
    sort = body.get("sortBy") or {}
    column = sort.get("column", "name") if isinstance(sort, dict) else "name"
    order = str(sort.get("order", "asc")).lower() if isinstance(sort, dict) else "asc"
    limit, offset = body.get("limit", 100), body.get("offset", 0)
    if column not in _SORT_COLUMNS or order not in ("asc", "desc"):
        raise StorageError.invalid_request("body/sortBy is invalid")
    if not isinstance(limit, int) or limit < 1 or not isinstance(offset, int) or offset < 0:
        raise StorageError.invalid_request("body/limit and body/offset must be integers")
    async with call.as_role() as conn:
        rows = await conn.fetch(
            QUERIES["search"],
            prefix,
            call.bucket_id,
            limit,
            len((prefix + search).split("/")),
            offset,
            search,
            column,
            order,
        )
    await call.reply([json_row(row) for row in rows])


def _move_body(body: dict[str, Any]) -> tuple[str, str, str, str]:
    bucket_id, source, destination = (
        body.get("bucketId"),
        body.get("sourceKey"),
        body.get("destinationKey"),
    )
    if not all(isinstance(value, str) and value for value in (bucket_id, source, destination)):
        raise StorageError.invalid_request(
            "body must have required properties 'bucketId', 'sourceKey', 'destinationKey'"
        )
    assert isinstance(bucket_id, str) and isinstance(source, str) and isinstance(destination, str)
    destination_bucket = body.get("destinationBucket") or bucket_id
    check_key(destination)
    return bucket_id, source, str(destination_bucket), destination


async def move_object(call: Call) -> None:
    bucket_id, source, destination_bucket, destination = _move_body(await call.json_body())
    await _bucket(call, destination_bucket)
    async with call.as_role() as conn:
        if await conn.fetchrow(QUERIES["object"], bucket_id, source) is None:
            raise StorageError.no_such_key()
        moved = await conn.fetchrow(
            QUERIES["move_object"], bucket_id, source, destination_bucket, destination
        )
    if moved is None:
        raise StorageError.no_such_key()
    await call.reply(
        {"message": "Successfully moved", "Id": str(moved["id"]), "Key": moved["name"]}
    )


async def copy_object(call: Call) -> None:
    bucket_id, source, destination_bucket, destination = _move_body(await call.json_body())
    await _bucket(call, destination_bucket)
    owner, owner_id = call.owner
    query = QUERIES["upsert_object" if _upsert_header(call) else "insert_object"]
    async with call.as_role() as conn:
        original = await conn.fetchrow(QUERIES["object"], bucket_id, source)
        if original is None:
            raise StorageError.no_such_key()
        version = await call.parts.blobs.copy(original["version"])
        try:
            async with conn.transaction():
                row = await conn.fetchrow(
                    query,
                    destination_bucket,
                    destination,
                    owner,
                    owner_id,
                    version,
                    original["metadata"],
                    original["user_metadata"],
                )
        except BaseException:
            await call.parts.blobs.delete(version)
            raise
    assert row is not None
    await call.parts.blobs.delete(row["previous_version"])
    await call.reply({"Id": str(row["id"]), "Key": f"{destination_bucket}/{destination}"})


async def _delete(call: Call, names: list[str]) -> list[Record]:
    async with call.as_role() as conn:
        rows = await conn.fetch(QUERIES["delete_objects"], call.bucket_id, names)
    await call.parts.blobs.delete(*(row["version"] for row in rows))
    return rows


async def remove_objects(call: Call) -> None:
    prefixes = (await call.json_body()).get("prefixes")
    if not isinstance(prefixes, list) or not prefixes or len(prefixes) > 1000:
        raise StorageError.invalid_request("body/prefixes must be a list of 1 to 1000 names")
    rows = await _delete(call, [str(name) for name in prefixes])
    await call.reply([json_row(row) for row in rows])


async def delete_object(call: Call) -> None:
    await _bucket(call, call.bucket_id)
    if not await _delete(call, [call.name]):
        raise StorageError.no_such_key()
    await call.reply({"message": "Successfully deleted"})


def _expires_in(body: dict[str, Any]) -> int:
    try:
        seconds = int(body.get("expiresIn"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StorageError.invalid_request("body must have required property 'expiresIn'") from None
    if seconds < 1:
        raise StorageError.invalid_request("body/expiresIn must be >= 1")
    return seconds


async def sign_url(call: Call) -> None:
    expires_in = _expires_in(await call.json_body())
    await _bucket(call, call.bucket_id)
    async with call.as_role() as conn:
        if await conn.fetchrow(QUERIES["object"], call.bucket_id, call.name) is None:
            raise StorageError.no_such_key()
    token = call.parts.signer.sign(call.bucket_id, call.name, "download", expires_in)
    await call.reply(
        {"signedURL": f"/object/sign/{object_url(call.bucket_id, call.name)}?token={token}"}
    )


async def sign_urls(call: Call) -> None:
    body = await call.json_body()
    expires_in = _expires_in(body)
    paths = body.get("paths")
    if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
        raise StorageError.invalid_request("body must have required property 'paths'")
    async with call.as_role() as conn:
        visible = {
            row["name"] for row in await conn.fetch(QUERIES["visible_names"], call.bucket_id, paths)
        }
    results = []
    for path in paths:
        if path in visible:
            token = call.parts.signer.sign(call.bucket_id, path, "download", expires_in)
            signed = f"/object/sign/{object_url(call.bucket_id, path)}?token={token}"
            results.append({"error": None, "path": path, "signedURL": signed})
        else:
            results.append(
                {
                    "error": "Either the object does not exist or you do not have access to it",
                    "path": path,
                    "signedURL": None,
                }
            )
    await call.reply(results)


async def sign_upload_or_upload(call: Call) -> None:
    """POST /object/upload/sign/…: with `?token=` it is the upload itself, else the signing."""
    if "token" in call.request.query():
        await upload_with_token(call)
    else:
        await create_signed_upload_url(call)


async def create_signed_upload_url(call: Call) -> None:
    check_key(call.name)
    await _bucket(call, call.bucket_id)
    upsert = _upsert_header(call)
    owner, owner_id = call.owner
    async with call.as_role() as conn:
        try:
            async with conn.transaction():
                await conn.fetchrow(
                    QUERIES["upsert_object" if upsert else "insert_object"],
                    call.bucket_id,
                    call.name,
                    owner,
                    owner_id,
                    "probe",
                    None,
                    None,
                )
                raise _Probe
        except _Probe:
            pass
    token = call.parts.signer.sign(
        call.bucket_id,
        call.name,
        "upload",
        _SIGNED_UPLOAD_SECONDS,
        owner=owner_id,
        upsert=upsert,
    )
    url = f"/object/upload/sign/{object_url(call.bucket_id, call.name)}?token={token}"
    await call.reply({"url": url, "token": token})
