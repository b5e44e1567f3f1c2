"""Demo teammates of Acme Support signed in through the gateway's Auth, as typed API clients.

Every call goes over HTTP: supabase-py → /auth/v1 for the JWT, → /rest/v1/rpc for the RPCs,
so PostgreSQL sees the member's real JWT claims and RLS decides.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from postgrest.exceptions import APIError

from halo_supabase.client import SyncHaloClient
from halo_supabase.models import Message, Ticket
from supabase import Client
from tests.db.demo import ACME, PASSWORD
from tests.stack.auth_support import sync_client
from tests.stack.conftest import Stack


@dataclass(frozen=True)
class Inbox:
    """Acme Support's people as API clients, and the service role (workers)."""

    manager: SyncHaloClient  # Inbox: Manage
    agent: SyncHaloClient  # Inbox: Reply ("Remy")
    viewer: SyncHaloClient  # Inbox: View
    admin: SyncHaloClient
    outsider: SyncHaloClient  # Globex's owner
    service: SyncHaloClient
    raw: Client  # the service role's supabase client, for plain table reads and writes
    agent_token: str
    manager_db: Client  # the manager's and the agent's supabase clients, for table reads/writes
    agent_db: Client
    workspace: UUID

    def contact(self) -> UUID:
        """A new customer of Acme."""
        data = (
            self.raw.schema("api")
            .from_("contacts")
            .insert(
                {"workspace_id": str(self.workspace), "email": f"c-{uuid.uuid4().hex[:8]}@ex.test"}
            )
            .execute()
            .data
        )
        return UUID(data[0]["id"])

    def ticket(self, subject: str = "Help", contact: UUID | None = None, **extra: Any) -> Ticket:
        return self.manager.create_ticket(
            self.workspace, subject, contact_id=contact or self.contact(), **extra
        )

    def customer_says(self, ticket: Ticket, text: str) -> Message:
        message: Message = self.service.append_message(
            ticket_id=ticket.id,
            kind="email",
            author_kind="customer",
            author_contact_id=ticket.contact_id,
            body_text=text,
        )
        return message

    def last_seq(self) -> int:
        events = (
            self.raw.schema("api")
            .from_("events")
            .select("seq")
            .eq("workspace_id", str(self.workspace))
            .order("seq", desc=True)
            .limit(1)
            .execute()
            .data
        )
        return int(events[0]["seq"]) if events else 0

    def events(self, ticket_id: UUID, after: int = 0) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (
            self.raw.schema("api")
            .from_("events")
            .select("*")
            .eq("ticket_id", str(ticket_id))
            .gt("seq", after)
            .order("seq")
            .execute()
            .data
        )
        return rows


def signed_in(stack: Stack, email: str) -> tuple[SyncHaloClient, str, Client]:
    client = sync_client(stack)
    response = client.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert response.session is not None
    token = response.session.access_token
    return SyncHaloClient.connect(stack.url, stack.anon_key, access_token=token), token, client


@pytest.fixture(scope="module")
def inbox(stack: Stack) -> Inbox:
    service = sync_client(stack, stack.service_role_key)
    agent, agent_token, agent_db = signed_in(stack, "agent@acme.test")
    manager, _, manager_db = signed_in(stack, "manager@acme.test")
    return Inbox(
        manager=manager,
        agent=agent,
        viewer=signed_in(stack, "viewer@acme.test")[0],
        admin=signed_in(stack, "admin@acme.test")[0],
        outsider=signed_in(stack, "owner@globex.test")[0],
        agent_token=agent_token,
        manager_db=manager_db,
        agent_db=agent_db,
        service=SyncHaloClient.connect(stack.url, stack.service_role_key),
        raw=service,
        workspace=UUID(ACME),
    )


def refused(call: Callable[[], object]) -> APIError:
    """The APIError a call raises (fails the test when it succeeds)."""
    with pytest.raises(APIError) as caught:
        call()
    return caught.value
