"""Request bodies of writes: JSON objects or arrays, CSV, form data → rows and their columns."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from halo_supabase.local.gateway.rest.errors import ApiError
from halo_supabase.local.gateway.rest.negotiation import content_kind
from halo_supabase.local.gateway.rest.schema_cache import Relation

__all__ = ["check_columns", "insert_columns", "parse_payload"]


def parse_payload(content_type: str | None, raw: bytes) -> Any:
    """The rows a body carries (a dict or a list of dicts); bad JSON is 400 PGRST102."""
    kind = content_kind(content_type)
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8", "replace")))
        # PostgREST reads the unquoted word NULL in CSV as SQL NULL.
        return [{k: (None if v == "NULL" else v) for k, v in row.items()} for row in reader]
    if kind == "form":
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        value = json.loads(raw) if raw.strip() else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict | list):
        raise ApiError(400, "PGRST102", "Empty or invalid json", None, None)
    return value


def insert_columns(
    objects: list[dict[str, Any]], declared: tuple[str, ...] | None
) -> tuple[list[str], set[str]]:
    if not objects:
        return list(declared or ()), set()
    key_sets = [set(o) for o in objects]
    everywhere = set.intersection(*key_sets)
    if declared is not None:
        return list(declared), everywhere & set(declared)
    if any(keys != key_sets[0] for keys in key_sets):
        raise ApiError(400, "PGRST102", "All object keys must match", None, None)
    return list(objects[0]), everywhere


def check_columns(relation: Relation, columns: Iterable[str]) -> None:
    for column in columns:
        if column not in relation.columns:
            raise ApiError(
                400,
                "PGRST204",
                f"Could not find the '{column}' column of '{relation.name}' in the schema cache",
                None,
                None,
            )
