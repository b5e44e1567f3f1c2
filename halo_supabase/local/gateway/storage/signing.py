"""Signed-URL tokens: JWTs signed with the project secret, bound to one object and one action.

As storage-api does, a token names the object (`url` = "<bucket>/<name>") and its `scope`
("download" or "upload"), so a download token can never be replayed as an upload token or for
another object; upload tokens also carry the uploader (`owner`) and whether they may overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from halo_supabase.local.gateway.credentials import CredentialsError, Problem, TokenService
from halo_supabase.local.gateway.storage.errors import StorageError

__all__ = ["SignedToken", "UrlSigner", "object_url"]

Scope = Literal["download", "upload"]


def object_url(bucket_id: str, name: str) -> str:
    """`<bucket>/<name>` percent-encoded for a URL path (slashes kept)."""
    return quote(f"{bucket_id}/{name}", safe="/")


@dataclass(frozen=True)
class SignedToken:
    url: str
    owner: str | None
    upsert: bool


class UrlSigner:
    def __init__(self, tokens: TokenService) -> None:
        self.tokens = tokens

    def sign(
        self,
        bucket_id: str,
        name: str,
        scope: Scope,
        expires_in: int,
        *,
        owner: str | None = None,
        upsert: bool = False,
    ) -> str:
        now = self.tokens.now()
        claims: dict[str, Any] = {"url": f"{bucket_id}/{name}", "scope": scope}
        if scope == "upload":
            claims.update({"owner": owner, "upsert": upsert})
        claims.update({"iat": now, "exp": now + expires_in})
        return self.tokens.sign(claims)

    def verify(self, token: str, bucket_id: str, name: str, scope: Scope) -> SignedToken:
        try:
            claims = self.tokens.decode(token, require=("exp",))
        except CredentialsError as exc:
            if exc.problem is Problem.EXPIRED:
                raise StorageError(400, "ExpiredToken", "The provided token has expired.") from None
            raise StorageError.invalid_jwt(
                "jwt malformed" if exc.problem is Problem.MALFORMED else "invalid signature"
            ) from None
        if claims.get("scope") != scope:
            raise StorageError.invalid_signature(f"Token is not scoped for {scope}")
        if claims.get("url") != f"{bucket_id}/{name}":
            raise StorageError.invalid_signature()
        owner = claims.get("owner")
        return SignedToken(
            url=str(claims["url"]),
            owner=str(owner) if owner else None,
            upsert=bool(claims.get("upsert")),
        )
