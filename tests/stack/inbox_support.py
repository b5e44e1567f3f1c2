"""Demo teammates of Acme Support signed in through the gateway's Auth, as typed API clients.

Every call goes over HTTP: supabase-py → /auth/v1 for the JWT, → /rest/v1 for the RPCs and
views, so PostgreSQL sees the member's real JWT claims and RLS decides.
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
from halo_supabase.models import Contact, Event, Message, Ticket
from supabase import AsyncClientOptions
from tests.db.demo import ACME, PASSWORD
from tests.stack.auth_support import client_address
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
    agent_token: str  # the agent's JWT, for plain HTTP requests
    workspace: UUID

    def contact(self) -> UUID:
        """A new customer of Acme."""
        contact = self.service.insert(
            Contact,
            {"workspace_id": self.workspace, "email": f"c-{uuid.uuid4().hex[:8]}@ex.test"},
        )
        return UUID(str(contact.id))

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
        events = self.service.events(
            workspace_id=self.workspace, order_by="seq", descending=True, limit=1
        )
        return int(events[0].seq) if events else 0

    def events(self, ticket_id: UUID, after: int = 0) -> list[Event]:
        events: list[Event] = self.service.events(
            ticket_id=ticket_id, at_least={"seq": after + 1}, order_by="seq"
        )
        return events


def signed_in(stack: Stack, email: str) -> tuple[SyncHaloClient, str]:
    """The member's client and access token."""
    options = AsyncClientOptions(
        auto_refresh_token=False, headers={"X-Forwarded-For": client_address()}
    )
    api = SyncHaloClient.connect(stack.url, stack.anon_key, options)
    return api, api.sign_in(email, PASSWORD)


@pytest.fixture(scope="module")
def inbox(stack: Stack) -> Inbox:
    agent, agent_token = signed_in(stack, "agent@acme.test")
    return Inbox(
        manager=signed_in(stack, "manager@acme.test")[0],
        agent=agent,
        viewer=signed_in(stack, "viewer@acme.test")[0],
        admin=signed_in(stack, "admin@acme.test")[0],
        outsider=signed_in(stack, "owner@globex.test")[0],
        service=SyncHaloClient.connect(stack.url, stack.service_role_key),
        agent_token=agent_token,
        workspace=UUID(ACME),
    )


def refused(call: Callable[[], object]) -> APIError:
    """The APIError a call raises (fails the test when it succeeds)."""
    with pytest.raises(APIError) as caught:
        call()
    return caught.value
