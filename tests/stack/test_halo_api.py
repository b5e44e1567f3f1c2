"""HaloClient over the real gateway with supabase-py: signed-in teammates and the service role."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest
from postgrest.exceptions import APIError

from halo_supabase.client import HaloClient, SyncHaloClient
from halo_supabase.models import Event
from tests.db.demo import ACME, PASSWORD
from tests.stack.conftest import Stack


async def signed_in(stack: Stack, email: str) -> HaloClient:
    client = await HaloClient.connect(stack.url, stack.anon_key)
    await client.supabase.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    return client


@pytest.mark.asyncio(loop_scope="session")
async def test_a_teammate_works_a_ticket_through_the_gateway(stack: Stack) -> None:
    agent = await signed_in(stack, "agent@acme.test")
    acme = UUID(ACME)
    ticket = await agent.create_ticket(acme, "Over HTTP", labels=["e2e"], metadata={"via": "rest"})
    assert (ticket.status, ticket.labels, ticket.metadata) == ("open", ["e2e"], {"via": "rest"})
    note = await agent.append_message(ticket.id, kind="note", body_text="via PostgREST")
    assert (note.kind, note.direction, note.ticket_id) == ("note", "internal", ticket.id)
    [row] = await agent.tickets(id=ticket.id)
    assert row.number == ticket.number
    events = await agent.events_since(acme, limit=1000)
    assert [e.name for e in events if e.ticket_id == ticket.id] == [
        "ticket.created",
        "message.created",
    ]
    recent = await agent.events(workspace_id=acme, order_by="seq", descending=True, limit=5)
    assert len(recent) == 5 and all(isinstance(e, Event) for e in recent)
    assert [e.seq for e in recent] == sorted((e.seq for e in recent), reverse=True)


@pytest.mark.asyncio(loop_scope="session")
async def test_permissions_surface_as_api_errors_with_the_sqlstate(stack: Stack) -> None:
    viewer = await signed_in(stack, "viewer@acme.test")
    [ticket] = await viewer.tickets(workspace_id=UUID(ACME), number=1)
    with pytest.raises(APIError) as denied:
        await viewer.append_message(ticket.id, kind="note", body_text="hi")
    assert denied.value.code == "42501"
    anon = await HaloClient.connect(stack.url, stack.anon_key)
    with pytest.raises(APIError):
        await anon.claim_jobs("email.send", "nobody")


@pytest.mark.asyncio(loop_scope="session")
async def test_a_worker_claims_and_completes_jobs_through_the_gateway(stack: Stack) -> None:
    worker = await HaloClient.connect(stack.url, stack.service_role_key)
    kind = f"e2e.{uuid.uuid4().hex[:8]}"
    job_id = await worker.enqueue_job(kind, {"n": 1}, dedupe_key="one")
    assert await worker.enqueue_job(kind, {"n": 2}, dedupe_key="one") == job_id
    [job] = await worker.claim_jobs(kind, "worker-1", batch=10, lease_seconds=30)
    assert (job.id, job.attempts, job.state) == (job_id, 1, "running")
    assert job.lease_token is not None
    assert await worker.extend_job_lease(job.id, job.lease_token, 60) > job.visible_at
    await worker.complete_job(job.id, job.lease_token)
    with pytest.raises(APIError) as lost:
        await worker.complete_job(job.id, job.lease_token)
    assert lost.value.code == "55000"


def test_the_sync_wrapper_runs_the_same_client_from_blocking_code(stack: Stack) -> None:
    service = SyncHaloClient.connect(stack.url, stack.service_role_key)
    try:
        kind = f"e2e.{uuid.uuid4().hex[:8]}"
        job_id = service.enqueue_job(kind, {"n": 1})
        [job] = service.jobs(kind=kind)
        assert (job.id, job.state) == (job_id, "queued")
        with pytest.raises(APIError) as refused:
            service.retry_job(job_id)  # not a dead letter
        assert refused.value.code == "55000"
    finally:
        service.close()
