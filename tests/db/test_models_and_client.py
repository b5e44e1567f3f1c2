"""The typed client's contract with the database, checked without the REST gateway.

* Every pydantic model has exactly its view's columns, and validates real seeded rows.
* HaloClient has a method for every `api` function and view, calls only functions that exist,
  with their real parameter names, and its results validate: its RPC transport is swapped for one
  that executes the call in PostgreSQL the way PostgREST does (named arguments, role and JWT
  claims, composite -> object, setof -> array). The path over HTTP: tests/stack/test_halo_api.py.
"""

from __future__ import annotations

from uuid import UUID, uuid4

import psycopg
import pytest

from halo_supabase.client import HaloClient
from halo_supabase.client.documents import InboundEmailDocument, InboundOutcome
from halo_supabase.errors import InboundApplyError
from halo_supabase.models import MODELS, ViewModel
from tests.db.demo import ACME, AGENT, CONTACT, MANAGER
from tests.db.postgres_transport import PostgresTransport

Conn = psycopg.Connection[tuple[object, ...]]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.VIEW)
def test_model_fields_are_the_view_columns(project_db: str, model: type[ViewModel]) -> None:
    with psycopg.connect(project_db) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'api' and table_name = %s order by ordinal_position",
                (model.VIEW,),
            )
        ]
    assert list(model.model_fields) == columns


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.VIEW)
def test_model_validates_every_seeded_row(project_db: str, model: type[ViewModel]) -> None:
    with psycopg.connect(project_db) as conn, conn.transaction(force_rollback=True):
        # Rows the seed has none of.
        conn.execute(f"select api.create_api_key('{ACME}', 'k')")
        conn.execute(
            "insert into halo.message_feedback (message_id, user_id, rating, correction)"
            f" select id, '{AGENT}', -1, 'Say 25 seats' from halo.messages"
            " where author_kind = 'ai_agent' limit 1"
        )
        conn.execute(
            "insert into halo.ai_replies (message_id, confidence, tool_calls)"
            ' select id, 64, \'[{"name": "knowledge_search", "arguments": {"q": "seats"}}]\''
            " from halo.messages where author_kind = 'ai_agent' limit 1"
        )
        conn.execute(
            "insert into halo.inbound_emails (workspace_id, provider, recipient, storage_path,"
            " payload_format, size_bytes)"
            f" values ('{ACME}', 'raw', 'support@acme.test', 'p/1.eml', 'mime', 10)"
        )
        conn.execute(
            "insert into halo.training_entries (workspace_id, scope, source, body_text)"
            f" values ('{ACME}', 'workspace', 'composer', 'We ship on Mondays')"
        )
        conn.execute(
            "insert into halo.ticket_reads (user_id, ticket_id, workspace_id, last_read_at)"
            f" select '{AGENT}', id, workspace_id, now() from halo.tickets where workspace_id = '{ACME}'"
        )
        rows = [r[0] for r in conn.execute(f"select to_jsonb(v) from api.{model.VIEW} v")]
    assert rows
    for row in rows:
        model.model_validate(row)


