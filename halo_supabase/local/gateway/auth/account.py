"""The endpoints a user's own client calls: sign-up (also anonymous), `/token` (password and
refresh-token grants), `GET`/`PUT /user`, `/logout`, plus `/settings`, `/health` and the JWKS."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg

from halo_supabase.local.gateway.auth import audit
from halo_supabase.local.gateway.auth.audit import Actor
from halo_supabase.local.gateway.auth.errors import AuthError
from halo_supabase.local.gateway.auth.params import (
    PASSWORD_GRANT,
    PKCE_GRANT,
    REFRESH_TOKEN_GRANT,
    SIGNUP,
    USER_UPDATE,
    Params,
)
from halo_supabase.local.gateway.auth.passwords import check_strength, hash_password, verify
from halo_supabase.local.gateway.auth.request import AuthRequest, Reply
from halo_supabase.local.gateway.auth.sessions import Grant, LogoutScope, valid_refresh_token
from halo_supabase.local.gateway.auth.shapes import session_json, user_json
from halo_supabase.local.gateway.auth.state import AuthState
from halo_supabase.local.gateway.auth.users import Connection, UserRecord, merge_metadata
from halo_supabase.local.gateway.auth.validation import (
    validate_email,
    validate_phone,
    validate_pkce,
)

__all__ = [
    "get_user",
    "health",
    "jwks",
    "logout",
    "settings",
    "signup",
    "token",
    "update_user",
]

GOTRUE_VERSION = "v2.180.0"
INVALID_LOGIN = "Invalid login credentials"
_SAVE_FAILED = "Database error saving new user"
_USER_UNIQUE_KEYS = ("users_email_partial_key", "users_phone_key")


def _now() -> datetime:
    return datetime.now(UTC)


def _audience(state: AuthState, request: AuthRequest, claims: dict[str, Any] | None) -> str:
    return request.requested_audience(claims, state.config.audience, state.config.admin_roles)


def _session_reply(state: AuthState, grant: Grant, weak: dict[str, Any] | None = None) -> Reply:
    now = int(_now().timestamp())
    access_token, expires_at = state.issuer.issue(grant.user, grant.session_id, grant.amr, now=now)
    return Reply(
        200,
        session_json(access_token, expires_at, now, grant.refresh_token, grant.user, weak),
    )


def _confirm_email(user: UserRecord) -> None:
    user.email_confirmed_at = _now()
    user.user_metadata["email_verified"] = True


async def _create_user(
    state: AuthState,
    conn: Connection,
    *,
    aud: str,
    email: str,
    phone: str,
    encrypted_password: str | None,
    app_metadata: dict[str, Any],
    user_metadata: dict[str, Any],
    is_anonymous: bool,
    role: str,
) -> UserRecord:
    """Insert then set the role, as GoTrue does; a failing trigger becomes GoTrue's 500."""
    try:
        user = await state.users.insert(
            conn,
            user_id=uuid.uuid4(),
            aud=aud,
            email=email,
            phone=phone,
            encrypted_password=encrypted_password,
            app_metadata=app_metadata,
            user_metadata=user_metadata,
            is_anonymous=is_anonymous,
        )
        user.role = role
        await state.users.save(conn, user)
    except asyncpg.PostgresError as exc:
        if getattr(exc, "constraint_name", None) in _USER_UNIQUE_KEYS:
            # A concurrent sign-up with the same address won the race for the unique index.
            raise AuthError(422, "user_already_exists", "User already registered") from exc
        raise AuthError(500, "unexpected_failure", _SAVE_FAILED) from exc
    return user


# -- sign-up ----------------------------------------------------------------------------------


