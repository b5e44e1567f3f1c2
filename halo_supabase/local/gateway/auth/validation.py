"""User attributes as GoTrue accepts them: email addresses, E.164 phone numbers, PKCE
challenges and Go-style ban durations (`"24h"`, `"1h30m"`, `"none"`)."""

from __future__ import annotations

import re

from halo_supabase.local.gateway.auth.errors import AuthError

__all__ = ["ban_seconds", "validate_email", "validate_phone", "validate_pkce"]

# The shape GoTrue's checkmail accepts: a local part, "@", a dotted domain.
_EMAIL = re.compile(
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)
_E164 = re.compile(r"^[1-9]\d{1,14}$")
_CODE_CHALLENGE = re.compile(r"^[a-zA-Z._~0-9-]+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def _invalid(message: str) -> AuthError:
    return AuthError(400, "validation_failed", message)


def validate_email(email: str) -> str:
    """The address lower-cased, or GoTrue's `validation_failed`."""
    if not email:
        raise _invalid("An email address is required")
    if len(email) > 255:
        raise _invalid("An email address is too long")
    if not _EMAIL.match(email):
        raise _invalid("Unable to validate email address: invalid format")
    return email.lower()


def validate_phone(phone: str) -> str:
    """The number without `+` and spaces, as GoTrue stores it."""
    normalized = phone.removeprefix("+").replace(" ", "")
    if not _E164.match(normalized):
        raise _invalid("Invalid phone number format (E.164 required)")
    return normalized


def validate_pkce(method: str, challenge: str) -> None:
    """Sign-up PKCE fields: both or neither, and a challenge of RFC 7636's shape."""
    if bool(method) != bool(challenge):
        raise _invalid("PKCE flow requires code_challenge_method and code_challenge")
    if not challenge:
        return
    if not 43 <= len(challenge) <= 128:
        raise _invalid("code challenge has to be between 43 and 128 characters")
    if not _CODE_CHALLENGE.match(challenge):
        raise _invalid(
            "code challenge can only contain alphanumeric characters, hyphens, periods, "
            "underscores and tildes"
        )


def ban_seconds(value: str) -> float:
    """A Go duration string in seconds; `"none"` (lift the ban) is 0."""
    if value == "none":
        return 0.0
    text = value
    sign = 1.0
    if text and text[0] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    total = 0.0
    position = 0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            total = -1.0
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not text or total < 0:
        raise _invalid(f'invalid format for ban duration: time: invalid duration "{value}"')
    return sign * total
