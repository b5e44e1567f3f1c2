"""The Auth service's settings, read from `supabase/config.toml` as the Supabase CLI reads them.

The CLI turns `[auth]` into GoTrue's environment; the same keys, with the same defaults, drive the
local service, so one `config.toml` configures `supabase start` and `halo dev` alike.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_supabase.errors import ConfigError

__all__ = ["AuthConfig"]

# GoTrue's refill windows: `token_refresh` and `sign_in_sign_ups` are per 5 minutes,
# `anonymous_users` per hour.
_FIVE_MINUTES = 300.0
_HOUR = 3600.0
# GoTrue's bucket size for every request limiter.
_RATE_LIMIT_BURST = 30


@dataclass(frozen=True)
class AuthConfig:
    """What the Auth service needs from `[auth]`; defaults are the Supabase CLI's."""

    issuer: str
    jwt_expiry: int = 3600
    refresh_token_rotation: bool = True
    refresh_token_reuse_interval: int = 10
    enable_signup: bool = True
    enable_anonymous_sign_ins: bool = False
    minimum_password_length: int = 6
    email_enabled: bool = True
    mailer_autoconfirm: bool = True
    phone_enabled: bool = False
    sms_autoconfirm: bool = True
    token_requests_per_second: float = 150 / _FIVE_MINUTES
    signups_per_second: float = 30 / _FIVE_MINUTES
    anonymous_per_hour: int = 30
    rate_limit_burst: int = _RATE_LIMIT_BURST
    audience: str = "authenticated"
    admin_roles: tuple[str, ...] = ("service_role",)

    @property
    def anonymous_per_second(self) -> float:
        return self.anonymous_per_hour / _HOUR

    @classmethod
    def load(cls, config_toml: Path, *, issuer: str) -> AuthConfig:
        """Read `config_toml`; a missing file means every default."""
        try:
            document = tomllib.loads(config_toml.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(issuer=issuer)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_toml}: {exc}") from None
        auth = _table(document, "auth", config_toml)
        email = _table(auth, "email", config_toml)
        sms = _table(auth, "sms", config_toml)
        rate_limit = _table(auth, "rate_limit", config_toml)
        defaults = cls(issuer=issuer)
        try:
            return cls(
                issuer=issuer,
                jwt_expiry=int(auth.get("jwt_expiry", defaults.jwt_expiry)),
                refresh_token_rotation=bool(
                    auth.get("enable_refresh_token_rotation", defaults.refresh_token_rotation)
                ),
                refresh_token_reuse_interval=int(
                    auth.get("refresh_token_reuse_interval", defaults.refresh_token_reuse_interval)
                ),
                enable_signup=bool(auth.get("enable_signup", defaults.enable_signup)),
                enable_anonymous_sign_ins=bool(
                    auth.get("enable_anonymous_sign_ins", defaults.enable_anonymous_sign_ins)
                ),
                minimum_password_length=int(
                    auth.get("minimum_password_length", defaults.minimum_password_length)
                ),
                email_enabled=bool(email.get("enable_signup", defaults.email_enabled)),
                mailer_autoconfirm=not bool(email.get("enable_confirmations", False)),
                phone_enabled=bool(sms.get("enable_signup", defaults.phone_enabled)),
                sms_autoconfirm=not bool(sms.get("enable_confirmations", False)),
                token_requests_per_second=float(rate_limit.get("token_refresh", 150))
                / _FIVE_MINUTES,
                signups_per_second=float(rate_limit.get("sign_in_sign_ups", 30)) / _FIVE_MINUTES,
                anonymous_per_hour=int(rate_limit.get("anonymous_users", 30)),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{config_toml}: [auth] has an invalid value: {exc}") from None


def _table(parent: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = parent.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: `{name}` must be a table")
    return value
