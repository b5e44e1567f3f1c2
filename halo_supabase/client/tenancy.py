"""Workspaces, members, API keys and the event log catch-up."""

from __future__ import annotations

from uuid import UUID

from halo_supabase.client.calls import ApiCalls
from halo_supabase.models import (
    ApiKeyCreated,
    Event,
    InboxPermission,
    Member,
    Workspace,
    WorkspaceRole,
)

__all__ = ["TenancyCalls"]


class TenancyCalls(ApiCalls):
    """`api` functions of workspaces, members, API keys and the event log."""

    async def create_workspace(self, name: str, display_name: str) -> Workspace:
        """A new workspace with the caller as its super admin."""
        return await self._one(Workspace, "create_workspace", name=name, display_name=display_name)

    async def set_member(
        self,
        workspace_id: UUID,
        user_id: UUID,
        role: WorkspaceRole,
        inbox_permission: InboxPermission,
        display_name: str | None = None,
    ) -> Member:
        return await self._one(
            Member,
            "set_member",
            workspace_id=workspace_id,
            user_id=user_id,
            role=role,
            inbox_permission=inbox_permission,
            display_name=display_name,
        )

    async def remove_member(self, workspace_id: UUID, user_id: UUID) -> None:
        await self._call("remove_member", workspace_id=workspace_id, user_id=user_id)

    async def update_my_profile(
        self,
        workspace_id: UUID,
        display_name: str | None = None,
        email_alias: str | None = None,
        online: bool | None = None,
    ) -> Member:
        return await self._one(
            Member,
            "update_my_profile",
            workspace_id=workspace_id,
            display_name=display_name,
            email_alias=email_alias,
            online=online,
        )

    async def create_api_key(self, workspace_id: UUID, name: str) -> ApiKeyCreated:
        """A workspace API key; the only time the key itself is returned."""
        rows = await self._call("create_api_key", workspace_id=workspace_id, name=name)
        return ApiKeyCreated.model_validate(rows[0])

    async def verify_api_key(self, key: str) -> UUID | None:
        """The key's workspace, or None for an unknown or revoked key."""
        workspace = await self._call("verify_api_key", key=key)
        return UUID(workspace) if workspace else None

    async def events_since(
        self, workspace_id: UUID, after_seq: int = 0, limit: int = 500
    ) -> list[Event]:
        """The workspace's events after `after_seq`, gap-free (a reconnecting client's catch-up)."""
        return await self._many(
            Event, "events_since", workspace_id=workspace_id, after_seq=after_seq, limit=limit
        )
