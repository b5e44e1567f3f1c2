"""Storage's pure rules: MIME allow-lists, size limits, multipart parsing."""

from __future__ import annotations

import pytest

from halo_supabase.local.gateway.storage.buckets import parse_file_size_limit
from halo_supabase.local.gateway.storage.errors import StorageError
from halo_supabase.local.gateway.storage.upload import _form_parts, check_mime_type


@pytest.mark.parametrize(
    ("mimetype", "allowed"),
    [
        ("image/png", ["image/*"]),
        ("text/plain;charset=UTF-8", ["text/plain"]),
        ("TEXT/PLAIN", ["text/plain"]),
        ("application/pdf", None),
        ("application/pdf", []),
    ],
)
def test_allowed_mime_types(mimetype: str, allowed: list[str] | None) -> None:
    check_mime_type(mimetype, allowed)


@pytest.mark.parametrize("mimetype", ["application/pdf", "text", "imagepng", ""])
def test_refused_mime_types(mimetype: str) -> None:
    with pytest.raises(StorageError) as refused:
        check_mime_type(mimetype, ["image/*", "text/plain"])
    assert (refused.value.status, refused.value.error) == (415, "invalid_mime_type")


def test_file_size_limits() -> None:
    assert parse_file_size_limit(1024) == 1024
    assert parse_file_size_limit("20MB") == 20_000_000
    assert parse_file_size_limit("3 kb") == 3000
    assert parse_file_size_limit(None) is None
    with pytest.raises(StorageError):
        parse_file_size_limit("twenty")


def test_multipart_keeps_binary_bytes_exactly() -> None:
    payload = b"\r\n--not-the-boundary\r\n\x00\xff\r"
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="cacheControl"\r\n\r\n'
        b"3600\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name=""; filename="blob"\r\n'
        b"Content-Type: image/png\r\n\r\n" + payload + b"\r\n"
        b"--XyZ--\r\n"
    )
    parts = _form_parts("multipart/form-data; boundary=XyZ", body)
    assert [(p.name, p.filename, p.content_type) for p in parts] == [
        ("cacheControl", None, "application/octet-stream"),
        ("", "blob", "image/png"),
    ]
    assert parts[0].data == b"3600"
    assert parts[1].data == payload
