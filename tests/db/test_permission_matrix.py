"""The permission matrix: for every `api` view and function, who may do what to the demo workspace.

Each row runs one statement against the seeded demo workspace "Acme Support" as each of seven
people, the way PostgREST would (role + JWT claims), inside a transaction that is rolled back.
The statement returns a count; the operation was *allowed* when it ran and the count is positive,
*denied* when PostgreSQL refused it (SQLSTATE 42501: no grant, row-level security, or our own
permission check; P0002: the row is invisible; 55000: a view that joins tables cannot be written)
or when it matched no row. Any other error fails the test, so a broken statement cannot pass as
"denied".

Grid columns: anon, a member of another workspace, Inbox view / reply / manage members, an
admin, service_role. `Y` = allowed, `.` = denied.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import pytest

from tests.conftest import as_user
from tests.db.demo import (
    ACME,
    AGENT,
    AI_AGENT,
    CONTACT,
    LIVE_CONVERSATION,
    MANAGER,
    OPEN_TICKET,
    PEOPLE,
    VIEWER,
    claims,
)

ROLES = tuple(PEOPLE)


@dataclass(frozen=True)
class Case:
    obj: str
    op: str
    grid: str
    sql: str
    setup: str | None = None

    @property
    def expected(self) -> dict[str, bool]:
        cells = self.grid.replace(" ", "")
        assert len(cells) == len(ROLES), self
        return {role: cell == "Y" for role, cell in zip(ROLES, cells, strict=True)}


def select(view: str, where: str = f"workspace_id = '{ACME}'") -> str:
    return f"select count(*) from api.{view} where {where}"


def dml(statement: str) -> str:
    return f"with changed as ({statement} returning 1) select count(*) from changed"


def call(expression: str) -> str:
    """A function call counts as allowed when it returns a non-null value."""
    return f"select count(*) from (select {expression} as result) called where result is not null"


def rows(expression: str) -> str:
    return f"select count(*) from {expression}"


W = f"workspace_id = '{ACME}'"
LEASED_JOB = (
    "insert into halo.jobs (kind, state, lease_token, attempts, visible_at)"
    " values ('test.kind', 'running', gen_random_uuid(), 1, now() + interval '1 minute')"
    " returning id, lease_token"
)
DEAD_JOB = (
    "insert into halo.jobs (kind, state, attempts, finished_at)"
    " values ('test.kind', 'dead', 5, now()) returning id"
)
INBOUND = (
    "insert into halo.inbound_emails (workspace_id, provider, recipient, storage_path,"
    f" payload_format, size_bytes) values ('{ACME}', 'raw', 'support@acme.test', 'p/2.eml',"
    " 'mime', 10) returning id"
)
FEEDBACK = (
    f"insert into halo.message_feedback (message_id, user_id, rating) select id, '{AGENT}', 1"
    f" from halo.messages where conversation_id = '{LIVE_CONVERSATION}' limit 1 returning message_id"
)
TWO_TICKETS = (
    f"select (select id from api.create_ticket('{ACME}', 'dup 1', p_contact_id => '{CONTACT}')),"
    f" (select id from api.create_ticket('{ACME}', 'dup 2', p_contact_id => '{CONTACT}'))"
)
READ_MARKERS = (
    "insert into halo.ticket_reads (user_id, ticket_id, workspace_id, last_read_at)"
    f" select user_id, '{OPEN_TICKET}', workspace_id, now() from halo.members where {W} returning 1"
)
API_KEY = f"select key from api.create_api_key('{ACME}', 'setup key')"
TRAINING = (
    "insert into halo.training_entries (workspace_id, scope, source, body_text, created_by)"
    f" values ('{ACME}', 'workspace', 'composer', 'Be brief', '{AGENT}') returning id"
)
AI_MESSAGE = (
    f"select id from halo.messages where conversation_id = '{LIVE_CONVERSATION}'"
    " and author_kind = 'ai_agent' limit 1"
)

AI_REPLY = (
    "insert into halo.ai_replies (message_id, confidence, tool_calls)"
    f' select id, 72, \'[{{"name": "knowledge_search"}}]\' from ({AI_MESSAGE}) m returning message_id'
)

# fmt: off
#            anon outsider view reply manage admin service
MATRIX: list[Case] = [
    # tenancy
    Case("workspaces", "select", ". . Y Y Y Y Y", select("workspaces", f"id = '{ACME}'")),
    Case("workspaces", "insert", ". . . . . . .", dml("insert into api.workspaces (name) values ('x')")),
    Case("workspaces", "update", ". . . . . Y Y", dml(f"update api.workspaces set name = 'Acme 2' where id = '{ACME}'")),
    Case("workspaces", "delete", ". . . . . . .", dml(f"delete from api.workspaces where id = '{ACME}'")),
    Case("members", "select", ". . Y Y Y Y Y", select("members")),
    Case("members", "insert", ". . . . . . .", dml(f"insert into api.members (workspace_id, user_id, display_name) values ('{ACME}', gen_random_uuid(), 'x')")),
    Case("members", "update", ". . . . . . .", dml(f"update api.members set inbox_permission = 'manage' where {W}")),
    Case("members", "delete", ". . . . . . .", dml(f"delete from api.members where user_id = '{VIEWER}'")),
    Case("alias_users", "select", ". . Y Y Y Y Y", select("alias_users")),
    Case("alias_users", "insert", ". . . . . Y Y", dml(f"insert into api.alias_users (workspace_id, name) values ('{ACME}', 'Billing')")),
    Case("alias_users", "update", ". . . . . Y Y", dml(f"update api.alias_users set name = 'Team' where {W}")),
    Case("alias_users", "delete", ". . . . . Y Y", dml(f"delete from api.alias_users where {W}")),
    Case("create_workspace", "execute", ". Y Y Y Y Y .", rows("api.create_workspace('New co', 'Me')")),
    Case("set_member", "execute", ". . . . . Y .", rows(f"api.set_member('{ACME}', '{VIEWER}', 'member', 'reply')")),
    Case("remove_member", "execute", ". . . . . Y .", call(f"api.remove_member('{ACME}', '{VIEWER}')::text || 'done'")),
    Case("update_my_profile", "execute", ". . Y Y Y Y .", rows(f"api.update_my_profile('{ACME}', p_online => true)")),
    # events
    Case("events", "select", ". . Y Y Y Y Y", select("events")),
    Case("events", "insert", ". . . . . . .", dml(f"insert into api.events (workspace_id, seq, name) values ('{ACME}', 999999, 'x.y')")),
    Case("events", "update", ". . . . . . .", dml(f"update api.events set name = 'x.y' where {W}")),
    Case("events", "delete", ". . . . . . .", dml(f"delete from api.events where {W}")),
    Case("events_since", "execute", ". . Y Y Y Y Y", rows(f"api.events_since('{ACME}', 0, 10)")),
    # jobs
    Case("jobs", "select", ". . . . . . Y", select("jobs")),
    Case("jobs", "insert", ". . . . . . .", dml("insert into api.jobs (kind) values ('test.kind')")),
    Case("jobs", "update", ". . . . . . .", dml(f"update api.jobs set state = 'queued' where {W}")),
    Case("jobs", "delete", ". . . . . . .", dml(f"delete from api.jobs where {W}")),
    Case("enqueue_job", "execute", ". . . . . . Y", call("api.enqueue_job('test.kind', '{}')")),
    Case("claim_jobs", "execute", ". . . . . . Y", rows("api.claim_jobs('test.kind', 'worker-1')"), "select api.enqueue_job('test.kind')"),
    Case("complete_job", "execute", ". . . . . . Y", call("api.complete_job(%s, %s)::text || 'done'"), LEASED_JOB),
    Case("complete_jobs", "execute", ". . . . . . Y", call("api.complete_jobs(jsonb_build_array(jsonb_build_object('id', %s::bigint, 'lease_token', %s::text)))"), LEASED_JOB),
    Case("fail_job", "execute", ". . . . . . Y", rows("api.fail_job(%s, %s, 'boom')"), LEASED_JOB),
    Case("extend_job_lease", "execute", ". . . . . . Y", call("api.extend_job_lease(%s, %s, 120)"), LEASED_JOB),
    Case("release_job", "execute", ". . . . . . Y", call("api.release_job(%s, %s)::text || 'done'"), LEASED_JOB),
    Case("retry_job", "execute", ". . . . . . Y", rows("api.retry_job(%s)"), DEAD_JOB),
    Case("discard_job", "execute", ". . . . . . Y", call("api.discard_job(%s)"), DEAD_JOB),
    # inbound email (the edge function and the email worker)
    Case("inbound_emails", "select", ". . . . . . Y", select("inbound_emails"), INBOUND),
    Case("inbound_emails", "insert", ". . . . . . .", dml(f"insert into api.inbound_emails (workspace_id, provider, recipient, storage_path, payload_format, size_bytes) values ('{ACME}', 'raw', 'a@b.c', 'x', 'mime', 1)")),
    Case("inbound_emails", "update", ". . . . . . .", dml(f"update api.inbound_emails set state = 'ignored' where {W}")),
    Case("inbound_emails", "delete", ". . . . . . .", dml(f"delete from api.inbound_emails where {W}")),
    Case("receive_inbound_email", "execute", ". . . . . . Y", call("api.receive_inbound_email('raw', 'nobody@example.com', 'p/1.eml', 'mime', 10)")),
    Case("email_secrets", "execute", ". . . . . . Y", call(f"api.email_secrets('{ACME}')")),
    Case("outbound_email_context", "execute", ". . . . . . Y", call(f"api.outbound_email_context((select id from halo.messages where ticket_id = '{OPEN_TICKET}' limit 1))")),
    Case("mark_email_sent", "execute", ". . . . . . Y", call(f"api.mark_email_sent((select id from halo.messages where ticket_id = '{OPEN_TICKET}' and email_message_id is null limit 1), 'x@y')")),
    Case("apply_inbound_email", "execute", ". . . . . . Y", call("api.apply_inbound_email(%s, '{\"kind\": \"new\", \"from_email\": \"x@example.com\", \"body_text\": \"hi\"}')"), INBOUND),
    Case("apply_inbound_emails", "execute", ". . . . . . Y", call("api.apply_inbound_emails(jsonb_build_array(jsonb_build_object('inbound_id', %s::text, 'email', '{\"kind\": \"new\", \"from_email\": \"x@example.com\", \"body_text\": \"hi\"}'::jsonb)))"), INBOUND),
    # customers
    Case("companies", "select", ". . Y Y Y Y Y", select("companies")),
    Case("companies", "insert", ". . . Y Y Y Y", dml(f"insert into api.companies (workspace_id, name) values ('{ACME}', 'Umbrella')")),
    Case("companies", "update", ". . . Y Y Y Y", dml(f"update api.companies set plan = 'pro' where {W}")),
    Case("companies", "delete", ". . . . . . Y", dml(f"delete from api.companies where {W}")),
    Case("contacts", "select", ". . Y Y Y Y Y", select("contacts")),
    Case("contacts", "insert", ". . . Y Y Y Y", dml(f"insert into api.contacts (workspace_id, email) values ('{ACME}', 'new@example.com')")),
    Case("contacts", "update", ". . . Y Y Y Y", dml(f"update api.contacts set name = 'Renamed' where id = '{CONTACT}'")),
    Case("contacts", "delete", ". . . . . . Y", dml(f"delete from api.contacts where id = '{CONTACT}'")),
    Case("visitors", "select", ". . Y Y Y Y Y", select("visitors")),
    Case("visitors", "insert", ". . . . . . Y", dml(f"insert into api.visitors (workspace_id, anonymous_id) values ('{ACME}', 'anon-new')")),
    Case("visitors", "update", ". . . . . . Y", dml(f"update api.visitors set contact_id = '{CONTACT}' where {W}")),
    Case("visitors", "delete", ". . . . . . Y", dml(f"delete from api.visitors where {W}")),
    # settings
    Case("ai_agents", "select", ". . Y Y Y Y Y", select("ai_agents")),
    Case("ai_agents", "insert", ". . . . . Y Y", dml(f"insert into api.ai_agents (workspace_id, name) values ('{ACME}', 'Bob')")),
    Case("ai_agents", "update", ". . . . . Y Y", dml(f"update api.ai_agents set active = false where {W}")),
    Case("ai_agents", "delete", ". . . . . . Y", dml(f"delete from api.ai_agents where id = '{AI_AGENT}'")),
    Case("escalation_settings", "select", ". . Y Y Y Y Y", select("escalation_settings")),
    Case("escalation_settings", "insert", ". . . . . . .", dml(f"insert into api.escalation_settings (ai_agent_id) values ('{AI_AGENT}')")),
    Case("escalation_settings", "update", ". . . . . Y Y", dml(f"update api.escalation_settings set confidence_threshold = 70 where {W}")),
    Case("escalation_settings", "delete", ". . . . . . .", dml(f"delete from api.escalation_settings where {W}")),
    Case("workspace_settings", "select", ". . Y Y Y Y Y", select("workspace_settings")),
    Case("workspace_settings", "insert", ". . . . . . .", dml(f"insert into api.workspace_settings (workspace_id) values ('{ACME}')")),
    Case("workspace_settings", "update", ". . . . . Y Y", dml(f"update api.workspace_settings set auto_assign_on_reply = false where {W}")),
    Case("workspace_settings", "delete", ". . . . . . .", dml(f"delete from api.workspace_settings where {W}")),
    Case("spam_rules", "select", ". . Y Y Y Y Y", select("spam_rules")),
    Case("spam_rules", "insert", ". . . . . Y Y", dml(f"insert into api.spam_rules (workspace_id, description) values ('{ACME}', 'No SEO offers')")),
    Case("spam_rules", "update", ". . . . . Y Y", dml(f"update api.spam_rules set enabled = false where {W}")),
    Case("spam_rules", "delete", ". . . . . Y Y", dml(f"delete from api.spam_rules where {W}")),
    Case("trusted_senders", "select", ". . Y Y Y Y Y", select("trusted_senders")),
    Case("trusted_senders", "insert", ". . . . . Y Y", dml(f"insert into api.trusted_senders (workspace_id, pattern) values ('{ACME}', '@partner.example')")),
    Case("trusted_senders", "update", ". . . . . . Y", dml(f"update api.trusted_senders set pattern = '@other.example' where pattern = '@globex.example' and {W}")),
    Case("trusted_senders", "delete", ". . . . . Y Y", dml(f"delete from api.trusted_senders where {W}")),
    Case("inbound_addresses", "select", ". . Y Y Y Y Y", select("inbound_addresses")),
    Case("inbound_addresses", "insert", ". . . . . Y Y", dml(f"insert into api.inbound_addresses (workspace_id, address) values ('{ACME}', 'sales@acme.test')")),
    Case("inbound_addresses", "update", ". . . . . Y Y", dml(f"update api.inbound_addresses set display_name = 'Help' where {W}")),
    Case("inbound_addresses", "delete", ". . . . . Y Y", dml(f"delete from api.inbound_addresses where {W}")),
    Case("api_keys", "select", ". . . . . Y Y", select("api_keys"), API_KEY),
    Case("api_keys", "insert", ". . . . . . .", dml(f"insert into api.api_keys (workspace_id, name, prefix) values ('{ACME}', 'k', 'p')")),
    Case("api_keys", "update", ". . . . . Y Y", dml(f"update api.api_keys set revoked_at = now() where {W} and revoked_at is null"), API_KEY),
    Case("api_keys", "delete", ". . . . . . .", dml(f"delete from api.api_keys where {W}"), API_KEY),
    Case("create_api_key", "execute", ". . . . . Y Y", rows(f"api.create_api_key('{ACME}', 'CI')")),
    Case("verify_api_key", "execute", ". . . . . . Y", call("api.verify_api_key(%s)"), API_KEY),
    # conversations
    Case("conversations", "select", ". . Y Y Y Y Y", select("conversations")),
    Case("conversations", "insert", ". . . . . . .", dml(f"insert into api.conversations (workspace_id, session_id) values ('{ACME}', 's')")),
    Case("conversations", "update", ". . . . . . .", dml(f"update api.conversations set ai_paused = true where {W}")),
    Case("conversations", "delete", ". . . . . . .", dml(f"delete from api.conversations where {W}")),
    Case("start_conversation", "execute", ". . . . . . Y", rows(f"api.start_conversation('{ACME}', 'sess-new', p_ai_agent_id => '{AI_AGENT}')")),
    Case("record_conversation_signal", "execute", ". . . . . . Y", rows(f"api.record_conversation_signal('{LIVE_CONVERSATION}', -0.8, 'angry', 20::smallint)")),
    Case("complete_conversation", "execute", ". . . . . . Y", rows(f"api.complete_conversation('{LIVE_CONVERSATION}', 'abandoned')")),
    Case("set_conversation_ai_paused", "execute", ". . . Y Y Y Y", rows(f"api.set_conversation_ai_paused('{LIVE_CONVERSATION}', true)")),
    # tickets and messages
    Case("tickets", "select", ". . Y Y Y Y Y", select("tickets")),
    Case("tickets", "insert", ". . . . . . .", dml(f"insert into api.tickets (workspace_id, number) values ('{ACME}', 99)")),
    Case("tickets", "update", ". . . . . . .", dml(f"update api.tickets set subject = 'x' where {W}")),
    Case("tickets", "delete", ". . . . . . .", dml(f"delete from api.tickets where {W}")),
    Case("create_ticket", "execute", ". . . Y Y Y Y", rows(f"api.create_ticket('{ACME}', 'Printer on fire')")),
    Case("set_ticket_status", "execute", ". . . . Y Y Y", rows(f"api.set_ticket_status('{OPEN_TICKET}', 'resolved')")),
    Case("assign_ticket", "execute", ". . . . Y Y Y", rows(f"api.assign_ticket('{OPEN_TICKET}', '{AGENT}')")),
    Case("update_ticket", "execute", ". . . . Y Y Y", rows(f"api.update_ticket('{OPEN_TICKET}', p_labels => '{{vip}}')")),
    Case("messages", "select", ". . Y Y Y Y Y", select("messages")),
    Case("messages", "insert", ". . . . . . .", dml(f"insert into api.messages (ticket_id, kind, direction, author_kind) values ('{OPEN_TICKET}', 'note', 'internal', 'system')")),
    Case("messages", "update", ". . . . . . .", dml(f"update api.messages set body_text = 'x' where {W}")),
    Case("messages", "delete", ". . . . . . .", dml(f"delete from api.messages where {W}")),
    Case("append_message", "execute", ". . . Y Y Y .", rows(f"api.append_message('{OPEN_TICKET}', p_kind => 'note', p_body_text => 'FYI')")),
    Case("append_message", "execute as customer", ". . . . . . Y", rows(f"api.append_message('{OPEN_TICKET}', p_kind => 'email', p_author_kind => 'customer', p_author_contact_id => '{CONTACT}', p_body_text => 'Any news?')")),
    Case("ai_replies", "select", ". . Y Y Y Y Y", select("ai_replies"), AI_REPLY),
    Case("ai_replies", "insert", ". . . . . . .", dml("insert into api.ai_replies (message_id, conversation_id, workspace_id) select message_id, conversation_id, workspace_id from halo.ai_replies limit 1"), AI_REPLY),
    Case("ai_replies", "update", ". . . . . . .", dml(f"update api.ai_replies set confidence = 1 where {W}"), AI_REPLY),
    Case("ai_replies", "delete", ". . . . . . .", dml(f"delete from api.ai_replies where {W}"), AI_REPLY),
    Case("mentions", "select", ". . Y Y Y Y Y", select("mentions")),
    Case("mentions", "insert", ". . . . . . .", dml(f"insert into api.mentions (message_id, user_id, workspace_id) select id, '{AGENT}', workspace_id from halo.messages where {W} limit 1")),
    Case("mentions", "update", ". . . . . . .", dml(f"update api.mentions set created_at = now() where {W}")),
    Case("mentions", "delete", ". . . . . . .", dml(f"delete from api.mentions where {W}")),
    Case("message_feedback", "select", ". . Y Y Y Y Y", select("message_feedback"), FEEDBACK),
    Case("message_feedback", "insert", ". . . Y Y Y Y", dml(f"insert into api.message_feedback (message_id, user_id, rating) select id, coalesce(auth.uid(), '{AGENT}'), -1 from halo.messages where conversation_id = '{LIVE_CONVERSATION}' limit 1")),
    Case("message_feedback", "update", ". . . Y . . Y", dml("update api.message_feedback set rating = -1 where message_id = %s"), FEEDBACK),
    Case("message_feedback", "delete", ". . . Y . . Y", dml("delete from api.message_feedback where message_id = %s"), FEEDBACK),
    # workflows and views (issue 6)
    Case("transition_ticket", "execute", ". . . . Y Y Y", rows(f"api.transition_ticket('{OPEN_TICKET}', 'resolve')")),
    Case("wake_ticket", "execute", ". . . . . . Y", rows(f"api.wake_ticket('{OPEN_TICKET}')")),
    Case("reply_to_ticket", "execute", ". . . Y Y Y .", rows(f"api.reply_to_ticket('{OPEN_TICKET}', 'note', 'FYI @maya', 999999999)")),
    Case("merge_tickets", "execute", ". . . . Y Y Y", rows("api.merge_tickets(%s, %s)"), TWO_TICKETS),
    Case("unmerge_ticket", "execute", ". . . . Y Y Y", rows("api.unmerge_ticket(%s)"), f"select pair.src from ({TWO_TICKETS}) pair(src, dst), api.merge_tickets(pair.src, pair.dst) merged"),
    Case("set_ticket_ai_paused", "execute", ". . . Y Y Y Y", rows(f"api.set_ticket_ai_paused('{OPEN_TICKET}', true)")),
    Case("set_ticket_labels", "execute", ". . . . Y Y Y", rows(f"api.set_ticket_labels('{OPEN_TICKET}', '{{vip}}')")),
    Case("validate_filter", "execute", ". Y Y Y Y Y Y", call("""api.validate_filter('{"field": "status", "cmp": "eq", "value": "open"}')""")),
    Case("list_tickets", "execute", ". . Y Y Y Y Y", rows(f"api.list_tickets('{ACME}', 'all')")),
    Case("inbox_counts", "execute", ". . Y Y Y Y Y", call(f"api.inbox_counts('{ACME}')")),
    Case("list_conversations", "execute", ". . Y Y Y Y Y", rows(f"api.list_conversations('{ACME}', 'live')")),
    # rows a list renders and unread state (issue 14)
    Case("ticket_rows", "select", ". . Y Y Y Y Y", select("ticket_rows")),
    Case("ticket_rows", "insert", ". . . . . . .", dml(f"insert into api.ticket_rows (workspace_id, subject) values ('{ACME}', 'x')")),
    Case("ticket_rows", "update", ". . . . . . .", dml(f"update api.ticket_rows set subject = 'x' where {W}")),
    Case("ticket_rows", "delete", ". . . . . . .", dml(f"delete from api.ticket_rows where {W}")),
    Case("mark_ticket_read", "execute", ". . Y Y Y Y .", rows(f"api.mark_ticket_read('{OPEN_TICKET}')")),
    Case("unread_counts", "execute", ". . Y Y Y Y .", call(f"api.unread_counts('{ACME}')")),
    Case("ticket_reads", "select", ". . Y Y Y Y Y", select("ticket_reads"), READ_MARKERS),
    Case("ticket_reads", "insert", ". . . . . . .", dml(f"insert into api.ticket_reads (user_id, ticket_id, workspace_id, last_read_at) values ('{AGENT}', '{OPEN_TICKET}', '{ACME}', now())")),
    Case("ticket_reads", "update", ". . . . . . .", dml(f"update api.ticket_reads set last_read_at = now() where {W}"), READ_MARKERS),
    Case("ticket_reads", "delete", ". . . . . . .", dml(f"delete from api.ticket_reads where {W}"), READ_MARKERS),
    Case("custom_inboxes", "select", ". . Y Y Y Y Y", select("custom_inboxes")),
    Case("custom_inboxes", "insert", ". . . . Y Y Y", dml(f"insert into api.custom_inboxes (workspace_id, name, filter) values ('{ACME}', 'VIP', '{{}}')")),
    Case("custom_inboxes", "update", ". . . . Y Y Y", dml(f"update api.custom_inboxes set position = 5 where {W}")),
    Case("custom_inboxes", "delete", ". . . . Y Y Y", dml(f"delete from api.custom_inboxes where {W}")),
    Case("segments", "select", ". . . . Y . Y", select("segments")),
    Case("segments", "insert", ". . Y Y Y Y Y", dml(f"insert into api.segments (workspace_id, user_id, name) values ('{ACME}', coalesce(auth.uid(), '{MANAGER}'), 'Mine')")),
    Case("segments", "update", ". . . . Y . Y", dml(f"update api.segments set name = 'Renamed' where {W}")),
    Case("segments", "delete", ". . . . Y . Y", dml(f"delete from api.segments where {W}")),
    # the conversation API, escalation and takeover (issue 8)
    Case("add_conversation_message", "execute", ". . . . . . Y", rows(f"api.add_conversation_message('{LIVE_CONVERSATION}', 'user', 'Hello?')")),
    Case("get_conversation", "execute", ". . . . . . Y", rows(f"api.get_conversation('{LIVE_CONVERSATION}')")),
    Case("request_human", "execute", ". . . . . . Y", call(f"api.request_human('{LIVE_CONVERSATION}')")),
    Case("conversation_heartbeat", "execute", ". . . . . . Y", call(f"api.conversation_heartbeat('{LIVE_CONVERSATION}')")),
    Case("set_widget_open", "execute", ". . . . . . Y", f"select count(*) + 1 from api.set_widget_open('{LIVE_CONVERSATION}', false)"),
    Case("complete_closed_conversation", "execute", ". . . . . . Y", rows(f"api.complete_closed_conversation('{LIVE_CONVERSATION}', now())")),
    Case("conversation_updates", "execute", ". . . . . . Y", call(f"api.conversation_updates('{LIVE_CONVERSATION}')")),
    Case("acknowledge_widget_replies", "execute", ". . . . . . Y", call(f"api.acknowledge_widget_replies('{LIVE_CONVERSATION}', '{{}}') + 1")),
    Case("identify_visitor", "execute", ". . . . . . Y", call(f"api.identify_visitor('{ACME}', 'anon-7f3a9c', '{CONTACT}')")),
    Case("escalation_context", "execute", ". . . . . . Y", call(f"api.escalation_context('{LIVE_CONVERSATION}')")),
    Case("escalate_conversation", "execute", ". . . . . . Y", rows(f"api.escalate_conversation('{LIVE_CONVERSATION}', 'Low confidence')")),
    Case("record_escalation_decision", "execute", ". . . . . . Y", rows(f"api.record_escalation_decision('{LIVE_CONVERSATION}', false, 'attempts_not_reached')")),
    Case("take_over", "execute", ". . . Y Y Y .", rows(f"api.take_over('{LIVE_CONVERSATION}')")),
    Case("pass_back_to_ai", "execute", ". . . Y Y Y Y", rows(f"api.pass_back_to_ai('{LIVE_CONVERSATION}')")),
    # sentiment, feedback and the Live Feed (issue 8, part B)
    Case("conversation_feed", "select", ". . Y Y Y Y Y", select("conversation_feed")),
    Case("conversation_feed", "insert", ". . . . . . .", dml(f"insert into api.conversation_feed (workspace_id, session_id) values ('{ACME}', 's')")),
    Case("conversation_feed", "update", ". . . . . . .", dml(f"update api.conversation_feed set topic = 'x' where {W}")),
    Case("conversation_feed", "delete", ". . . . . . .", dml(f"delete from api.conversation_feed where {W}")),
    Case("training_entries", "select", ". . Y Y Y Y Y", select("training_entries"), TRAINING),
    Case("training_entries", "insert", ". . . Y Y Y Y", dml(f"insert into api.training_entries (workspace_id, scope, source, body_text, created_by) values ('{ACME}', 'workspace', 'composer', 'Say hi', coalesce(auth.uid(), '{AGENT}'))")),
    Case("training_entries", "update", ". . . Y . . Y", dml("update api.training_entries set body_text = 'Say hello' where id = %s"), TRAINING),
    Case("training_entries", "delete", ". . . Y . . Y", dml("delete from api.training_entries where id = %s"), TRAINING),
    Case("claim_conversation_signals", "execute", ". . . . . . Y", call("api.claim_conversation_signals(gen_random_uuid())")),
    Case("apply_conversation_signals", "execute", ". . . . . . Y", call("api.apply_conversation_signals(gen_random_uuid(), '[]')")),
    Case("release_conversation_signals", "execute", ". . . . . . Y", call("api.release_conversation_signals(gen_random_uuid(), '{}')")),
    Case("pending_whispers", "execute", ". . . . . . Y", call(f"(select count(*) from api.pending_whispers('{LIVE_CONVERSATION}'))")),
    Case("whisper_to_ai", "execute", ". . . Y Y Y .", rows(f"api.whisper_to_ai('{LIVE_CONVERSATION}', 'Offer a discount')")),
    Case("rate_ai_message", "execute", ". . . Y Y Y .", rows(f"api.rate_ai_message(({AI_MESSAGE}), 1::smallint)")),
    Case("correct_ai_message", "execute", ". . . Y Y Y .", rows(f"api.correct_ai_message(({AI_MESSAGE}), 'It is 25 seats.')")),
]
# fmt: on

DENIED_SQLSTATES = {"42501", "P0002", "55000"}


def outcome(conn: psycopg.Connection[tuple[object, ...]], case: Case, person: str) -> bool:
    """Run the case as `person` in a transaction that is rolled back; True when allowed."""
    role, user = PEOPLE[person]
    try:
        with conn.transaction(force_rollback=True):
            params = conn.execute(case.setup).fetchone() if case.setup else None
            as_user(conn, role, claims(user) if role != "service_role" else {"role": role})
            row = conn.execute(case.sql, params if "%s" in case.sql else None).fetchone()
            return row is not None and isinstance(row[0], int) and row[0] > 0
    except psycopg.Error as exc:
        if exc.sqlstate in DENIED_SQLSTATES:
            return False
        raise AssertionError(f"{case.obj} {case.op} as {person}: unexpected error {exc}") from exc


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: f"{c.obj}-{c.op}")
def test_permission_matrix(project_db: str, case: Case) -> None:
    with psycopg.connect(project_db) as conn:
        actual = {person: outcome(conn, case, person) for person in ROLES}
    wrong = {p: ("allowed" if a else "denied") for p, a in actual.items() if a != case.expected[p]}
    assert not wrong, f"{case.obj} {case.op}: unexpectedly {wrong}"


def test_matrix_covers_every_api_view_and_function(project_db: str) -> None:
    with psycopg.connect(project_db) as conn:
        views = {
            r[0] for r in conn.execute("select viewname from pg_views where schemaname = 'api'")
        }
        functions = {
            r[0]
            for r in conn.execute(
                "select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
                " where n.nspname = 'api'"
            )
        }
    covered: dict[str, set[str]] = {}
    for case in MATRIX:
        covered.setdefault(case.obj, set()).add(case.op)
    assert set(covered) == views | functions
    for view in views:
        assert {"select", "insert", "update", "delete"} <= covered[view], view


def test_anon_has_no_grant_on_any_api_object(project_db: str) -> None:
    with psycopg.connect(project_db) as conn:
        granted = conn.execute(
            "select table_name, privilege_type from information_schema.role_table_grants"
            " where table_schema = 'api' and grantee in ('anon', 'PUBLIC')"
            " union all"
            " select routine_name, privilege_type from information_schema.role_routine_grants"
            " where routine_schema = 'api' and grantee in ('anon', 'PUBLIC')"
        ).fetchall()
    assert granted == []
