"""Tickets and their messages: create, update, assign, the seven statuses, replies with the send
guard, merge, labels, and the FilterBar's list and counts.

Errors: invalid status transition → `APIError` code `HL001`; send guard conflict → `PT409`
(HTTP 409, `details` lists the new messages as JSON); merge refused → `HL002`; bad filter or
argument → `22023` naming the field or operator; missing permission → `42501`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from halo_supabase.client.calls import ApiCalls
from halo_supabase.models import (
    Message,
    MessageKind,
    Priority,
    Ticket,
    TicketRead,
    TicketRow,
    TicketStatus,
)

__all__ = ["StatusAction", "TicketCalls"]

StatusAction = Literal[
    "open",
    "mark_priority",
    "unmark_priority",
    "start_progress",
    "snooze",
    "resolve",
    "reopen",
    "mark_spam",
    "not_spam",
]


class TicketCalls(ApiCalls):
    """`api` functions of tickets and their messages."""

    async def _ticket(self, function: str, /, **arguments: object) -> Ticket:
        return await self._one(Ticket, function, **arguments)

    async def create_ticket(
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
        return await self._one(
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

    async def set_ticket_status(
        self, ticket_id: UUID, status: TicketStatus, snoozed_until: datetime | None = None
    ) -> Ticket:
        return await self._one(
            Ticket,
            "set_ticket_status",
            ticket_id=ticket_id,
            status=status,
            snoozed_until=snoozed_until,
        )

    async def assign_ticket(self, ticket_id: UUID, assignee_id: UUID | None) -> Ticket:
        # None means "unassign" here, so it is sent as null rather than left out.
        row = await self._call_with_nulls(
            "assign_ticket", {"ticket_id": ticket_id, "assignee_id": assignee_id}
        )
        return Ticket.model_validate(row)

    async def update_ticket(
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
        return await self._one(
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

    async def append_message(
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
        return await self._one(
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

    async def transition_ticket(
        self,
        ticket_id: UUID,
        action: StatusAction,
        snoozed_until: datetime | None = None,
        resolved_by: Literal["human", "ai", "auto"] | None = None,
    ) -> Ticket:
        return await self._ticket(
            "transition_ticket",
            ticket_id=ticket_id,
            action=action,
            snoozed_until=snoozed_until,
            resolved_by=resolved_by,
        )

    async def wake_ticket(self, ticket_id: UUID, snoozed_until: datetime | None = None) -> Ticket:
        return await self._ticket("wake_ticket", ticket_id=ticket_id, snoozed_until=snoozed_until)

    async def reply_to_ticket(
        self,
        ticket_id: UUID,
        kind: Literal["chat", "email", "note"],
        body_text: str,
        last_seen_seq: int,
        body_html: str | None = None,
        alias_user_id: UUID | None = None,
        client_echo_id: str | None = None,
    ) -> Message:
        row = await self._call(
            "reply_to_ticket",
            ticket_id=ticket_id,
            kind=kind,
            body_text=body_text,
            last_seen_seq=last_seen_seq,
            body_html=body_html,
            alias_user_id=alias_user_id,
            client_echo_id=client_echo_id,
        )
        return Message.model_validate(row)

    async def merge_tickets(self, source_id: UUID, target_id: UUID) -> Ticket:
        return await self._ticket("merge_tickets", source_id=source_id, target_id=target_id)

    async def unmerge_ticket(self, source_id: UUID) -> Ticket:
        return await self._ticket("unmerge_ticket", source_id=source_id)

    async def set_ticket_ai_paused(self, ticket_id: UUID, paused: bool) -> Ticket:
        return await self._ticket("set_ticket_ai_paused", ticket_id=ticket_id, paused=paused)

    async def set_ticket_labels(
        self, ticket_id: UUID, add: list[str] | None = None, remove: list[str] | None = None
    ) -> Ticket:
        return await self._ticket("set_ticket_labels", ticket_id=ticket_id, add=add, remove=remove)

    async def validate_filter(self, filter: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("validate_filter", filter=filter)
        return result

    async def list_tickets(
        self,
        workspace_id: UUID | None = None,
        view: str | None = None,
        filter: dict[str, Any] | None = None,
        search: str | None = None,
        sort: str | None = None,
        after_value: str | None = None,
        after_id: UUID | None = None,
        limit: int | None = None,
    ) -> list[TicketRow]:
        return await self._many(
            TicketRow,
            "list_tickets",
            workspace_id=workspace_id,
            view=view,
            filter=filter,
            search=search,
            sort=sort,
            after_value=after_value,
            after_id=after_id,
            limit=limit,
        )

    async def inbox_counts(self, workspace_id: UUID | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("inbox_counts", workspace_id=workspace_id)
        return result

    async def mark_ticket_read(self, ticket_id: UUID, message_id: UUID | None = None) -> TicketRead:
        """Marks the ticket read up to `message_id` (default: its last message) for the caller."""
        return await self._one(
            TicketRead, "mark_ticket_read", ticket_id=ticket_id, message_id=message_id
        )

    async def unread_counts(
        self, workspace_id: UUID | None = None, views: list[str] | None = None
    ) -> dict[str, Any]:
        """{workspace_id, window: 100, views: {view: unread among its 100 most recent tickets}}."""
        result: dict[str, Any] = await self._call(
            "unread_counts", workspace_id=workspace_id, views=views
        )
        return result
