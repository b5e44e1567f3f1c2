"""Users and identities in the real `auth.users` / `auth.identities` tables.

Rows are read into small mutable records; a handler changes a record and `save_user` writes every
mutable column back in one statement, inside the request's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from halo_supabase.sql_files import load_queries

__all__ = ["Connection", "IdentityRecord", "UserRecord", "UserStore", "merge_metadata"]

Connection = PoolConnectionProxy

_SQL = load_queries("halo_supabase.local.gateway.auth", "users.sql")


def _returned(row: asyncpg.Record | None) -> asyncpg.Record:
    """The row an INSERT/UPDATE … RETURNING must produce."""
    if row is None:
        raise RuntimeError("the statement returned no row")
    return row


def merge_metadata(target: dict[str, Any], updates: dict[str, Any]) -> None:
    """GoTrue's metadata update: keys replaced one by one, a null value removes the key."""
    for key, value in updates.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value


@dataclass
class IdentityRecord:
    id: uuid.UUID
    provider_id: str
    user_id: uuid.UUID
    identity_data: dict[str, Any]
    provider: str
    last_sign_in_at: datetime | None
    created_at: datetime
    updated_at: datetime
    email: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> IdentityRecord:
        return cls(
            id=row["id"],
            provider_id=row["provider_id"],
            user_id=row["user_id"],
            identity_data=dict(row["identity_data"] or {}),
            provider=row["provider"],
            last_sign_in_at=row["last_sign_in_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            email=row["email"],
        )


@dataclass
class UserRecord:
    id: uuid.UUID
    aud: str
    role: str
    email: str
    phone: str
    encrypted_password: str | None
    email_confirmed_at: datetime | None
    phone_confirmed_at: datetime | None
    confirmed_at: datetime | None
    invited_at: datetime | None
    confirmation_sent_at: datetime | None
    recovery_sent_at: datetime | None
    email_change: str
    email_change_sent_at: datetime | None
    email_change_token_new: str
    phone_change: str
    phone_change_sent_at: datetime | None
    reauthentication_sent_at: datetime | None
    last_sign_in_at: datetime | None
    app_metadata: dict[str, Any]
    user_metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    banned_until: datetime | None
    deleted_at: datetime | None
    is_anonymous: bool
    identities: list[IdentityRecord] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> UserRecord:
        return cls(
            id=row["id"],
            aud=row["aud"] or "",
            role=row["role"] or "",
            email=row["email"] or "",
            phone=row["phone"] or "",
            encrypted_password=row["encrypted_password"],
            email_confirmed_at=row["email_confirmed_at"],
            phone_confirmed_at=row["phone_confirmed_at"],
            confirmed_at=row["confirmed_at"],
            invited_at=row["invited_at"],
            confirmation_sent_at=row["confirmation_sent_at"],
            recovery_sent_at=row["recovery_sent_at"],
            email_change=row["email_change"] or "",
            email_change_sent_at=row["email_change_sent_at"],
            email_change_token_new=row["email_change_token_new"] or "",
            phone_change=row["phone_change"] or "",
            phone_change_sent_at=row["phone_change_sent_at"],
            reauthentication_sent_at=row["reauthentication_sent_at"],
            last_sign_in_at=row["last_sign_in_at"],
            app_metadata=dict(row["raw_app_meta_data"] or {}),
            user_metadata=dict(row["raw_user_meta_data"] or {}),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            banned_until=row["banned_until"],
            deleted_at=row["deleted_at"],
            is_anonymous=bool(row["is_anonymous"]),
        )

    def confirm_email(self) -> None:
        """Mark the address confirmed, as GoTrue's confirmation does (also in the metadata)."""
        self.email_confirmed_at = datetime.now(UTC)
        self.user_metadata["email_verified"] = True

    def is_banned(self, now: datetime) -> bool:
        return self.banned_until is not None and now < self.banned_until

    def identity(self, provider: str) -> IdentityRecord | None:
        return next((i for i in self.identities if i.provider == provider), None)


class UserStore:
    """Queries over `auth.users` and `auth.identities`; every method takes the caller's connection."""

    async def by_id(
        self, conn: Connection, user_id: uuid.UUID, *, for_update: bool = False
    ) -> UserRecord | None:
        query = _SQL["user_by_id_for_update" if for_update else "user_by_id"]
        row = await conn.fetchrow(query, user_id)
        return await self._with_identities(conn, row)

    async def by_email(self, conn: Connection, email: str, aud: str) -> UserRecord | None:
        row = await conn.fetchrow(_SQL["user_by_email"], email.lower(), aud)
        return await self._with_identities(conn, row)

    async def by_phone(self, conn: Connection, phone: str, aud: str) -> UserRecord | None:
        row = await conn.fetchrow(_SQL["user_by_phone"], phone, aud)
        return await self._with_identities(conn, row)

    async def email_taken(
        self, conn: Connection, email: str, aud: str, *, other_than: uuid.UUID | None = None
    ) -> bool:
        return bool(await conn.fetchval(_SQL["email_taken"], email.lower(), aud, other_than))

    async def phone_taken(
        self, conn: Connection, phone: str, aud: str, *, other_than: uuid.UUID | None = None
    ) -> bool:
        return bool(await conn.fetchval(_SQL["phone_taken"], phone, aud, other_than))

    async def insert(
        self,
        conn: Connection,
        *,
        user_id: uuid.UUID,
        aud: str,
        email: str,
        phone: str,
        encrypted_password: str | None,
        app_metadata: dict[str, Any],
        user_metadata: dict[str, Any],
        is_anonymous: bool,
    ) -> UserRecord:
        row = await conn.fetchrow(
            _SQL["insert_user"],
            user_id,
            aud,
            email,
            phone,
            encrypted_password,
            app_metadata,
            user_metadata,
            is_anonymous,
        )
        return UserRecord.from_row(_returned(row))

    async def save(self, conn: Connection, user: UserRecord) -> None:
        """Write every mutable column of `user`; triggers and generated columns are read back."""
        row = await conn.fetchrow(
            _SQL["save_user"],
            user.id,
            user.role,
            user.email,
            user.phone,
            user.encrypted_password,
            user.email_confirmed_at,
            user.phone_confirmed_at,
            user.confirmation_sent_at,
            user.email_change,
            user.email_change_sent_at,
            user.email_change_token_new,
            user.phone_change,
            user.phone_change_sent_at,
            user.app_metadata,
            user.user_metadata,
            user.banned_until,
            user.is_anonymous,
            user.deleted_at,
            user.last_sign_in_at,
        )
        saved = UserRecord.from_row(_returned(row))
        saved.identities = user.identities
        user.__dict__.update(saved.__dict__)

    async def record_sign_in(self, conn: Connection, user: UserRecord) -> None:
        """Stamp `last_sign_in_at` alone, so a sign-in never overwrites a concurrent change."""
        row = _returned(await conn.fetchrow(_SQL["touch_last_sign_in"], user.id))
        user.last_sign_in_at = row["last_sign_in_at"]
        user.updated_at = row["updated_at"]

    async def delete(self, conn: Connection, user_id: uuid.UUID) -> None:
        await conn.execute(_SQL["delete_user"], user_id)

    async def page(
        self, conn: Connection, aud: str, filter_text: str, page: int, per_page: int
    ) -> tuple[list[UserRecord], int]:
        total = int(await conn.fetchval(_SQL["count_users"], aud, filter_text))
        rows = await conn.fetch(
            _SQL["page_of_users"], aud, filter_text, per_page, (page - 1) * per_page
        )
        users = [UserRecord.from_row(row) for row in rows]
        await self._load_identities(conn, users)
        return users, total

    async def add_identity(
        self, conn: Connection, user: UserRecord, provider: str, data: dict[str, Any]
    ) -> IdentityRecord:
        row = await conn.fetchrow(
            _SQL["insert_identity"], str(data["sub"]), user.id, data, provider
        )
        identity = IdentityRecord.from_row(_returned(row))
        user.identities.append(identity)
        return identity

    async def update_identity(
        self, conn: Connection, identity: IdentityRecord, changes: dict[str, Any]
    ) -> None:
        identity.identity_data.update(changes)
        await conn.execute(_SQL["update_identity_data"], identity.id, identity.identity_data)
        if "email" in changes:
            identity.email = str(changes["email"]).lower()

    async def _with_identities(
        self, conn: Connection, row: asyncpg.Record | None
    ) -> UserRecord | None:
        if row is None:
            return None
        user = UserRecord.from_row(row)
        await self._load_identities(conn, [user])
        return user

    @staticmethod
    async def _load_identities(conn: Connection, users: Sequence[UserRecord]) -> None:
        if not users:
            return
        by_id = {user.id: user for user in users}
        for row in await conn.fetch(_SQL["identities_of_users"], list(by_id)):
            by_id[row["user_id"]].identities.append(IdentityRecord.from_row(row))