async def test_a_workflow_through_the_typed_client(project_db: str) -> None:
    with psycopg.connect(project_db) as conn:
        try:
            # The whole workflow runs in one transaction that is rolled back; publish its events
            # as they happen instead of at the commit that never comes.
            conn.execute("set constraints all immediate")
            agent = PostgresTransport(conn, "authenticated", AGENT)
            manager = PostgresTransport(conn, "authenticated", MANAGER)
            worker = PostgresTransport(conn, "service_role", None)
            acme = UUID(ACME)

            ticket = await agent.create_ticket(
                acme, "Printer on fire", contact_id=UUID(CONTACT), labels=["hardware"]
            )
            assert (ticket.status, ticket.labels) == ("open", ["hardware"])
            reply = await agent.append_message(ticket.id, kind="email", body_text="On my way")
            assert (reply.direction, reply.author_kind) == ("outbound", "teammate")
            [row] = [r for r in await manager.list_tickets(acme, "all") if r.id == ticket.id]
            assert (row.last_message_preview, row.last_message_author_name) == ("On my way", "Remy")
            assert row.unread is True
            marker = await manager.mark_ticket_read(ticket.id)
            assert marker.last_read_message_id == reply.id
            assert (await manager.unread_counts(acme, ["all"]))["window"] == 100
            ticket = await manager.set_ticket_status(ticket.id, "resolved")
            assert (ticket.status, ticket.resolved_by) == ("resolved", "human")
            ticket = await manager.assign_ticket(ticket.id, None)
            assert ticket.assignee_id is None

            events = await agent.events_since(acme, after_seq=0, limit=1000)
            mine = [e.name for e in events if e.ticket_id == ticket.id]
            # The reply auto-assigned the ticket (the demo workspace has auto-assign on reply).
            assert mine == [
                "ticket.created",
                "ticket.assigned",
                "message.created",
                "ticket.read",
                "ticket.status_changed",
                "ticket.assigned",
            ]

            [job] = [
                j
                for j in await worker.claim_jobs("email.send", "w1", batch=100)
                if j.payload == {"message_id": str(reply.id)}
            ]
            assert job.lease_token is not None
            await worker.complete_job(job.id, job.lease_token)
            assert await worker.complete_jobs([(job.id, job.lease_token)]) == [
                job.id
            ]  # done: no lease
            small = "From: a@customer.example\r\nSubject: Hi\r\n\r\nHello\r\n"
            stored = await worker.receive_inbound_email(
                "raw", "support@acme.test", None, "mime", len(small), raw=small
            )
            assert (stored.duplicate, stored.routed) == (False, True)
            hello = InboundEmailDocument(
                kind="new", from_email="a@customer.example", body_text="Hello"
            )
            missing = uuid4()
            applied, refused = await worker.apply_inbound_emails(
                [(stored.id, hello), (missing, hello)]
            )
            assert isinstance(applied, InboundOutcome) and applied.result == "applied"
            assert (
                isinstance(refused, InboundApplyError)
                and refused.code == "P0002"
                and str(missing) in str(refused)
            )
            key = await worker.create_api_key(acme, "zapier")
            assert await worker.verify_api_key(key.key) == acme
            assert await worker.verify_api_key(key.key + "x") is None
            assert (await agent.update_my_profile(acme, online=False)).online is False
        finally:
            conn.rollback()


def test_every_api_function_and_view_has_a_client_method(project_db: str) -> None:
    methods = {name for name in dir(HaloClient) if not name.startswith("_")}
    with psycopg.connect(project_db) as conn:
        functions = {
            r[0]
            for r in conn.execute(
                "select proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
                " where n.nspname = 'api'"
                " union select table_name::text from information_schema.views"
                " where table_schema = 'api'"
            )
        }
    assert functions <= methods, functions - methods


async def test_the_other_client_methods_reach_their_functions(project_db: str) -> None:
    from tests.db.demo import ADMIN, AI_AGENT, OPEN_TICKET, OUTSIDER, VIEWER

    with psycopg.connect(project_db) as conn:
        try:
            acme = UUID(ACME)
            worker = PostgresTransport(conn, "service_role", None)
            live = await worker.start_conversation(acme, "sess-client", "voice", UUID(AI_AGENT))
            assert (live.state, live.mode) == ("live", "voice")
            assert (await worker.start_conversation(acme, "sess-client")).id == live.id
            live = await worker.record_conversation_signal(
                live.id, -0.5, "frustrated", 35, "Refund"
            )
            assert (live.mood, live.ai_confidence, live.topic) == ("frustrated", 35, "Refund")
            agent = PostgresTransport(conn, "authenticated", AGENT)
            assert (await agent.set_conversation_ai_paused(live.id, True)).ai_paused is True
            done = await worker.complete_conversation(live.id, "escalated", 40)
            assert (done.state, done.outcome, done.ai_score) == ("completed", "escalated", 40)

            job_id = await worker.enqueue_job("client.test", {"a": 1}, "k1", acme, max_attempts=2)
            assert await worker.enqueue_job("client.test", {"a": 2}, "k1") == job_id
            [job] = await worker.claim_jobs("client.test", "w1", batch=5, lease_seconds=30)
            assert job.lease_token is not None
            assert await worker.extend_job_lease(job.id, job.lease_token, 120) > job.visible_at
            failed = await worker.fail_job(job.id, job.lease_token, "boom", retry_in_seconds=0)
            assert (failed.state, failed.last_error) == ("queued", "boom")

            manager = PostgresTransport(conn, "authenticated", MANAGER)
            ticket = await manager.update_ticket(
                UUID(OPEN_TICKET), priority="urgent", labels=["vip"]
            )
            assert (ticket.status, ticket.labels) == ("priority", ["vip"])

            admin = PostgresTransport(conn, "authenticated", ADMIN)
            member = await admin.set_member(acme, UUID(VIEWER), "member", "manage")
            assert member.inbox_permission == "manage"
            await admin.remove_member(acme, UUID(VIEWER))
            gone = conn.execute(
                "select count(*) from halo.members where user_id = %s", (VIEWER,)
            ).fetchone()
            assert gone == (0,)

            outsider = PostgresTransport(conn, "authenticated", OUTSIDER)
            assert (await outsider.create_workspace("Side project", "Gina")).name == "Side project"
        finally:
            conn.rollback()
