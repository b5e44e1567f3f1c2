"""The signed-in user's own endpoints: `GET`/`PUT /user` and `POST /logout` (scopes)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import cast

from halo_supabase.local.gateway.auth import audit
from halo_supabase.local.gateway.auth.audit import Actor
from halo_supabase.local.gateway.auth.errors import AuthError
from halo_supabase.local.gateway.auth.params import USER_UPDATE, Params
from halo_supabase.local.gateway.auth.passwords import check_strength, hash_password, verify
from halo_supabase.local.gateway.auth.request import AuthRequest, Reply
from halo_supabase.local.gateway.auth.sessions import LogoutScope
from halo_supabase.local.gateway.auth.shapes import user_json
from halo_supabase.local.gateway.auth.state import AuthState
from halo_supabase.local.gateway.auth.users import Connection, UserRecord, merge_metadata
from halo_supabase.local.gateway.auth.validation import validate_email, validate_phone

__all__ = ["get_user", "logout", "update_user"]


async def get_user(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    async with state.connection() as conn:
        caller = await state.guards.user(request, conn)
    token_aud = caller.claims.get("aud")
    if isinstance(token_aud, list):
        token_aud = token_aud[0] if token_aud else None
    if not token_aud or state.audience(request, caller.claims) != token_aud:
        raise AuthError(400, "validation_failed", "Token audience doesn't match request audience")
    return Reply(200, user_json(caller.user))


async def update_user(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    config = state.config
    async with state.connection() as conn:
        caller = await state.guards.user(request, conn)
        state.throttle(state.user_update_limiter, request)
        params = await request.params(USER_UPDATE)
        user = caller.user
        aud = state.audience(request, caller.claims)
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
            user.confirm_email()
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
            user.email_change_sent_at = datetime.now(UTC)
            user.email_change_token_new = secrets.token_hex(28)
    if phone and phone != user.phone:
        user.phone_change = phone
        user.phone_change_sent_at = datetime.now(UTC)
    await state.users.save(conn, user)


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
