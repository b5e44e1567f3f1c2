"""Typed methods for the ticket workflows and views of issue 6 (mixed into `HaloApi`).

Errors: invalid status transition → `APIError` code `HL001`; send guard conflict → `PT409`
(HTTP 409, `details` lists the new messages as JSON); merge refused → `HL002`; bad filter or
argument → `22023` naming the field or operator; missing permission → `42501`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from halo_supabase.models import ConversationFeedRow, Message, Ticket

__all__ = ["InboxMethods", "StatusAction"]

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


class InboxMethods:
    """Workflow and view RPCs; `call` is provided by `HaloApi`."""

    def call(self, function: str, **arguments: object) -> Any:
        raise NotImplementedError

    def _ticket(self, function: str, **arguments: object) -> Ticket:
        return Ticket.model_validate(self.call(function, **arguments))

    def transition_ticket(
        self,
        ticket_id: UUID,
        action: StatusAction,
        snoozed_until: datetime | None = None,
        resolved_by: Literal["human", "ai", "auto"] | None = None,
    ) -> Ticket:
        return self._ticket(
            "transition_ticket",
            ticket_id=ticket_id,
            action=action,
            snoozed_until=snoozed_until,
            resolved_by=resolved_by,
        )

    def wake_ticket(self, ticket_id: UUID, snoozed_until: datetime | None = None) -> Ticket:
        return self._ticket("wake_ticket", ticket_id=ticket_id, snoozed_until=snoozed_until)

    def reply_to_ticket(
        self,
        ticket_id: UUID,
        kind: Literal["chat", "email", "note"],
        body_text: str,
        last_seen_seq: int,
        body_html: str | None = None,
        alias_user_id: UUID | None = None,
        client_echo_id: str | None = None,
    ) -> Message:
        row = self.call(
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

    def merge_tickets(self, source_id: UUID, target_id: UUID) -> Ticket:
        return self._ticket("merge_tickets", source_id=source_id, target_id=target_id)

    def unmerge_ticket(self, source_id: UUID) -> Ticket:
        return self._ticket("unmerge_ticket", source_id=source_id)

    def set_ticket_ai_paused(self, ticket_id: UUID, paused: bool) -> Ticket:
        return self._ticket("set_ticket_ai_paused", ticket_id=ticket_id, paused=paused)

    def set_ticket_labels(
        self, ticket_id: UUID, add: list[str] | None = None, remove: list[str] | None = None
    ) -> Ticket:
        return self._ticket("set_ticket_labels", ticket_id=ticket_id, add=add, remove=remove)

    def validate_filter(self, filter: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.call("validate_filter", filter=filter)
        return result

    def list_tickets(
        self,
        workspace_id: UUID | None = None,
        view: str | None = None,
        filter: dict[str, Any] | None = None,
        search: str | None = None,
        sort: str | None = None,
        after_value: str | None = None,
        after_id: UUID | None = None,
        limit: int | None = None,
    ) -> list[Ticket]:
        rows = self.call(
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
        return [Ticket.model_validate(row) for row in rows or []]

    def inbox_counts(self, workspace_id: UUID | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.call("inbox_counts", workspace_id=workspace_id)
        return result

    def list_conversations(
        self,
        workspace_id: UUID | None = None,
        view: Literal["live", "completed"] | None = None,
        before: datetime | None = None,
        before_id: UUID | None = None,
        limit: int | None = None,
    ) -> list[ConversationFeedRow]:
        rows = self.call(
            "list_conversations",
            workspace_id=workspace_id,
            view=view,
            before=before,
            before_id=before_id,
            limit=limit,
        )
        return [ConversationFeedRow.model_validate(row) for row in rows or []]
