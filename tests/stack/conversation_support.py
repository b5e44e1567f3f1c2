"""Scripted AI conversations through the gateway: an agent with its escalation settings, a contact
with traits, the escalation worker in-process on the real runtime, and waits on its jobs."""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import UUID

from halo_supabase.models import AiAgent, Contact, EscalationSettings, Job, Ticket
from tests.stack.email_support import running_worker
from tests.stack.inbox_support import Inbox
from workers import escalation


def new_agent(inbox: Inbox, agent_type: str = "customer_facing", **settings: Any) -> UUID:
    """An AI agent of Acme with these escalation settings (the rest are Halo's defaults)."""
    agent = inbox.service.insert(
        AiAgent,
        {
            "workspace_id": inbox.workspace,
            "name": f"Agent {uuid.uuid4().hex[:6]}",
            "type": agent_type,
        },
    )
    if settings:
        inbox.service.update(EscalationSettings, settings, ai_agent_id=agent.id)
    return UUID(str(agent.id))


def new_contact(inbox: Inbox, **traits: Any) -> UUID:
    contact = inbox.service.insert(
        Contact,
        {
            "workspace_id": inbox.workspace,
            "email": f"c-{uuid.uuid4().hex[:8]}@ex.test",
            "traits": traits,
        },
    )
    return UUID(str(contact.id))


def jobs_of(inbox: Inbox, conversation_id: UUID) -> list[Job]:
    jobs: list[Job] = inbox.service.jobs(
        kind=escalation.KIND, **{"payload->>conversation_id": conversation_id}
    )
    return jobs


async def settled(inbox: Inbox, conversation_id: UUID, timeout: float = 15) -> list[Job]:
    """The conversation's escalation jobs, once every one has run."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = jobs_of(inbox, conversation_id)
        if all(job.state == "done" for job in jobs):
            return jobs
        if any(job.state == "dead" for job in jobs) or time.monotonic() > deadline:
            raise AssertionError(f"escalation jobs did not finish: {jobs}")
        await asyncio.sleep(0.05)


def tickets_of(inbox: Inbox, conversation_id: UUID) -> list[Ticket]:
    tickets: list[Ticket] = inbox.service.tickets(conversation_id=conversation_id)
    return tickets


def escalation_worker(url: str, key: str) -> AbstractAsyncContextManager[None]:
    return running_worker(url, key, "escalation", escalation.KIND, lambda _: escalation.handle)
