"""Service metadata: `GET /settings` (what the client may offer), `/health`, and the JWKS."""

from __future__ import annotations

from halo_supabase.local.gateway.auth.request import AuthRequest, Reply
from halo_supabase.local.gateway.auth.state import AuthState

__all__ = ["health", "jwks", "settings"]

# Not a GoTrue release: this service follows the API of supabase/auth as of 2026-08.
GOTRUE_VERSION = "halo-local"
_PROVIDERS = (
    "anonymous_users", "apple", "azure", "bitbucket", "discord", "facebook", "snapchat", "figma",
    "fly", "github", "gitlab", "google", "keycloak", "kakao", "linkedin", "linkedin_oidc",
    "notion", "spotify", "slack", "slack_oidc", "workos", "twitch", "twitter", "email", "phone",
    "zoom",
)  # fmt: skip


async def settings(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    config = state.config
    enabled = {
        "anonymous_users": config.enable_anonymous_sign_ins,
        "email": config.email_enabled,
        "phone": config.phone_enabled,
    }
    # OAuth providers are never configured locally; GoTrue lists them all, in this order.
    external = {name: enabled.get(name, False) for name in _PROVIDERS}
    return Reply(
        200,
        {
            "external": external,
            "disable_signup": not config.enable_signup,
            "mailer_autoconfirm": config.mailer_autoconfirm,
            "phone_autoconfirm": config.sms_autoconfirm,
            "sms_provider": "twilio",
            "saml_enabled": False,
            "saml_private_key_next_configured": False,
            "passkeys_enabled": False,
        },
    )


async def health(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    return Reply(
        200,
        {
            "version": GOTRUE_VERSION,
            "name": "GoTrue",
            "description": "GoTrue is a user registration and authentication API",
        },
    )


async def jwks(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    # Tokens are signed with the shared HS256 secret, which GoTrue never publishes.
    return Reply(200, {"keys": []}, [("Cache-Control", "public, max-age=600")])
