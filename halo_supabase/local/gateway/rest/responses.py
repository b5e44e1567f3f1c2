"""Responses as PostgREST shapes them: status, Content-Range, Preference-Applied, GUC overrides.

Every statement built by `sql_builder` returns one row: (total count, rows in the page, body,
`response.headers`, `response.status`); these functions turn it into the HTTP response.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import asyncpg

from halo_supabase.local.gateway.http import dumps
from halo_supabase.local.gateway.rest.errors import ApiError
from halo_supabase.local.gateway.rest.negotiation import Media, Preferences

__all__ = [
    "Response",
    "error_response",
    "page_response",
    "response_headers",
    "singular_error",
    "status_override",
    "write_response",
]


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def response_headers(row: asyncpg.Record | None, prefs: Preferences) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    if prefs.applied:
        headers.append(("Preference-Applied", ", ".join(prefs.applied)))
    if row is not None and row[3]:
        try:
            for entry in json.loads(row[3]):
                headers.extend((str(k), str(v)) for k, v in entry.items())
        except (json.JSONDecodeError, AttributeError, TypeError):
            raise ApiError(
                500,
                "PGRST111",
                "response.headers guc must be a JSON array composed of objects with a single key and a string value",
            ) from None
    return tuple(headers)


def status_override(row: asyncpg.Record | None, status: int) -> int:
    if row is None or not row[4]:
        return status
    if not str(row[4]).isdigit():
        raise ApiError(500, "PGRST112", "response.status guc must be a valid status code")
    return int(row[4])


def singular_error(rows: int) -> ApiError:
    return ApiError(
        406,
        "PGRST116",
        "Cannot coerce the result to a single JSON object",
        f"The result contains {rows} rows",
        None,
    )


def page_response(
    row: asyncpg.Record, total: int | None, offset: int, media: Media, prefs: Preferences
) -> Response:
    page = int(row[1])
    if media.single:
        if page != 1:
            raise singular_error(page)
        body = row[2].strip()[1:-1].strip().encode()
    else:
        body = row[2].encode()
    status = 200
    if total is not None and offset > 0 and offset >= total and page == 0:
        raise ApiError(
            416,
            "PGRST103",
            "Requested range not satisfiable",
            f"An offset of {offset} was requested, but there are only {total} rows.",
            None,
        )
    if total is not None and (offset > 0 or page < total):
        status = 206 if page < total else 200
    shown = "*" if total is None else str(total)
    content_range = f"{offset}-{offset + page - 1}/{shown}" if page else f"*/{shown}"
    headers = (("Content-Range", content_range), *response_headers(row, prefs))
    return Response(status_override(row, status), body, media.content_type, headers)


def write_response(
    created: bool, count: int, row: asyncpg.Record | None, prefs: Preferences, media: Media
) -> Response:
    total = str(count) if prefs.count else "*"
    content_range = f"*/{total}" if created or not count else f"0-{count - 1}/{total}"
    headers = (("Content-Range", content_range), *response_headers(row, prefs))
    if row is not None and prefs.returning == "representation":
        body = row[2].strip()[1:-1].strip().encode() if media.single else row[2].encode()
        return Response(
            status_override(row, 201 if created else 200), body, media.content_type, headers
        )
    return Response(status_override(row, 201 if created else 204), b"", None, headers)


def error_response(error: ApiError) -> Response:
    headers = (*error.headers, ("Proxy-Status", f"PostgREST; error={error.code}"))
    return Response(error.status, dumps(error.body()), "application/json; charset=utf-8", headers)
