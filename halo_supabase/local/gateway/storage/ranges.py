"""Single byte ranges of a download (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`), as
storage-api serves video and resumed downloads."""

from __future__ import annotations

import re

from halo_supabase.local.gateway.storage.errors import StorageError

__all__ = ["parse_range"]

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _invalid() -> StorageError:
    return StorageError(
        416, "InvalidRange", "invalid range provided", error="invalid_range", http_status=416
    )


def parse_range(header: str, size: int) -> tuple[int, int]:
    """(first, last) byte offsets, inclusive, clamped to the object; 416 when unsatisfiable."""
    match = _RANGE.match(header.strip())
    if match is None or size <= 0 or match.group(1) == match.group(2) == "":
        raise _invalid()
    start, end = match.groups()
    if not start:
        suffix = int(end)
        if suffix <= 0:
            raise _invalid()
        return max(size - suffix, 0), size - 1
    first = int(start)
    last = int(end) if end else size - 1
    if first > last or first >= size:
        raise _invalid()
    return first, min(last, size - 1)
