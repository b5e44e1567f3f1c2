"""GoTrue-compatible Auth at `/auth/v1`, over the real `auth.*` tables.

Modules, top-down: `service` (routing, error wording); the endpoints in `signup`, `grants`
(`/token`), `current_user` (`/user`, `/logout`), `admin` (`/admin/users`) and `metadata`
(`/settings`, `/health`, JWKS); `guards` (who is calling); `sessions` (sessions, refresh-token
rotation and reuse detection), `users` (users and identities), `audit` (the audit trail);
`tokens` (access-token claims), `passwords` (bcrypt, strength), `validation` (emails, phones,
PKCE, ban durations), `params` (JSON bodies as GoTrue decodes them), `errors` (GoTrue's two error
shapes), `ratelimit`, `config` (`[auth]` in `supabase/config.toml`), `state`, `request`,
`shapes`, `queries`.
"""

from __future__ import annotations

from halo_supabase.local.gateway.auth.service import AuthService, create_service

__all__ = ["AuthService", "create_service"]
