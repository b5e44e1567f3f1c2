"""Reading an upload as storage3 and storage-js send it: multipart form data or a raw body.

Form uploads carry the file as the first file part (its Content-Type is the object's MIME type
unless a `contentType` field overrides it), `cacheControl` seconds and `metadata` JSON; raw
uploads carry the MIME type in Content-Type, `cache-control` as a header value and the user
metadata base64-encoded in `x-metadata`. Limits are checked before anything is written.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from halo_supabase.local.gateway.http import BodyTooLarge, Request
from halo_supabase.local.gateway.storage.errors import StorageError

__all__ = ["UploadedFile", "check_mime_type", "read_upload"]

# Room for the multipart boundaries and form fields around the file itself.
_FORM_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class UploadedFile:
    data: bytes
    mimetype: str
    cache_control: str
    user_metadata: dict[str, Any] | None


def check_mime_type(mimetype: str, allowed: list[str] | None) -> None:
    """storage-api's rule: `type/subtype` must match an allowed entry exactly or `type/*`."""
    if not allowed:
        return
    requested = mimetype.split(";", 1)[0].strip().lower().split("/")
    if len(requested) >= 2:
        for entry in allowed:
            kind, _, subtype = entry.strip().lower().partition("/")
            if kind == requested[0] and subtype in ("*", requested[1]):
                return
    raise StorageError.invalid_mime_type(mimetype)


async def read_upload(
    request: Request, *, max_size: int, allowed: list[str] | None
) -> UploadedFile:
    content_type = request.headers.get("content-type", "")
    is_form = content_type.lower().startswith("multipart/form-data")
    if not is_form:
        mimetype = content_type or "application/octet-stream"
        check_mime_type(mimetype, allowed)
    try:
        body = await request.body(max_size + (_FORM_OVERHEAD if is_form else 0))
    except BodyTooLarge:
        raise StorageError.too_large() from None
    if is_form:
        upload = _parse_form(content_type, body)
        check_mime_type(upload.mimetype, allowed)
    else:
        upload = UploadedFile(
            data=body,
            mimetype=mimetype,
            cache_control=request.headers.get("cache-control", "no-cache"),
            user_metadata=_header_metadata(request.headers.get("x-metadata")),
        )
    if len(upload.data) > max_size:
        raise StorageError.too_large()
    return upload


def _parse_form(content_type: str, body: bytes) -> UploadedFile:
    fields: dict[str, str] = {}
    file_part: _Part | None = None
    for part in _form_parts(content_type, body):
        if part.filename is not None:
            file_part = file_part or part
        elif part.name is not None:
            fields[part.name] = part.data.decode("utf-8", "replace")
    if file_part is None:
        raise StorageError.invalid_request("No content provided")
    cache_seconds = fields.get("cacheControl")
    return UploadedFile(
        data=file_part.data,
        mimetype=fields.get("contentType") or file_part.content_type,
        cache_control=f"max-age={cache_seconds}" if cache_seconds else "no-cache",
        user_metadata=_json_object(fields.get("metadata") or fields.get("userMetadata")),
    )


@dataclass(frozen=True)
class _Part:
    name: str | None
    filename: str | None
    content_type: str
    data: bytes


def _form_parts(content_type: str, body: bytes) -> list[_Part]:
    """The parts of a multipart/form-data body (RFC 7578), bytes kept exactly as sent."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise StorageError.invalid_request("No content provided")
    delimiter = b"--" + match.group(1).encode("latin-1")
    parts = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, separator, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            continue
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        parts.append(
            _Part(
                name=_disposition_param(disposition, "name"),
                filename=_disposition_param(disposition, "filename"),
                content_type=headers.get("content-type", "application/octet-stream"),
                data=data.removesuffix(b"\r\n"),
            )
        )
    return parts


def _disposition_param(disposition: str, param: str) -> str | None:
    match = re.search(rf'(?:^|;)\s*{param}="([^"]*)"', disposition)
    return match.group(1) if match else None


def _header_metadata(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        return _json_object(base64.b64decode(value, validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError):
        raise StorageError.invalid_request("Invalid x-metadata header") from None


def _json_object(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
