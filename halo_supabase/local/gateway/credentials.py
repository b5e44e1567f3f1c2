"""API keys and JWTs as Supabase's gateway and services read them.

A request carries `apikey` (the project key: a legacy JWT or an opaque `sb_publishable_…` /
`sb_secret_…`) and usually `Authorization: Bearer <jwt>`. As the Supabase CLI's gateway does: a
caller's Authorization is kept unless it is an opaque key; otherwise the apikey becomes the bearer,
opaque keys mapped to the anon or service_role JWT.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from halo_supabase.settings import LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY, Settings

__all__ = ["Credentials", "CredentialsError", "Problem", "TokenService"]


_VERIFIED_CACHE_SIZE = 4096


class Problem(enum.Enum):
    """Why a request's credentials were refused; each service words it in its own error shape."""

    MALFORMED = "malformed"  # not a JWT at all
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    UNKNOWN_KEY = "unknown_key"  # an opaque sb_ key that is not this project's
    MISSING_CLAIM = "missing_claim"


class CredentialsError(Exception):
    def __init__(self, problem: Problem, message: str) -> None:
        self.problem = problem
        super().__init__(message)


@dataclass(frozen=True)
class Credentials:
    """Who a request acts as: the database role, the JWT claims and the bearer token."""

    role: str
    claims: dict[str, Any]
    token: str | None

    @property
    def user_id(self) -> str | None:
        sub = self.claims.get("sub")
        return str(sub) if sub else None


class TokenService:
    """Signs and verifies HS256 JWTs with the project's secret; resolves request credentials."""

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.jwt_secret.get_secret_value()
        self.anon_key = settings.anon_key
        self.service_role_key = settings.service_role_key
        self._verified: dict[str, dict[str, Any]] = {}
        self.opaque_keys = {
            LOCAL_PUBLISHABLE_KEY: self.anon_key,
            LOCAL_SECRET_KEY: self.service_role_key,
        }

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self.secret, algorithm="HS256")

    def decode(self, token: str, *, require: tuple[str, ...] = ()) -> dict[str, Any]:
        """Verify signature and expiry; raise CredentialsError with the reason.

        A token whose signature was verified before is not verified again (the same few tokens
        arrive on every request, and parsing plus HMAC costs ~50 µs each time); its expiry
        and required claims are still checked every time.
        """
        known = self._verified.get(token)
        if known is not None:
            expiry = known.get("exp")
            missing = [claim for claim in require if claim not in known]
            if not missing and not (isinstance(expiry, int | float) and expiry <= time.time()):
                return dict(known)
        claims = self._verify(token, require)
        if len(self._verified) >= _VERIFIED_CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = claims
        return dict(claims)

    def _verify(self, token: str, require: tuple[str, ...]) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"verify_aud": False, "require": list(require)},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            raise CredentialsError(Problem.EXPIRED, "JWT expired") from None
        except jwt.MissingRequiredClaimError as exc:
            raise CredentialsError(
                Problem.MISSING_CLAIM, f"JWT has no {exc.claim!r} claim"
            ) from None
        except jwt.InvalidSignatureError:
            raise CredentialsError(
                Problem.BAD_SIGNATURE, "JWT signature does not match the project's JWT secret"
            ) from None
        except jwt.DecodeError as exc:
            raise CredentialsError(Problem.MALFORMED, f"JWT cannot be decoded: {exc}") from None
        except jwt.InvalidTokenError as exc:
            raise CredentialsError(Problem.MALFORMED, f"invalid JWT: {exc}") from None
        return claims

    def map_key(self, key: str) -> str:
        """An opaque project key becomes the JWT it stands for; a JWT stays as it is."""
        if key.startswith("sb_"):
            mapped = self.opaque_keys.get(key)
            if mapped is None:
                raise CredentialsError(Problem.UNKNOWN_KEY, "Invalid API key")
            return mapped
        return key

    def bearer(
        self, headers: Mapping[str, str], query: Mapping[str, str] | None = None
    ) -> str | None:
        """The token a request acts with (see the module docstring), or None when it has none."""
        authorization = headers.get("authorization", "")
        scheme, _, value = authorization.partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and value and not value.startswith("sb_"):
            return value
        apikey = headers.get("apikey") or (query or {}).get("apikey")
        if apikey:
            return self.map_key(apikey.strip())
        if scheme.lower() == "bearer" and value:
            return self.map_key(value)
        return None

    def resolve(
        self, headers: Mapping[str, str], query: Mapping[str, str] | None = None
    ) -> Credentials:
        """Credentials of a request; no token at all acts as `anon`, as PostgREST does."""
        token = self.bearer(headers, query)
        if token is None:
            return Credentials("anon", {"role": "anon"}, None)
        claims = self.decode(token)
        role = str(claims.get("role") or "anon")
        return Credentials(role, claims, token)

    @staticmethod
    def now() -> int:
        return int(time.time())
