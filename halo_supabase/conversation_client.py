"""Typed methods for the conversation API, escalation and takeover of issue 8 (mixed into
`HaloApi`).

The AI runtime's calls (service role) take an optional `workspace_id`: when given, a conversation
of another workspace is "not found" (the `conversations` edge function passes its API key's).
Errors: bad argument → `APIError` code `22023` naming it; unknown conversation or visitor →
`P0002`; the conversation's state forbids it (AI paused, completed, taken over by someone else) →
`PT409` (HTTP 409); missing permission → `42501`.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from halo_supabase.models import Conversation, Message, Ticket

__all__ = ["ConversationMethods", "ConversationRole", "EndReason"]

ConversationRole = Literal["user", "ai", "teammate", "system"]
EndReason = Literal["closed", "timed_out"]


class ConversationMethods:
    """Conversation RPCs; `call` is provided by `HaloApi`."""

    def call(self, function: str, **arguments: object) -> Any:
        raise NotImplementedError

    def add_conversation_message(
        self,
        conversation_id: UUID,
        role: ConversationRole,
        text: str,
        confidence: int | None = None,
        tool_calls: list[str | dict[str, Any]] | None = None,
        author_user_id: UUID | None = None,
        client_echo_id: str | None = None,
        workspace_id: UUID | None = None,
    ) -> Message:
        """Append a user, AI (confidence 0-100, tool calls), teammate or system message."""
        row = self.call(
            "add_conversation_message",
            conversation_id=conversation_id,
            role=role,
            text=text,
            confidence=confidence,
            tool_calls=tool_calls,
            author_user_id=author_user_id,
            client_echo_id=client_echo_id,
            workspace_id=workspace_id,
        )
        return Message.model_validate(row)

    def get_conversation(
        self, conversation_id: UUID, workspace_id: UUID | None = None
    ) -> Conversation:
        """The conversation as the runtime sees it (state, `ai_paused`, outcome)."""
        return Conversation.model_validate(
            self.call(
                "get_conversation", conversation_id=conversation_id, workspace_id=workspace_id
            )
        )

    def request_human(self, conversation_id: UUID, workspace_id: UUID | None = None) -> int:
        """The widget's "talk to a human" button; returns the escalation job's id."""
        return int(
            self.call("request_human", conversation_id=conversation_id, workspace_id=workspace_id)
        )

    def conversation_heartbeat(
        self, conversation_id: UUID, workspace_id: UUID | None = None
    ) -> str:
        """The user is active (the Live Feed's pulsing indicator); returns the stored time."""
        return str(
            self.call(
                "conversation_heartbeat", conversation_id=conversation_id, workspace_id=workspace_id
            )
        )

    def set_widget_open(
        self, conversation_id: UUID, open: bool, workspace_id: UUID | None = None
    ) -> list[Message]:
        """The widget opened or closed. Opening returns the replies queued while it was closed,
        oldest first; they come back on every opening until `acknowledge_widget_replies`."""
        rows = self.call(
            "set_widget_open", conversation_id=conversation_id, open=open, workspace_id=workspace_id
        )
        return [Message.model_validate(row) for row in rows or []]

    def acknowledge_widget_replies(
        self,
        conversation_id: UUID,
        message_ids: list[UUID],
        workspace_id: UUID | None = None,
    ) -> int:
        """The customer has seen these delivered replies: they leave the queue. Returns how many
        did (ids no longer queued are ignored, so a retry is harmless)."""
        return int(
            self.call(
                "acknowledge_widget_replies",
                conversation_id=conversation_id,
                message_ids=message_ids,
                workspace_id=workspace_id,
            )
        )

    def conversation_updates(
        self,
        conversation_id: UUID,
        after_seq: int = 0,
        limit: int | None = None,
        workspace_id: UUID | None = None,
    ) -> dict[str, Any]:
        """What happened since `after_seq`, gap-free: `{"events": [{seq, event, data, message?}],
        "after_seq": next cursor, "more": page was full}` (conversation events and the messages
        the customer sees). For a runtime that cannot join Realtime."""
        result: dict[str, Any] = self.call(
            "conversation_updates",
            conversation_id=conversation_id,
            after_seq=after_seq,
            limit=limit,
            workspace_id=workspace_id,
        )
        return result

    def identify_visitor(
        self,
        workspace_id: UUID,
        anonymous_id: str,
        contact_id: UUID | None = None,
        email: str | None = None,
        name: str | None = None,
        external_id: str | None = None,
    ) -> dict[str, Any]:
        """Re-link an anonymous visitor's conversations, tickets and messages to a contact."""
        result: dict[str, Any] = self.call(
            "identify_visitor",
            workspace_id=workspace_id,
            anonymous_id=anonymous_id,
            contact_id=contact_id,
            email=email,
            name=name,
            external_id=external_id,
        )
        return result

    def escalation_context(
        self, conversation_id: UUID, message_id: UUID | None = None
    ) -> dict[str, Any] | None:
        """What the escalation worker decides on; None when there is nothing left to decide."""
        result: dict[str, Any] | None = self.call(
            "escalation_context", conversation_id=conversation_id, message_id=message_id
        )
        return result

    def escalate_conversation(
        self,
        conversation_id: UUID,
        reason: str,
        reason_code: str | None = None,
        priority: bool | None = None,
        workspace_id: UUID | None = None,
    ) -> Ticket:
        """Open (once) the conversation's ticket and complete it as Escalated."""
        row = self.call(
            "escalate_conversation",
            conversation_id=conversation_id,
            reason=reason,
            reason_code=reason_code,
            priority=priority,
            workspace_id=workspace_id,
        )
        return Ticket.model_validate(row)

    def take_over(self, conversation_id: UUID) -> Ticket:
        """Pause the AI and take the conversation's ticket, In Progress, as the signed-in teammate."""
        return Ticket.model_validate(self.call("take_over", conversation_id=conversation_id))

    def pass_back_to_ai(self, conversation_id: UUID) -> Conversation:
        """Let the AI answer again on a live conversation."""
        return Conversation.model_validate(
            self.call("pass_back_to_ai", conversation_id=conversation_id)
        )
