"""`/admin/users`: list, create, get, update and delete users, for service_role tokens only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg

from halo_supabase.local.gateway.auth import audit
from halo_supabase.local.gateway.auth.audit import Actor, user_traits
from halo_supabase.local.gateway.auth.errors import AuthError
from halo_supabase.local.gateway.auth.params import ADMIN_USER, ADMIN_USER_DELETE, Params, decode
from halo_supabase.local.gateway.auth.passwords import (
    MAX_PASSWORD_BYTES,
    check_strength,
    hash_password,
    is_bcrypt_hash,
    random_password,
)
from halo_supabase.local.gateway.auth.request import AuthRequest, Reply
from halo_supabase.local.gateway.auth.shapes import user_json
from halo_supabase.local.gateway.auth.state import AuthState
from halo_supabase.local.gateway.auth.users import Connection, UserRecord, merge_metadata
from halo_supabase.local.gateway.auth.validation import ban_seconds, validate_email, validate_phone

__all__ = ["create_user", "delete_user", "get_user", "list_users", "update_user"]

_DEFAULT_PER_PAGE = 50
_EMAIL_EXISTS = "A user with this email address has already been registered"


def _now() -> datetime:
    return datetime.now(UTC)


def _page_number(request: AuthRequest, name: str, default: int) -> int:
    raw = request.query.get(name, "")
    if raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():
        raise AuthError(
            400,
            "validation_failed",
            f'Bad Pagination Parameters: strconv.ParseUint: parsing "{raw}": invalid syntax',
        )
    return int(raw)


async def list_users(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    async with state.connection() as conn:
        claims = await state.guards.admin(request, conn)
        page = max(_page_number(request, "page", 1), 1)
        per_page = _page_number(request, "per_page", _DEFAULT_PER_PAGE)
        if per_page < 1:
            raise AuthError(
                400, "validation_failed", "Bad Pagination Parameters: per_page must be at least 1"
            )
        aud = request.requested_audience(claims, state.config.audience, state.config.admin_roles)
        users, total = await state.users.page(
            conn, aud, request.query.get("filter", ""), page, per_page
        )
    return Reply(
        200,
        {"users": [user_json(user) for user in users], "aud": aud},
        _pagination_headers(request, page, per_page, total),
    )


def _pagination_headers(
    request: AuthRequest, page: int, per_page: int, total: int
) -> list[tuple[str, str]]:
    """GoTrue's `Link` (next, last) and `X-Total-Count`; query keys sorted as Go encodes them."""
    pages = -(-total // per_page)
    query = dict(request.query)
    links = []
    if pages > page:
        query["page"] = str(page + 1)
        links.append(f'</admin/users?{urlencode(sorted(query.items()))}>; rel="next"')
    query["page"] = str(pages)
    links.append(f'</admin/users?{urlencode(sorted(query.items()))}>; rel="last"')
    return [("Link", ", ".join(links)), ("X-Total-Count", str(total))]


async def _target(state: AuthState, conn: Connection, path: dict[str, str]) -> UserRecord:
    try:
        user_id = uuid.UUID(path["user_id"])
    except ValueError:
        raise AuthError(404, "validation_failed", "user_id must be an UUID") from None
    user = await state.users.by_id(conn, user_id, for_update=True)
    if user is None:
        raise AuthError(404, "user_not_found", "User not found")
    return user


async def get_user(state: AuthState, request: AuthRequest, path: dict[str, str]) -> Reply:
    async with state.connection() as conn:
        await state.guards.admin(request, conn)
        user = await _target(state, conn, path)
    return Reply(200, user_json(user))


def _ban_until(params: Params) -> tuple[bool, datetime | None]:
    """(whether the request sets the ban, the new `banned_until`)."""
    raw = params.text("ban_duration")
    if not raw:
        return False, None
    seconds = ban_seconds(raw)
    return True, (None if seconds == 0 else _now() + timedelta(seconds=seconds))


async def create_user(state: AuthState, request: AuthRequest, _: dict[str, str]) -> Reply:
    async with state.connection() as conn:
        claims = await state.guards.admin(request, conn)
        params = await request.params(ADMIN_USER)
        aud = params.text("aud") or request.requested_audience(
            claims, state.config.audience, state.config.admin_roles
        )
        email, phone = params.text("email"), params.text("phone")
        if not email and not phone:
            raise AuthError(
                400, "validation_failed", "Cannot create a user without either an email or phone"
            )
        providers: list[str] = []
        if email:
            email = validate_email(email)
            if await state.users.email_taken(conn, email, aud):
                raise AuthError(422, "email_exists", _EMAIL_EXISTS)
            providers.append("email")
        if phone:
            phone = validate_phone(phone)
            if await state.users.phone_taken(conn, phone, aud):
                raise AuthError(
                    422, "phone_exists", "Phone number already registered by another user"
                )
            providers.append("phone")
        password, password_hash = params.optional("password"), params.text("password_hash")
        if password is not None and password_hash:
            raise AuthError(
                400, "validation_failed", "Only a password or a password hash should be provided"
            )
        user_id = uuid.uuid4()
        if params.text("id"):
            try:
                user_id = uuid.UUID(params.text("id"))
            except ValueError:
                raise AuthError(
                    400, "validation_failed", "ID must conform to the uuid v4 format"
                ) from None
            if user_id.int == 0:
                raise AuthError(400, "validation_failed", "ID cannot be a nil uuid")
        sets_ban, banned_until = _ban_until(params)
        if password_hash:
            if not is_bcrypt_hash(password_hash):
                raise AuthError(500, "unexpected_failure", "Error creating user")
            encrypted = password_hash
        else:
            password = password or random_password()
            if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
                raise AuthError(
                    400, "validation_failed", "bcrypt: password length exceeds 72 bytes"
                )
            encrypted = await hash_password(password)

        try:
            async with conn.transaction():
                user = await state.users.insert(
                    conn,
                    user_id=user_id,
                    aud=aud,
                    email=email,
                    phone=phone,
                    encrypted_password=encrypted,
                    app_metadata={"provider": providers[0], "providers": providers},
                    user_metadata=dict(params.mapping("user_metadata") or {}),
                    is_anonymous=False,
                )
                for provider, value in (("email", user.email), ("phone", user.phone)):
                    if value:
                        await state.users.add_identity(
                            conn,
                            user,
                            provider,
                            {
                                "sub": str(user.id),
                                provider: value,
                                "email_verified": False,
                                "phone_verified": False,
                            },
                        )
                user.role = params.text("role") or state.config.audience
                user.app_metadata.update(params.mapping("app_metadata") or {})
                if params.flag("email_confirm"):
                    user.confirm_email()
                if params.flag("phone_confirm"):
                    user.phone_confirmed_at = _now()
                if sets_ban:
                    user.banned_until = banned_until
                await state.users.save(conn, user)
                await audit.record(
                    conn,
                    Actor.admin(str(claims.get("role"))),
                    "user_signedup",
                    {**user_traits(user), "provider": providers[0]},
                )
        except asyncpg.PostgresError as exc:
            raise AuthError(500, "unexpected_failure", "Database error creating new user") from exc
    return Reply(200, user_json(user))


async def update_user(state: AuthState, request: AuthRequest, path: dict[str, str]) -> Reply:
    async with state.connection() as conn:
        claims = await state.guards.admin(request, conn)
        async with conn.transaction():
            user = await _target(state, conn, path)
            params = await request.params(ADMIN_USER)
            email = validate_email(params.text("email")) if params.text("email") else ""
            phone = validate_phone(params.text("phone")) if params.text("phone") else ""
            if (
                email
                and email != user.email
                and await state.users.email_taken(conn, email, user.aud, other_than=user.id)
            ):
                raise AuthError(422, "email_exists", _EMAIL_EXISTS)
            sets_ban, banned_until = _ban_until(params)
            password = params.optional("password")
            if password is not None:
                check_strength(password, state.config.minimum_password_length)
                user.encrypted_password = await hash_password(password) if password else None
                # GoTrue ends every session of a user whose password an admin changes.
                await state.sessions.logout(conn, user.id, None, "global")
            await _apply_admin_update(state, conn, user, params, email, phone)
            if sets_ban:
                user.banned_until = banned_until
            try:
                await state.users.save(conn, user)
            except asyncpg.PostgresError as exc:
                raise AuthError(500, "unexpected_failure", "Error updating user") from exc
            await audit.record(
                conn, Actor.admin(str(claims.get("role"))), "user_modified", user_traits(user)
            )
    return Reply(200, user_json(user))


async def _apply_admin_update(
    state: AuthState,
    conn: Connection,
    user: UserRecord,
    params: Params,
    email: str,
    phone: str,
) -> None:
    if params.text("role"):
        user.role = params.text("role").strip()
    email_confirm, phone_confirm = params.flag("email_confirm"), params.flag("phone_confirm")
    if email_confirm:
        user.confirm_email()
    if phone_confirm:
        user.phone_confirmed_at = _now()
    for provider, value, confirmed in (
        ("email", email, email_confirm),
        ("phone", phone, phone_confirm),
    ):
        if not value:
            continue
        identity = user.identity(provider)
        changes: dict[str, Any] = {provider: value, f"{provider}_verified": confirmed}
        if identity is None:
            verified_flags = {"email_verified": False, "phone_verified": False}
            await state.users.add_identity(
                conn, user, provider, {"sub": str(user.id), **verified_flags, **changes}
            )
        else:
            await state.users.update_identity(conn, identity, changes)
        if user.is_anonymous and confirmed:
            user.is_anonymous = False
        setattr(user, provider, value)
    app_metadata = params.mapping("app_metadata")
    if app_metadata is not None:
        merge_metadata(user.app_metadata, app_metadata)
    user_metadata = params.mapping("user_metadata")
    if user_metadata is not None:
        merge_metadata(user.user_metadata, user_metadata)


async def delete_user(state: AuthState, request: AuthRequest, path: dict[str, str]) -> Reply:
    async with state.connection() as conn:
        claims = await state.guards.admin(request, conn)
        async with conn.transaction():
            user = await _target(state, conn, path)
            raw = await request.raw_body()
            # The body is optional; when present it must decode.
            soft = decode(raw, ADMIN_USER_DELETE).flag("should_soft_delete") if raw else False
            await audit.record(
                conn, Actor.admin(str(claims.get("role"))), "user_deleted", user_traits(user)
            )
            if not soft:
                await state.users.delete(conn, user.id)
            elif user.deleted_at is None:
                await _soft_delete(state, conn, user)
    return Reply(200, {})


async def _soft_delete(state: AuthState, conn: Connection, user: UserRecord) -> None:
    """Keep the row (for foreign keys) but make it unusable and anonymous, as GoTrue does."""
    user.deleted_at = _now()
    user.encrypted_password = None
    user.email = f"{uuid.uuid4().hex}@deleted.invalid" if user.email else ""
    user.phone = ""
    user.email_change = user.phone_change = user.email_change_token_new = ""
    user.user_metadata = {}
    await state.sessions.logout(conn, user.id, None, "global")
    await state.users.save(conn, user)
