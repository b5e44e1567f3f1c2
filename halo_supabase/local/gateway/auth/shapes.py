"""GoTrue's JSON shapes: User, Identity and the session (access token) response.

Field order and omission follow GoTrue's Go structs: optional timestamps are left out when unset,
`email`/`phone` are `""` rather than null, and times are RFC 3339 in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from halo_supabase.local.gateway.auth.users import IdentityRecord, UserRecord

__all__ = ["identity_json", "session_json", "timestamp", "user_json"]


def timestamp(value: datetime) -> str:
    """Go's RFC 3339 with nanoseconds: UTC, `Z`, no trailing zeros in the fraction."""
    utc = value.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def _put_time(target: dict[str, Any], key: str, value: datetime | None) -> None:
    if value is not None:
        target[key] = timestamp(value)


def identity_json(identity: IdentityRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identity_id": str(identity.id),
        "id": identity.provider_id,
        "user_id": str(identity.user_id),
        "identity_data": identity.identity_data,
        "provider": identity.provider,
    }
    _put_time(body, "last_sign_in_at", identity.last_sign_in_at)
    body["created_at"] = timestamp(identity.created_at)
    body["updated_at"] = timestamp(identity.updated_at)
    if identity.email:
        body["email"] = identity.email
    return body


def user_json(user: UserRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(user.id),
        "aud": user.aud,
        "role": user.role,
        "email": user.email,
    }
    _put_time(body, "email_confirmed_at", user.email_confirmed_at)
    _put_time(body, "invited_at", user.invited_at)
    body["phone"] = user.phone
    _put_time(body, "phone_confirmed_at", user.phone_confirmed_at)
    _put_time(body, "confirmation_sent_at", user.confirmation_sent_at)
    _put_time(body, "confirmed_at", user.confirmed_at)
    _put_time(body, "recovery_sent_at", user.recovery_sent_at)
    if user.email_change:
        body["new_email"] = user.email_change
    _put_time(body, "email_change_sent_at", user.email_change_sent_at)
    if user.phone_change:
        body["new_phone"] = user.phone_change
    _put_time(body, "phone_change_sent_at", user.phone_change_sent_at)
    _put_time(body, "reauthentication_sent_at", user.reauthentication_sent_at)
    _put_time(body, "last_sign_in_at", user.last_sign_in_at)
    body["app_metadata"] = user.app_metadata
    body["user_metadata"] = user.user_metadata
    body["identities"] = [identity_json(identity) for identity in user.identities]
    body["created_at"] = timestamp(user.created_at)
    body["updated_at"] = timestamp(user.updated_at)
    _put_time(body, "banned_until", user.banned_until)
    _put_time(body, "deleted_at", user.deleted_at)
    body["is_anonymous"] = user.is_anonymous
    return body


def session_json(
    access_token: str,
    expires_at: int,
    now: int,
    refresh_token: str,
    user: UserRecord,
    weak_password: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": expires_at - now,
        "expires_at": expires_at,
        "refresh_token": refresh_token,
        "user": user_json(user),
    }
    if weak_password is not None:
        body["weak_password"] = weak_password
    return body
