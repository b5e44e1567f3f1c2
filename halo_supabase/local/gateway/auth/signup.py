"""`POST /signup`: email or phone sign-up (auto-confirmed locally, PKCE fields accepted) and
anonymous sign-in. The user is inserted into the real `auth.users`, so application triggers fire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from halo_supabase.local.gateway.auth import audit
from halo_supabase.local.gateway.auth.audit import Actor
from halo_supabase.local.gateway.auth.errors import AuthError
from halo_supabase.local.gateway.auth.params import SIGNUP, Params
from halo_supabase.local.gateway.auth.passwords import check_strength, hash_password
from halo_supabase.local.gateway.auth.request import AuthRequest, Reply
from halo_supabase.local.gateway.auth.shapes import user_json
from halo_supabase.local.gateway.auth.state import AuthState
from halo_supabase.local.gateway.auth.users import Connection, UserRecord
from halo_supabase.local.gateway.auth.validation import (
    validate_email,
    validate_phone,
    validate_pkce,
)

__all__ = ["signup"]

_SAVE_FAILED = "Database error saving new user"
_USER_UNIQUE_KEYS = ("users_email_partial_key", "users_phone_key")


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


async def signup(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    params = await request.params(SIGNUP)
    config = state.config
    email, phone = params.text("email"), params.text("phone")
    if not email and not phone:
        if not config.enable_anonymous_sign_ins:
            raise AuthError(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled")
        state.throttle(state.anonymous_limiter, request)
        return await _signup_anonymously(state, request, params)
    state.throttle(state.signup_limiter, request)
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
    aud = state.audience(request, None)
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
                user.confirm_email()
            else:
                user.phone_confirmed_at = datetime.now(UTC)
        else:
            user.confirmation_sent_at = datetime.now(UTC)
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
    return state.session_reply(grant)


def _decoy_user(
    existing: UserRecord, provider: str, data: dict[str, Any], aud: str
) -> dict[str, Any]:
    """What GoTrue answers a repeated sign-up when confirmations are on: a plausible new user,
    so the answer does not reveal that the address is registered."""
    now = datetime.now(UTC)
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
    aud = state.audience(request, None)
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
    return state.session_reply(grant)
