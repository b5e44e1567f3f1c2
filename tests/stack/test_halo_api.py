"""HaloApi over the real gateway with supabase-py: signed-in teammates and the service role."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest
from postgrest.exceptions import APIError

from halo_supabase.client import HaloApi
from halo_supabase.models import Event, Ticket
from supabase import Client, create_client
from tests.db.demo import ACME, PASSWORD
from tests.stack.conftest import Stack


def signed_in(stack: Stack, email: str) -> Client:
    client = create_client(stack.url, stack.anon_key)
    client.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    return client


def test_a_teammate_works_a_ticket_through_the_gateway(stack: Stack) -> None:
    agent = HaloApi(signed_in(stack, "agent@acme.test"))
    acme = UUID(ACME)
    ticket = agent.create_ticket(acme, "Over HTTP", labels=["e2e"], metadata={"via": "rest"})
    assert (ticket.status, ticket.labels, ticket.metadata) == ("open", ["e2e"], {"via": "rest"})
    note = agent.append_message(ticket.id, kind="note", body_text="via PostgREST")
    assert (note.kind, note.direction, note.ticket_id) == ("note", "internal", ticket.id)
    [row] = agent.rows(Ticket, id=ticket.id)
    assert row.number == ticket.number
    names = [e.name for e in agent.events_since(acme, limit=1000) if e.ticket_id == ticket.id]
    assert names == ["ticket.created", "message.created"]
    assert all(isinstance(e, Event) for e in agent.rows(Event, workspace_id=acme, limit=5))


def test_permissions_surface_as_api_errors_with_the_sqlstate(stack: Stack) -> None:
    viewer = HaloApi(signed_in(stack, "viewer@acme.test"))
    [ticket] = viewer.rows(Ticket, workspace_id=UUID(ACME), number=1)
    with pytest.raises(APIError) as denied:
        viewer.append_message(ticket.id, kind="note", body_text="hi")
    assert denied.value.code == "42501"
    anon = HaloApi(create_client(stack.url, stack.anon_key))
    with pytest.raises(APIError):
        anon.claim_jobs("email.send", "nobody")


def test_a_worker_claims_and_completes_jobs_through_the_gateway(stack: Stack) -> None:
    worker = HaloApi(create_client(stack.url, stack.service_role_key))
    kind = f"e2e.{uuid.uuid4().hex[:8]}"
    job_id = worker.enqueue_job(kind, {"n": 1}, dedupe_key="one")
    assert worker.enqueue_job(kind, {"n": 2}, dedupe_key="one") == job_id
    [job] = worker.claim_jobs(kind, "worker-1", batch=10, lease_seconds=30)
    assert (job.id, job.attempts, job.state) == (job_id, 1, "running")
    assert job.lease_token is not None
    assert worker.extend_job_lease(job.id, job.lease_token, 60) > job.visible_at
    worker.complete_job(job.id, job.lease_token)
    with pytest.raises(APIError) as lost:
        worker.complete_job(job.id, job.lease_token)
    assert lost.value.code == "55000"
