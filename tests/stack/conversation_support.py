"""Scripted AI conversations through the gateway: an agent with its escalation settings, a contact
with traits, the escalation worker in-process on the real runtime, and waits on its jobs."""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import AbstractAsyncContextManager
from typing import Any
from uuid import UUID

from tests.stack.email_support import running_worker
from tests.stack.inbox_support import Inbox
from workers import escalation


def new_agent(inbox: Inbox, agent_type: str = "customer_facing", **settings: Any) -> UUID:
    """An AI agent of Acme with these escalation settings (the rest are Halo's defaults)."""
    api = inbox.raw.schema("api")
    row = (
        api.from_("ai_agents")
        .insert(
            {
                "workspace_id": str(inbox.workspace),
                "name": f"Agent {uuid.uuid4().hex[:6]}",
                "type": agent_type,
            }
        )
        .execute()
        .data[0]
    )
    if settings:
        api.from_("escalation_settings").update(settings).eq("ai_agent_id", row["id"]).execute()
    return UUID(row["id"])


def new_contact(inbox: Inbox, **traits: Any) -> UUID:
    row = (
        inbox.raw.schema("api")
        .from_("contacts")
        .insert(
            {
                "workspace_id": str(inbox.workspace),
                "email": f"c-{uuid.uuid4().hex[:8]}@ex.test",
                "traits": traits,
            }
        )
        .execute()
        .data[0]
    )
    return UUID(row["id"])


def jobs_of(inbox: Inbox, conversation_id: UUID) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        inbox.raw.schema("api")
        .from_("jobs")
        .select("id, state, payload, last_error")
        .eq("kind", escalation.KIND)
        .eq("payload->>conversation_id", str(conversation_id))
        .execute()
        .data
    )
    return rows


async def settled(inbox: Inbox, conversation_id: UUID, timeout: float = 15) -> list[dict[str, Any]]:
    """The conversation's escalation jobs, once every one has run."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = jobs_of(inbox, conversation_id)
        if all(job["state"] == "done" for job in jobs):
            return jobs
        if any(job["state"] == "dead" for job in jobs) or time.monotonic() > deadline:
            raise AssertionError(f"escalation jobs did not finish: {jobs}")
        await asyncio.sleep(0.05)


def tickets_of(inbox: Inbox, conversation_id: UUID) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        inbox.raw.schema("api")
        .from_("tickets")
        .select("*")
        .eq("conversation_id", str(conversation_id))
        .execute()
        .data
    )
    return rows


def escalation_worker(url: str, key: str) -> AbstractAsyncContextManager[None]:
    return running_worker(url, key, "escalation", escalation.KIND, lambda _: escalation.handle)
