"""Auth errors and how GoTrue words them on the wire.

GoTrue answers in one of two shapes, chosen by the request's `X-Supabase-Api-Version` header:

* a date on or after 2024-01-01: body `{"code": "<error code>", "message": …}` and the response
  header `X-Supabase-Api-Version: 2024-01-01` (supabase_auth trusts `code` only when that header
  comes back);
* absent, malformed or older: the legacy body `{"code": <HTTP status>, "error_code": …, "msg": …}`.

Weak passwords add `"weak_password": {"reasons": [...]}` in both shapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

__all__ = ["API_VERSION_2024", "AuthError", "render_error", "weak_password"]

API_VERSION_HEADER = "x-supabase-api-version"
API_VERSION_2024 = "2024-01-01"
_API_VERSION_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class AuthError(Exception):
    """A GoTrue error: HTTP status, machine-readable code, human message."""

    status: int
    code: str
    message: str
    weak_password_reasons: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def weak_password(message: str, reasons: list[str]) -> AuthError:
    return AuthError(422, "weak_password", message, reasons)


def _speaks_2024(version_header: str | None) -> bool:
    if not version_header or not _API_VERSION_FORMAT.match(version_header):
        return False
    try:
        return date.fromisoformat(version_header) >= date(2024, 1, 1)
    except ValueError:
        return False


def render_error(
    error: AuthError, version_header: str | None
) -> tuple[dict[str, object], list[tuple[str, str]]]:
    """The body and headers GoTrue sends for `error` to a client announcing `version_header`."""
    headers: list[tuple[str, str]] = []
    body: dict[str, object]
    is_weak = error.code == "weak_password"
    if _speaks_2024(version_header):
        headers.append(("X-Supabase-Api-Version", API_VERSION_2024))
        body = {"code": error.code, "message": error.message}
        # GoTrue's weak-password branch skips the error-code header in the 2024 shape only.
        if not is_weak:
            headers.append(("x-sb-error-code", error.code))
    else:
        body = {"code": error.status, "error_code": error.code, "msg": error.message}
        headers.append(("x-sb-error-code", error.code))
    if is_weak:
        body["weak_password"] = {"reasons": error.weak_password_reasons}
    return body, headers
