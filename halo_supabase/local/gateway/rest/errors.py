"""PostgREST's error body `{code, message, details, hint}` and its HTTP status rules.

Errors raised by the service itself carry PostgREST's `PGRSTnnn` codes; errors raised by
PostgreSQL keep their SQLSTATE and get the HTTP status PostgREST maps it to.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from halo_supabase.local.gateway.credentials import CredentialsError, Problem

__all__ = ["ApiError", "from_postgres", "status_for_sqlstate"]


class ApiError(Exception):
    """An error response: HTTP status, PostgREST code, message, details and hint."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        hint: Any = None,
        *,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "details": self.details,
            "hint": self.hint,
            "message": self.message,
        }


# Exact SQLSTATEs first, then two-character classes (PostgREST's Error.hs table).
_EXACT = {
    "23503": 409,
    "23505": 409,
    "25006": 405,
    "53400": 500,
    "57P01": 503,
    "P0001": 400,
    "42883": 404,
    "42P01": 404,
    "42P17": 500,
}
_CLASSES = {
    "08": 503,
    "09": 500,
    "0L": 403,
    "0P": 403,
    "25": 500,
    "28": 403,
    "2D": 500,
    "38": 500,
    "39": 500,
    "3B": 500,
    "40": 500,
    "53": 503,
    "54": 500,
    "55": 500,
    "57": 500,
    "58": 500,
    "F0": 500,
    "HV": 500,
    "P0": 500,
    "XX": 500,
}


def status_for_sqlstate(sqlstate: str, message: str, *, authenticated: bool) -> int:
    """The HTTP status PostgREST answers for a PostgreSQL error."""
    if sqlstate == "42501":
        # Permission denied: a request without a JWT could succeed after signing in.
        return 403 if authenticated else 401
    if sqlstate == "21000":
        return 400 if message.endswith("requires a WHERE clause") else 500
    if sqlstate == "22023":
        return 401 if message.startswith("role ") and message.endswith("does not exist") else 400
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    if sqlstate in _EXACT:
        return _EXACT[sqlstate]
    return _CLASSES.get(sqlstate[:2], 400)


def from_postgres(exc: asyncpg.PostgresError, *, authenticated: bool) -> ApiError:
    """The response for an error PostgreSQL raised while running a request."""
    sqlstate = exc.sqlstate or "XX000"
    message = str(getattr(exc, "message", None) or exc)
    details = getattr(exc, "detail", None)
    hint = getattr(exc, "hint", None)
    if sqlstate == "PGRST":
        return _raised_by_function(message, details)
    status = status_for_sqlstate(sqlstate, message, authenticated=authenticated)
    headers: tuple[tuple[str, str], ...] = ()
    if status == 401:
        headers = (("WWW-Authenticate", "Bearer"),)
    return ApiError(status, sqlstate, message, details, hint, headers=headers)


def _raised_by_function(message: str, detail: str | None) -> ApiError:
    """`RAISE SQLSTATE 'PGRST' USING message = '<error json>', detail = '<response json>'`."""
    try:
        body = json.loads(message)
        response = json.loads(detail or "{}")
        status = int(response.get("status", 400))
        headers = tuple((str(k), str(v)) for k, v in dict(response.get("headers", {})).items())
        return ApiError(
            status,
            str(body.get("code", "")),
            str(body.get("message", "")),
            body.get("details"),
            body.get("hint"),
            headers=headers,
        )
    except (ValueError, TypeError, AttributeError):
        return ApiError(
            500,
            "PGRST121",
            "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
            "Invalid JSON value for MESSAGE or DETAIL",
            None,
        )


def from_credentials(exc: CredentialsError) -> ApiError:
    """401 in PostgREST's words for a JWT that cannot be used (PGRST301 invalid, PGRST303 claims)."""
    code, message = "PGRST301", str(exc)
    if exc.problem is Problem.EXPIRED:
        code, message = "PGRST303", "JWT expired"
    elif exc.problem is Problem.BAD_SIGNATURE:
        message = "No suitable key or wrong key type"
    elif exc.problem is Problem.MISSING_CLAIM:
        code = "PGRST303"
    elif exc.problem is Problem.UNKNOWN_KEY:
        message = "Invalid API key"
    return ApiError(
        401,
        code,
        message,
        None,
        None,
        headers=(
            ("WWW-Authenticate", f'Bearer error="invalid_token", error_description="{message}"'),
        ),
    )
