"""Access tokens exactly as GoTrue issues them.

Claims, in GoTrue's order: `iss` (the service's external URL), `sub`, `aud` (a single string, not a
list), `exp`, `iat`, `email`, `phone`, `app_metadata`, `user_metadata`, `role`, `aal`, `amr`
(`[{"method", "timestamp"}]`, most recent first), `session_id`, `is_anonymous`; HS256 with the
project's JWT secret, so the same token authorizes REST, Storage and Realtime.
"""

from __future__ import annotations

import uuid
from typing import Any

from halo_supabase.local.gateway.auth.config import AuthConfig
from halo_supabase.local.gateway.auth.users import UserRecord
from halo_supabase.local.gateway.credentials import TokenService

__all__ = ["AccessTokenIssuer"]


class AccessTokenIssuer:
    def __init__(self, tokens: TokenService, config: AuthConfig) -> None:
        self._tokens = tokens
        self._config = config

    def issue(
        self,
        user: UserRecord,
        session_id: uuid.UUID,
        amr: list[dict[str, Any]],
        *,
        now: int,
        aal: str = "aal1",
    ) -> tuple[str, int]:
        """The signed token and its expiry (unix seconds)."""
        expires_at = now + self._config.jwt_expiry
        claims: dict[str, Any] = {
            "iss": self._config.issuer,
            "sub": str(user.id),
            "aud": user.aud,
            "exp": expires_at,
            "iat": now,
            "email": user.email,
            "phone": user.phone,
            "app_metadata": user.app_metadata,
            "user_metadata": user.user_metadata,
            "role": user.role,
            "aal": aal,
            "amr": amr,
            "session_id": str(session_id),
            "is_anonymous": user.is_anonymous,
        }
        return self._tokens.sign(claims), expires_at