async def signup(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    params = await request.params(SIGNUP)
    config = state.config
    email, phone = params.text("email"), params.text("phone")
    if not email and not phone:
        if not config.enable_anonymous_sign_ins:
            raise AuthError(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled")
        return await _signup_anonymously(state, request, params)
    if not config.enable_signup:
        raise AuthError(422, "signup_disabled", "Signups not allowed for this instance")
    password = params.text("password")
    if not password:
        raise AuthError(400, "validation_failed", "Signup requires a valid password")
    check_strength(password, config.minimum_password_length)
    if email and phone:
        raise AuthError(
            400,
            "validation_failed",
            "Only an email address or phone number should be provided on signup.",
        )
    if phone and params.text("code_challenge"):
        raise AuthError(400, "validation_failed", "PKCE not supported for phone signups")
    # PKCE fields are accepted and checked; with auto-confirm the session comes back directly.
    validate_pkce(params.text("code_challenge_method"), params.text("code_challenge"))
    aud = _audience(state, request, None)
    provider = "email" if email else "phone"
    if email:
        if not config.email_enabled:
            raise AuthError(400, "email_provider_disabled", "Email signups are disabled")
        email = validate_email(email)
    else:
        if not config.phone_enabled:
            raise AuthError(400, "phone_provider_disabled", "Phone signups are disabled")
        phone = validate_phone(phone)
    data = params.mapping("data") or {}
    encrypted = await hash_password(password)
    autoconfirm = config.mailer_autoconfirm if email else config.sms_autoconfirm

    async with state.connection() as conn, conn.transaction():
        existing = await (
            state.users.by_email(conn, email, aud)
            if email
            else state.users.by_phone(conn, phone, aud)
        )
        if existing is not None and (
            existing.email_confirmed_at if email else existing.phone_confirmed_at
        ):
            if autoconfirm:
                raise AuthError(422, "user_already_exists", "User already registered")
            return Reply(200, _decoy_user(existing, provider, data, aud))
        user = existing or await _create_user(
            state,
            conn,
            aud=aud,
            email=email,
            phone=phone,
            encrypted_password=encrypted,
            app_metadata={"provider": provider, "providers": [provider]},
            user_metadata=dict(data),
            is_anonymous=False,
            role=config.audience,
        )
        if user.identity(provider) is None:
            identity_data: dict[str, Any] = {"sub": str(user.id)}
            identity_data[provider] = email or phone
            identity_data.update({"email_verified": False, "phone_verified": False})
            for key, value in data.items():
                identity_data.setdefault(key, value)
            await state.users.add_identity(conn, user, provider, identity_data)
        if autoconfirm:
            if email:
                _confirm_email(user)
            else:
                user.phone_confirmed_at = _now()
        else:
            user.confirmation_sent_at = _now()
        try:
            await state.users.save(conn, user)
        except asyncpg.PostgresError as exc:
            raise AuthError(500, "unexpected_failure", _SAVE_FAILED) from exc
        traits = {"provider": provider}
        if user.confirmed_at is None:
            await audit.record(conn, Actor.of(user), "user_confirmation_requested", traits)
            return Reply(200, user_json(user))
        await audit.record(conn, Actor.of(user), "user_signedup", traits)
        await audit.record(conn, Actor.of(user), "login", traits)
        grant = await state.sessions.start(conn, user, "password", request.client())
    return _session_reply(state, grant)


def _decoy_user(
    existing: UserRecord, provider: str, data: dict[str, Any], aud: str
) -> dict[str, Any]:
    """What GoTrue answers a repeated sign-up when confirmations are on: a plausible new user,
    so the answer does not reveal that the address is registered."""
    now = _now()
    decoy = UserRecord(**{**existing.__dict__, "identities": []})
    decoy.id = uuid.uuid4()
    decoy.role = ""
    decoy.email_change = ""
    decoy.created_at = decoy.updated_at = now
    decoy.confirmation_sent_at = now
    decoy.last_sign_in_at = decoy.confirmed_at = decoy.email_change_sent_at = None
    decoy.email_confirmed_at = decoy.phone_confirmed_at = None
    decoy.user_metadata = dict(data)
    decoy.aud = aud
    decoy.app_metadata = {"provider": provider, "providers": [provider]}
    if provider == "email":
        decoy.phone = ""
    else:
        decoy.email = ""
    return user_json(decoy)


async def _signup_anonymously(state: AuthState, request: AuthRequest, params: Params) -> Reply:
    if not state.config.enable_signup:
        raise AuthError(422, "signup_disabled", "Signups not allowed for this instance")
    aud = _audience(state, request, None)
    async with state.connection() as conn, conn.transaction():
        user = await _create_user(
            state,
            conn,
            aud=aud,
            email="",
            phone="",
            encrypted_password="",
            app_metadata={},
            user_metadata=dict(params.mapping("data") or {}),
            is_anonymous=True,
            role=state.config.audience,
        )
        grant = await state.sessions.start(conn, user, "anonymous", request.client())
    return _session_reply(state, grant)


# -- /token -----------------------------------------------------------------------------------

_GRANT_TYPES = ("password", "refresh_token", "id_token", "pkce", "web3")


async def token(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    grant_type = request.query.get("grant_type", "")
    if grant_type not in _GRANT_TYPES:
        raise AuthError(400, "invalid_credentials", "unsupported_grant_type")
    client = request.client()
    if not state.token_limiter.allow(client.ip or "unknown"):
        raise AuthError(429, "over_request_rate_limit", "Request rate limit reached")
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
    aud = _audience(state, request, None)
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
    if user.is_banned(_now()):
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
    return _session_reply(state, grant, weak)


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
    return _session_reply(state, outcome)


# -- /user ------------------------------------------------------------------------------------


async def get_user(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    async with state.connection() as conn:
        caller = await state.guards.user(request, conn)
    token_aud = caller.claims.get("aud")
    if isinstance(token_aud, list):
        token_aud = token_aud[0] if token_aud else None
    if not token_aud or _audience(state, request, caller.claims) != token_aud:
        raise AuthError(400, "validation_failed", "Token audience doesn't match request audience")
    return Reply(200, user_json(caller.user))


async def update_user(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    config = state.config
    async with state.connection() as conn:
        caller = await state.guards.user(request, conn)
        params = await request.params(USER_UPDATE)
        user = caller.user
        aud = _audience(state, request, caller.claims)
        email = validate_email(params.text("email")) if params.text("email") else ""
        phone = validate_phone(params.text("phone")) if params.text("phone") else ""
        password = params.optional("password")
        if password is not None:
            check_strength(password, config.minimum_password_length)
        is_admin = user.role == "admin" and user.aud == config.audience
        if params.mapping("app_metadata") is not None and not is_admin:
            raise AuthError(403, "not_admin", "Updating app_metadata requires admin privileges")
        if user.is_anonymous and password and not email and not phone:
            raise AuthError(
                422,
                "validation_failed",
                "Updating password of an anonymous user without an email or phone is not allowed",
            )
        if (
            email
            and email != user.email
            and await state.users.email_taken(conn, email, aud, other_than=user.id)
        ):
            raise AuthError(
                422, "email_exists", "A user with this email address has already been registered"
            )
        if (
            phone
            and phone != user.phone
            and await state.users.phone_taken(conn, phone, aud, other_than=user.id)
        ):
            raise AuthError(
                422, "phone_exists", "A user with this phone number has already been registered"
            )
        encrypted: str | None = None
        if password:
            if user.encrypted_password and await verify(password, user.encrypted_password):
                raise AuthError(
                    422, "same_password", "New password should be different from the old password."
                )
            encrypted = await hash_password(password)

        async with conn.transaction():
            # Re-read under a row lock: the checks above ran before the transaction began.
            current = await state.users.by_id(conn, user.id, for_update=True)
            if current is None:
                raise AuthError(403, "user_not_found", "User from sub claim in JWT does not exist")
            await _apply_user_update(
                state, conn, caller.session_id, current, params, email, phone, encrypted
            )
            if params.optional("password") is not None:
                await audit.record(conn, Actor.of(current), "user_updated_password")
            await audit.record(conn, Actor.of(current), "user_modified")
    return Reply(200, user_json(current))


async def _apply_user_update(
    state: AuthState,
    conn: Connection,
    session_id: uuid.UUID | None,
    user: UserRecord,
    params: Params,
    email: str,
    phone: str,
    encrypted: str | None,
) -> None:
    if params.optional("password") is not None:
        user.encrypted_password = encrypted
        # A new password means the old sessions are no longer trusted: all but this one end.
        user.confirmation_sent_at = user.email_change_sent_at = user.phone_change_sent_at = None
        user.email_change_token_new = ""
        await state.sessions.logout(conn, user.id, session_id, "others")
    data = params.mapping("data")
    if data is not None:
        merge_metadata(user.user_metadata, data)
    app_metadata = params.mapping("app_metadata")
    if app_metadata is not None:
        merge_metadata(user.app_metadata, app_metadata)
    if email and email != user.email:
        if user.is_anonymous and state.config.mailer_autoconfirm:
            # An anonymous user adding an address is signing up: confirmed at once locally.
            user.email = email
            user.is_anonymous = False
            _confirm_email(user)
            user.app_metadata.update({"provider": "email", "providers": ["email"]})
            await state.users.add_identity(
                conn,
                user,
                "email",
                {
                    "sub": str(user.id),
                    "email": email,
                    "email_verified": True,
                    "phone_verified": False,
                },
            )
        else:
            # Permanent users confirm a new address by mail; the change waits for /verify.
            user.email_change = email
            user.email_change_sent_at = _now()
            user.email_change_token_new = secrets.token_hex(28)
    if phone and phone != user.phone:
        user.phone_change = phone
        user.phone_change_sent_at = _now()
    await state.users.save(conn, user)


# -- /logout ----------------------------------------------------------------------------------


async def logout(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    raw_scope = request.query.get("scope", "")
    async with state.connection() as conn:
        caller = await state.guards.user(request, conn)
        if raw_scope not in ("", "global", "local", "others"):
            raise AuthError(400, "validation_failed", f'Unsupported logout scope "{raw_scope}"')
        scope = cast(LogoutScope, raw_scope or "global")
        async with conn.transaction():
            await audit.record(conn, Actor.of(caller.user), "logout")
            await state.sessions.logout(conn, caller.user.id, caller.session_id, scope)
    return Reply(204)


# -- service metadata -------------------------------------------------------------------------


async def settings(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    config = state.config
    external = {
        name: False
        for name in (
            "apple",
            "azure",
            "bitbucket",
            "discord",
            "facebook",
            "snapchat",
            "figma",
            "fly",
            "github",
            "gitlab",
            "google",
            "keycloak",
            "kakao",
            "linkedin",
            "linkedin_oidc",
            "notion",
            "spotify",
            "slack",
            "slack_oidc",
            "workos",
            "twitch",
            "twitter",
            "zoom",
        )
    }
    external.update(
        anonymous_users=config.enable_anonymous_sign_ins,
        email=config.email_enabled,
        phone=config.phone_enabled,
    )
    return Reply(
        200,
        {
            "external": dict(
                sorted(external.items(), key=lambda item: item[0] != "anonymous_users")
            ),
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
