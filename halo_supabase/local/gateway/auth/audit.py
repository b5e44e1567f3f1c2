"""`auth.audit_log_entries`, written as GoTrue writes them, in the request's transaction.

Each entry's payload names the actor (a user, or for admin calls the token's role with the nil
UUID), the action, its log type and optional traits; Supabase Studio's auth logs read these rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from halo_supabase.local.gateway.auth.users import Connection, UserRecord
from halo_supabase.sql_files import load_queries

__all__ = ["Actor", "record", "user_traits"]

_SQL = load_queries("halo_supabase.local.gateway.auth", "audit.sql")
_LOG_TYPES = {
    "login": "account",
    "logout": "account",
    "user_signedup": "team",
    "user_deleted": "team",
    "token_revoked": "token",
    "token_refreshed": "token",
    "user_modified": "user",
    "user_updated_password": "user",
    "user_confirmation_requested": "user",
}


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID
    username: str
    name: Any = None

    @classmethod
    def of(cls, user: UserRecord) -> Actor:
        return cls(user.id, user.phone or user.email, user.user_metadata.get("full_name"))

    @classmethod
    def admin(cls, role: str) -> Actor:
        return cls(uuid.UUID(int=0), role)


def _payload(actor: Actor, action: str, traits: dict[str, Any] | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "actor_id": str(actor.id),
        "actor_via_sso": False,
        "actor_username": actor.username,
        "action": action,
        "log_type": _LOG_TYPES[action],
    }
    if actor.name is not None:
        payload["actor_name"] = actor.name
    if traits is not None:
        payload["traits"] = traits
    return payload


async def record(
    conn: Connection, actor: Actor, action: str, traits: dict[str, Any] | None = None
) -> None:
    await conn.execute(_SQL["insert_entry"], uuid.uuid4(), _payload(actor, action, traits))


def user_traits(user: UserRecord) -> dict[str, Any]:
    """What GoTrue records about the user an admin acted on."""
    return {"user_id": str(user.id), "user_email": user.email, "user_phone": user.phone}
