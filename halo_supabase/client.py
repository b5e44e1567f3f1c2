"""Typed access to the `api` schema over supabase-py: one method per RPC, typed reads of views.

    from supabase import create_client
    api = HaloApi(create_client(settings.url, settings.service_role_key.get_secret_value()))
    ticket = api.create_ticket(workspace_id, "Printer on fire")
    for job in api.claim_jobs("email.send", worker="email-1"):
        ...
        api.complete_job(job.id, job.lease_token)

Methods are thin: argument names are the SQL functions' parameter names without the `p_` prefix,
results are validated into the models of `halo_supabase.models`, and database errors surface as
postgrest's `APIError` (its `code` is the SQLSTATE the function raised, e.g. 42501 for a missing
permission, 55000 for a lost job lease).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from postgrest import SyncPostgrestClient

from halo_supabase.conversation_client import ConversationMethods, EndReason
from halo_supabase.feedback_client import FeedbackMethods
from halo_supabase.inbox_client import InboxMethods
from halo_supabase.models import (
    ApiKeyCreated,
    Conversation,
    ConversationMode,
    Event,
    InboxPermission,
    Job,
    Member,
    Message,
    MessageKind,
    Mood,
    Outcome,
    Priority,
    Ticket,
    TicketStatus,
    ViewModel,
    Workspace,
    WorkspaceRole,
)
from supabase import Client

__all__ = ["HaloApi"]

M = TypeVar("M", bound=ViewModel)


def _jsonable(value: object) -> object:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


class HaloApi(InboxMethods, ConversationMethods, FeedbackMethods):
    """The `api` schema of a Halo project, as the signed-in user or the service role."""

    def __init__(self, client: Client) -> None:
        self._api: SyncPostgrestClient = client.schema("api")

    def call(self, function: str, **arguments: object) -> Any:
        """Call `api.<function>`; arguments left as None are not sent (the SQL default applies)."""
        return self._send(function, {k: v for k, v in arguments.items() if v is not None})

    def _send(self, function: str, arguments: dict[str, object]) -> Any:
        params = {f"p_{k}": _jsonable(v) for k, v in arguments.items()}
        # postgrest-py annotates params as dict[str, str] but sends any JSON body unchanged.
        return self._api.rpc(function, cast("dict[str, str]", params)).execute().data

    def _one(self, model: type[M], function: str, **arguments: object) -> M:
        return model.model_validate(self.call(function, **arguments))

    def _many(self, model: type[M], function: str, **arguments: object) -> list[M]:
        return [model.model_validate(row) for row in self.call(function, **arguments) or []]

    # -- views -----------------------------------------------------------------------------

    def rows(self, model: type[M], limit: int = 1000, **equal: object) -> list[M]:
        """Rows of `model`'s view where each given column equals its value (RLS applies)."""
        query = self._api.from_(model.VIEW).select("*")
        for column, value in equal.items():
            query = query.eq(column, str(_jsonable(value)))
        return [model.model_validate(row) for row in query.limit(limit).execute().data]

    # -- tenancy ---------------------------------------------------------------------------

    def create_workspace(self, name: str, display_name: str) -> Workspace:
        return self._one(Workspace, "create_workspace", name=name, display_name=display_name)

    def set_member(
        self,
        workspace_id: UUID,
        user_id: UUID,
        role: WorkspaceRole,
        inbox_permission: InboxPermission,
        display_name: str | None = None,
    ) -> Member:
        return self._one(
            Member,
            "set_member",
            workspace_id=workspace_id,
            user_id=user_id,
            role=role,
            inbox_permission=inbox_permission,
            display_name=display_name,
        )

    def remove_member(self, workspace_id: UUID, user_id: UUID) -> None:
        self.call("remove_member", workspace_id=workspace_id, user_id=user_id)

    def update_my_profile(
        self,
        workspace_id: UUID,
        display_name: str | None = None,
        email_alias: str | None = None,
        online: bool | None = None,
    ) -> Member:
        return self._one(
            Member,
            "update_my_profile",
            workspace_id=workspace_id,
            display_name=display_name,
            email_alias=email_alias,
            online=online,
        )

    def create_api_key(self, workspace_id: UUID, name: str) -> ApiKeyCreated:
        rows = self.call("create_api_key", workspace_id=workspace_id, name=name)
        return ApiKeyCreated.model_validate(rows[0])

    def verify_api_key(self, key: str) -> UUID | None:
        workspace = self.call("verify_api_key", key=key)
        return UUID(workspace) if workspace else None

    # -- events ----------------------------------------------------------------------------

    def events_since(self, workspace_id: UUID, after_seq: int = 0, limit: int = 500) -> list[Event]:
        return self._many(
            Event, "events_since", workspace_id=workspace_id, after_seq=after_seq, limit=limit
        )

    # -- jobs (service role) ---------------------------------------------------------------

    def enqueue_job(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
        workspace_id: UUID | None = None,
        run_at: datetime | None = None,
        max_attempts: int | None = None,
    ) -> int:
        return int(
            self.call(
                "enqueue_job",
                kind=kind,
                payload=payload,
                dedupe_key=dedupe_key,
                workspace_id=workspace_id,
                run_at=run_at,
                max_attempts=max_attempts,
            )
        )

    def claim_jobs(
        self, kind: str, worker: str, batch: int = 10, lease_seconds: int = 60
    ) -> list[Job]:
        return self._many(
            Job, "claim_jobs", kind=kind, worker=worker, batch=batch, lease_seconds=lease_seconds
        )

    def complete_job(self, job_id: int, lease_token: UUID) -> None:
        self.call("complete_job", job_id=job_id, lease_token=lease_token)

    def complete_jobs(self, leases: list[tuple[int, UUID]]) -> list[int]:
        """Complete leased jobs in one call; returns the ids whose lease was lost."""
        entries = [{"id": job_id, "lease_token": str(token)} for job_id, token in leases]
        return [int(job_id) for job_id in self.call("complete_jobs", jobs=entries) or []]

    def fail_job(
        self, job_id: int, lease_token: UUID, error: str, retry_in_seconds: int | None = None
    ) -> Job:
        return self._one(
            Job,
            "fail_job",
            job_id=job_id,
            lease_token=lease_token,
            error=error,
            retry_in_seconds=retry_in_seconds,
        )

    def extend_job_lease(self, job_id: int, lease_token: UUID, lease_seconds: int = 60) -> datetime:
        expires = self.call(
            "extend_job_lease", job_id=job_id, lease_token=lease_token, lease_seconds=lease_seconds
        )
        return datetime.fromisoformat(str(expires))

    def release_job(self, job_id: int, lease_token: UUID) -> None:
        self.call("release_job", job_id=job_id, lease_token=lease_token)

    def retry_job(self, job_id: int) -> Job:
        return self._one(Job, "retry_job", job_id=job_id)

    def discard_job(self, job_id: int) -> None:
        self.call("discard_job", job_id=job_id)

    # -- inbound email (service role: the edge function and the email worker) ---------------

    def receive_inbound_email(
        self,
        provider: str,
        recipient: str,
        storage_path: str | None,
        payload_format: str,
        size_bytes: int,
        provider_message_id: str | None = None,
        token: str | None = None,
        raw: str | None = None,
    ) -> dict[str, Any]:
        """Record a delivery whose bytes are in Storage (`storage_path`) or inline (`raw`)."""
        optional = {"provider_message_id": provider_message_id, "token": token, "raw": raw}
        return cast(
            "dict[str, Any]",
            self._send(
                "receive_inbound_email",
                {
                    "provider": provider,
                    "recipient": recipient,
                    # Sent even when None: the SQL parameter has no default.
                    "storage_path": storage_path,
                    "payload_format": payload_format,
                    "size_bytes": size_bytes,
                    **{k: v for k, v in optional.items() if v is not None},
                },
            ),
        )

    def email_secrets(self, workspace_id: UUID) -> list[str]:
        return cast("list[str]", self.call("email_secrets", workspace_id=workspace_id))

    def apply_inbound_email(self, inbound_id: UUID, email: dict[str, object]) -> dict[str, Any]:
        return cast(
            "dict[str, Any]", self.call("apply_inbound_email", inbound_id=inbound_id, email=email)
        )

    def apply_inbound_emails(self, items: list[tuple[UUID, dict[str, object]]]) -> list[Any]:
        """Apply a group; each outcome is the email's result or `{"error": {code, message}}`."""
        entries = [{"inbound_id": str(inbound), "email": email} for inbound, email in items]
        return cast("list[Any]", self.call("apply_inbound_emails", items=entries))

    def outbound_email_context(self, message_id: UUID) -> dict[str, Any] | None:
        return cast(
            "dict[str, Any] | None", self.call("outbound_email_context", message_id=message_id)
        )

    def mark_email_sent(
        self,
        message_id: UUID,
        email_message_id: str,
        in_reply_to: str | None = None,
        references: list[str] | None = None,
    ) -> bool:
        return bool(
            self.call(
                "mark_email_sent",
                message_id=message_id,
                email_message_id=email_message_id,
                in_reply_to=in_reply_to,
                references=references,
            )
        )

    # -- conversations ---------------------------------------------------------------------

    def start_conversation(
        self,
        workspace_id: UUID,
        session_id: str | None = None,
        mode: ConversationMode | None = None,
        ai_agent_id: UUID | None = None,
        contact_id: UUID | None = None,
        visitor_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        anonymous_id: str | None = None,
    ) -> Conversation:
        return self._one(
            Conversation,
            "start_conversation",
            workspace_id=workspace_id,
            session_id=session_id,
            mode=mode,
            ai_agent_id=ai_agent_id,
            contact_id=contact_id,
            visitor_id=visitor_id,
            metadata=metadata,
            anonymous_id=anonymous_id,
        )

    def record_conversation_signal(
        self,
        conversation_id: UUID,
        sentiment: float | None = None,
        mood: Mood | None = None,
        ai_confidence: int | None = None,
        topic: str | None = None,
    ) -> Conversation:
        return self._one(
            Conversation,
            "record_conversation_signal",
            conversation_id=conversation_id,
            sentiment=sentiment,
            mood=mood,
            ai_confidence=ai_confidence,
            topic=topic,
        )

    def complete_conversation(
        self,
        conversation_id: UUID,
        outcome: Outcome | None = None,
        ai_score: int | None = None,
        end_reason: EndReason | None = None,
        workspace_id: UUID | None = None,
    ) -> Conversation:
        """End a live conversation; without `outcome` it follows from the ticket and end reason."""
        return self._one(
            Conversation,
            "complete_conversation",
            conversation_id=conversation_id,
            outcome=outcome,
            ai_score=ai_score,
            end_reason=end_reason,
            workspace_id=workspace_id,
        )

    def set_conversation_ai_paused(self, conversation_id: UUID, paused: bool) -> Conversation:
        return self._one(
            Conversation,
            "set_conversation_ai_paused",
            conversation_id=conversation_id,
            paused=paused,
        )

    # -- tickets and messages --------------------------------------------------------------

    def create_ticket(
        self,
        workspace_id: UUID,
        subject: str,
        status: TicketStatus | None = None,
        priority: Priority | None = None,
        source: str | None = None,
        channel: str | None = None,
        category: str | None = None,
        contact_id: UUID | None = None,
        company_id: UUID | None = None,
        conversation_id: UUID | None = None,
        assignee_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        custom_fields: dict[str, Any] | None = None,
        labels: list[str] | None = None,
        ai_confidence: int | None = None,
        escalation_reason: str | None = None,
        auto_created: bool | None = None,
    ) -> Ticket:
        return self._one(
            Ticket,
            "create_ticket",
            workspace_id=workspace_id,
            subject=subject,
            status=status,
            priority=priority,
            source=source,
            channel=channel,
            category=category,
            contact_id=contact_id,
            company_id=company_id,
            conversation_id=conversation_id,
            assignee_id=assignee_id,
            metadata=metadata,
            custom_fields=custom_fields,
            labels=labels,
            ai_confidence=ai_confidence,
            escalation_reason=escalation_reason,
            auto_created=auto_created,
        )

    def set_ticket_status(
        self, ticket_id: UUID, status: TicketStatus, snoozed_until: datetime | None = None
    ) -> Ticket:
        return self._one(
            Ticket,
            "set_ticket_status",
            ticket_id=ticket_id,
            status=status,
            snoozed_until=snoozed_until,
        )

    def assign_ticket(self, ticket_id: UUID, assignee_id: UUID | None) -> Ticket:
        # None means "unassign" here, so it is sent as null rather than left out.
        row = self._send("assign_ticket", {"ticket_id": ticket_id, "assignee_id": assignee_id})
        return Ticket.model_validate(row)

    def update_ticket(
        self,
        ticket_id: UUID,
        subject: str | None = None,
        priority: Priority | None = None,
        category: str | None = None,
        labels: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        custom_fields: dict[str, Any] | None = None,
        ai_paused: bool | None = None,
        contact_id: UUID | None = None,
    ) -> Ticket:
        return self._one(
            Ticket,
            "update_ticket",
            ticket_id=ticket_id,
            subject=subject,
            priority=priority,
            category=category,
            labels=labels,
            metadata=metadata,
            custom_fields=custom_fields,
            ai_paused=ai_paused,
            contact_id=contact_id,
        )

    def append_message(
        self,
        ticket_id: UUID | None = None,
        conversation_id: UUID | None = None,
        kind: MessageKind | None = None,
        body_text: str | None = None,
        body_html: str | None = None,
        author_kind: str | None = None,
        direction: str | None = None,
        author_contact_id: UUID | None = None,
        author_visitor_id: UUID | None = None,
        author_ai_agent_id: UUID | None = None,
        author_alias_user_id: UUID | None = None,
        email_message_id: str | None = None,
        email_in_reply_to: str | None = None,
        email_references: list[str] | None = None,
        email_headers: dict[str, Any] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        mentions: list[UUID] | None = None,
        client_echo_id: str | None = None,
    ) -> Message:
        return self._one(
            Message,
            "append_message",
            ticket_id=ticket_id,
            conversation_id=conversation_id,
            kind=kind,
            body_text=body_text,
            body_html=body_html,
            author_kind=author_kind,
            direction=direction,
            author_contact_id=author_contact_id,
            author_visitor_id=author_visitor_id,
            author_ai_agent_id=author_ai_agent_id,
            author_alias_user_id=author_alias_user_id,
            email_message_id=email_message_id,
            email_in_reply_to=email_in_reply_to,
            email_references=email_references,
            email_headers=email_headers,
            attachments=attachments,
            mentions=mentions,
            client_echo_id=client_echo_id,
        )
