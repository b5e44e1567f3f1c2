"""Request bodies decoded as GoTrue's Go structs decode them.

GoTrue reads every JSON body into a typed struct whatever the Content-Type says: a body that is not
JSON (a form post, plain text, nothing at all) or a field of the wrong JSON type is `400 bad_json`,
unknown fields are ignored, `null` leaves a field at its zero value, and names match
case-insensitively. Each params type below lists its fields with their Go kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from halo_supabase.local.gateway.auth.errors import AuthError

__all__ = [
    "ADMIN_USER",
    "ADMIN_USER_DELETE",
    "BODY_LIMIT",
    "PASSWORD_GRANT",
    "PKCE_GRANT",
    "REFRESH_TOKEN_GRANT",
    "SIGNUP",
    "USER_UPDATE",
    "Params",
    "ParamsSpec",
    "decode",
]

# GoTrue wraps every request body in a 1 MiB reader.
BODY_LIMIT = 1 << 20

Kind = Literal["string", "bool", "object", "optional_string"]

_GO_TYPES: dict[Kind, str] = {
    "string": "string",
    "optional_string": "string",
    "bool": "bool",
    "object": "map[string]interface {}",
}
_JSON_NAMES = {
    str: "string",
    bool: "bool",
    int: "number",
    float: "number",
    list: "array",
    dict: "object",
}


@dataclass(frozen=True)
class ParamsSpec:
    """A Go params struct: its name (for error messages) and its JSON fields."""

    struct: str
    fields: dict[str, Kind]


class Params(dict[str, Any]):
    """Decoded parameters; every declared field is present with its Go zero value if absent."""

    def text(self, name: str) -> str:
        return str(self[name])

    def optional(self, name: str) -> str | None:
        value = self[name]
        return None if value is None else str(value)

    def flag(self, name: str) -> bool:
        return bool(self[name])

    def mapping(self, name: str) -> dict[str, Any] | None:
        value = self[name]
        return value if isinstance(value, dict) else None


SIGNUP = ParamsSpec(
    "SignupParams",
    {
        "email": "string",
        "phone": "string",
        "password": "string",
        "data": "object",
        "channel": "string",
        "code_challenge_method": "string",
        "code_challenge": "string",
    },
)
PASSWORD_GRANT = ParamsSpec(
    "PasswordGrantParams", {"email": "string", "phone": "string", "password": "string"}
)
PKCE_GRANT = ParamsSpec("PKCEGrantParams", {"auth_code": "string", "code_verifier": "string"})
REFRESH_TOKEN_GRANT = ParamsSpec("RefreshTokenGrantParams", {"refresh_token": "string"})
USER_UPDATE = ParamsSpec(
    "UserUpdateParams",
    {
        "email": "string",
        "password": "optional_string",
        "current_password": "optional_string",
        "nonce": "string",
        "data": "object",
        "app_metadata": "object",
        "phone": "string",
        "channel": "string",
        "code_challenge": "string",
        "code_challenge_method": "string",
    },
)
ADMIN_USER = ParamsSpec(
    "AdminUserParams",
    {
        "id": "string",
        "aud": "string",
        "role": "string",
        "email": "string",
        "phone": "string",
        "password": "optional_string",
        "password_hash": "string",
        "email_confirm": "bool",
        "phone_confirm": "bool",
        "user_metadata": "object",
        "app_metadata": "object",
        "ban_duration": "string",
    },
)
ADMIN_USER_DELETE = ParamsSpec("adminUserDeleteParams", {"should_soft_delete": "bool"})


def _bad_json(detail: str) -> AuthError:
    return AuthError(400, "bad_json", f"Could not parse request body as JSON: {detail}")


def _zero(kind: Kind) -> Any:
    return {"string": "", "bool": False, "object": None, "optional_string": None}[kind]


def _accepts(kind: Kind, value: Any) -> bool:
    if kind in ("string", "optional_string"):
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, dict)


def decode(raw: bytes, spec: ParamsSpec) -> Params:
    """Decode `raw` into `spec`'s fields, or raise `400 bad_json` with Go's reason."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _bad_json("invalid character in string literal") from None
    except json.JSONDecodeError as exc:
        detail = "unexpected end of JSON input" if not raw.strip() else exc.msg
        raise _bad_json(detail) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        found = _JSON_NAMES.get(type(document), "value")
        raise _bad_json(f"json: cannot unmarshal {found} into Go value of type api.{spec.struct}")
    params = Params({name: _zero(kind) for name, kind in spec.fields.items()})
    by_folded = {name.casefold(): name for name in spec.fields}
    for key, value in document.items():
        name = key if key in spec.fields else by_folded.get(key.casefold())
        if name is None or value is None:
            continue
        kind = spec.fields[name]
        if not _accepts(kind, value):
            found = _JSON_NAMES.get(type(value), "value")
            raise _bad_json(
                f"json: cannot unmarshal {found} into Go struct field "
                f"{spec.struct}.{name} of type {_GO_TYPES[kind]}"
            )
        params[name] = value
    return params
