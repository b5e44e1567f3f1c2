"""`POST /token`: the password and refresh-token grants (the PKCE exchange answers as GoTrue does
when no flow state waits), behind the per-client rate limit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from halo_supabase.local.gateway.auth import audit
from halo_supabase.local.gateway.auth.audit import Actor
from halo_supabase.local.gateway.auth.errors import AuthError
from halo_supabase.local.gateway.auth.params import PASSWORD_GRANT, PKCE_GRANT, REFRESH_TOKEN_GRANT
from halo_supabase.local.gateway.auth.passwords import check_strength, verify
from halo_supabase.local.gateway.auth.request import AuthRequest, Reply
from halo_supabase.local.gateway.auth.sessions import valid_refresh_token
from halo_supabase.local.gateway.auth.state import AuthState

__all__ = ["token"]

INVALID_LOGIN = "Invalid login credentials"
_GRANT_TYPES = ("password", "refresh_token", "id_token", "pkce", "web3")


async def token(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    grant_type = request.query.get("grant_type", "")
    if grant_type not in _GRANT_TYPES:
        raise AuthError(400, "invalid_credentials", "unsupported_grant_type")
    state.throttle(state.token_limiter, request)
    if grant_type == "password":
        return await _password_grant(state, request)
    if grant_type == "refresh_token":
        return await _refresh_token_grant(state, request)
    if grant_type == "pkce":
        params = await request.params(PKCE_GRANT)
        if not params.text("auth_code") or not params.text("code_verifier"):
            raise AuthError(
                400,
                "validation_failed",
                "invalid request: both auth code and code verifier should be non-empty",
            )
        # Sign-ups are confirmed on the spot, so no PKCE flow state is ever waiting for a code.
        raise AuthError(
            404, "flow_state_not_found", "invalid flow state, no valid flow state found"
        )
    raise AuthError(400, "provider_disabled", f"{grant_type} sign-in is not enabled locally")


async def _password_grant(state: AuthState, request: AuthRequest) -> Reply:
    params = await request.params(PASSWORD_GRANT)
    config = state.config
    email, phone = params.text("email"), params.text("phone")
    aud = state.audience(request, None)
    if email and phone:
        raise AuthError(
            400,
            "validation_failed",
            "Only an email address or phone number should be provided on login.",
        )
    if email and not config.email_enabled:
        raise AuthError(422, "email_provider_disabled", "Email logins are disabled")
    if phone and not config.phone_enabled:
        raise AuthError(422, "phone_provider_disabled", "Phone logins are disabled")
    if not email and not phone:
        raise AuthError(400, "validation_failed", "missing email or phone")
    async with state.connection() as conn:
        user = await (
            state.users.by_email(conn, email, aud)
            if email
            else state.users.by_phone(conn, phone.removeprefix("+").replace(" ", ""), aud)
        )
    if user is None or not user.encrypted_password:
        raise AuthError(400, "invalid_credentials", INVALID_LOGIN)
    if user.is_banned(datetime.now(UTC)):
        raise AuthError(400, "user_banned", "User is banned")
    password = params.text("password")
    if not await verify(password, user.encrypted_password):
        raise AuthError(400, "invalid_credentials", INVALID_LOGIN)
    weak: dict[str, Any] | None = None
    try:
        check_strength(password, config.minimum_password_length)
    except AuthError as exc:
        if exc.code == "weak_password":
            weak = {"message": exc.message, "reasons": exc.weak_password_reasons}
    if email and user.email_confirmed_at is None:
        raise AuthError(400, "email_not_confirmed", "Email not confirmed")
    if phone and user.phone_confirmed_at is None:
        raise AuthError(400, "phone_not_confirmed", "Phone not confirmed")
    async with state.connection() as conn, conn.transaction():
        provider = "email" if email else "phone"
        await audit.record(conn, Actor.of(user), "login", {"provider": provider})
        grant = await state.sessions.start(conn, user, "password", request.client())
    return state.session_reply(grant, weak)


async def _refresh_token_grant(state: AuthState, request: AuthRequest) -> Reply:
    params = await request.params(REFRESH_TOKEN_GRANT)
    presented = params.text("refresh_token")
    if not valid_refresh_token(presented):
        raise AuthError(400, "validation_failed", "Refresh token is not valid")
    async with state.connection() as conn, conn.transaction():
        outcome = await state.sessions.rotate(
            conn,
            presented,
            request.client(),
            reuse_interval=state.config.refresh_token_reuse_interval,
            rotation_enabled=state.config.refresh_token_rotation,
        )
        if not isinstance(outcome, AuthError):
            actor = Actor.of(outcome.user)
            await audit.record(conn, actor, "token_refreshed")
            if outcome.swapped:
                await audit.record(conn, actor, "token_revoked")
    # Raised only now: the revocation that detected reuse has been committed.
    if isinstance(outcome, AuthError):
        raise outcome
    return state.session_reply(outcome)
