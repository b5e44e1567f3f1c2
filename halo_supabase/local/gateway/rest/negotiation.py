"""Request headers that shape the response: `Prefer`, `Accept`, `Content-Type`, `Range`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from halo_supabase.local.gateway.rest.errors import ApiError
from halo_supabase.local.gateway.rest.sql_builder import Body

__all__ = ["Media", "Preferences", "content_kind", "negotiate", "parse_range"]


@dataclass(frozen=True)
class Preferences:
    """What the client asked for in `Prefer`; `applied` lists what gets echoed back."""

    returning: str | None = None  # minimal | headers-only | representation
    count: str | None = None  # exact | planned | estimated
    resolution: str | None = None  # merge-duplicates | ignore-duplicates
    missing_default: bool = False
    rollback: bool = False
    max_affected: int | None = None  # only with handling=strict
    applied: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, values: list[str]) -> Preferences:
        found: dict[str, str] = {}
        for value in values:
            for item in value.split(","):
                key, _, setting = item.strip().partition("=")
                found.setdefault(key.strip().lower(), setting.strip().lower())
        returning = (
            found.get("return")
            if found.get("return") in ("minimal", "headers-only", "representation")
            else None
        )
        count = (
            found.get("count") if found.get("count") in ("exact", "planned", "estimated") else None
        )
        resolution = (
            found.get("resolution")
            if found.get("resolution") in ("merge-duplicates", "ignore-duplicates")
            else None
        )
        missing_default = found.get("missing") == "default"
        rollback = found.get("tx") == "rollback"
        applied = [
            f"{k}={v}"
            for k, v in (("return", returning), ("count", count), ("resolution", resolution))
            if v
        ]
        if missing_default:
            applied.append("missing=default")
        if found.get("tx") in ("commit", "rollback"):
            applied.append(f"tx={found['tx']}")
        max_affected = None
        if found.get("handling") == "strict" and found.get("max-affected", "").isdigit():
            max_affected = int(found["max-affected"])
            applied += ["handling=strict", f"max-affected={max_affected}"]
        return cls(
            returning, count, resolution, missing_default, rollback, max_affected, tuple(applied)
        )


@dataclass(frozen=True)
class Media:
    body: str  # Body.JSON | Body.STRIPPED | Body.CSV | "openapi"
    single: bool
    content_type: str


_JSON = "application/json; charset=utf-8"
_OBJECT = "application/vnd.pgrst.object+json; charset=utf-8"


def negotiate(accept: str | None, *, root: bool = False) -> Media:
    """The first media type in `Accept` the service can produce; else 406 PGRST107."""
    if not accept:
        accept = "*/*"
    for raw in accept.split(","):
        media, *options = (part.strip() for part in raw.split(";"))
        media = media.lower()
        stripped = "nulls=stripped" in [o.replace(" ", "").lower() for o in options]
        if root and media in (
            "application/openapi+json",
            "application/json",
            "*/*",
            "application/*",
        ):
            return Media("openapi", False, "application/openapi+json; charset=utf-8")
        if media in (
            "*/*",
            "application/*",
            "application/json",
            "application/vnd.pgrst.array+json",
        ):
            return Media(Body.STRIPPED if stripped else Body.JSON, False, _JSON)
        if media == "application/vnd.pgrst.object+json":
            return Media(Body.STRIPPED if stripped else Body.JSON, True, _OBJECT)
        if media in ("text/csv", "text/*"):
            return Media(Body.CSV, False, "text/csv; charset=utf-8")
    raise ApiError(406, "PGRST107", f"None of these media types are available: {accept}")


def content_kind(content_type: str | None) -> str:
    """`json`, `csv` or `form` for a request body; anything else is 415 PGRST107."""
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media in (
        "application/json",
        "application/vnd.pgrst.object+json",
        "application/vnd.pgrst.array+json",
    ):
        return "json"
    if media == "text/csv":
        return "csv"
    if media == "application/x-www-form-urlencoded":
        return "form"
    raise ApiError(415, "PGRST107", f"None of these media types are available: {media}")


_RANGE = re.compile(r"\s*(?:items=)?(\d+)-(\d*)\s*")


def parse_range(header: str | None) -> tuple[int, int | None] | None:
    """`Range: 0-9` → (offset 0, limit 10); `5-` → (5, None). Bad ranges are 416 PGRST103."""
    if not header:
        return None
    match = _RANGE.fullmatch(header)
    if match is None:
        return None
    first = int(match.group(1))
    if not match.group(2):
        return first, None
    last = int(match.group(2))
    if last < first:
        raise ApiError(416, "PGRST103", "Requested range not satisfiable", None, None)
    return first, last - first + 1
