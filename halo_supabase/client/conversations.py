"""Live conversations: the AI runtime's calls, the widget, escalation and takeover, the feeds.

The AI runtime's calls (service role) take an optional `workspace_id`: when given, a conversation
of another workspace is "not found" (the `conversations` edge function passes its API key's).
Errors: bad argument → `APIError` code `22023` naming it; unknown conversation or visitor →
`P0002`; the conversation's state forbids it (AI paused, completed, taken over by someone else) →
`PT409` (HTTP 409); missing permission → `42501`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from halo_supabase.client.calls import ApiCalls
from halo_supabase.client.documents import EscalationContext
from halo_supabase.models import (
    Conversation,
    ConversationFeedRow,
    ConversationMode,
    Message,
    Mood,
    Outcome,
    Ticket,
)

__all__ = ["ConversationCalls", "ConversationRole", "EndReason"]

ConversationRole = Literal["user", "ai", "teammate", "system"]
EndReason = Literal["closed", "timed_out"]


class ConversationCalls(ApiCalls):
    """`api` functions of live conversations."""

    async def start_conversation(
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
        return await self._one(
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

    async def record_conversation_signal(
        self,
        conversation_id: UUID,
        sentiment: float | None = None,
        mood: Mood | None = None,
        ai_confidence: int | None = None,
        topic: str | None = None,
    ) -> Conversation:
        return await self._one(
            Conversation,
            "record_conversation_signal",
            conversation_id=conversation_id,
            sentiment=sentiment,
            mood=mood,
            ai_confidence=ai_confidence,
            topic=topic,
        )

    async def complete_conversation(
        self,
        conversation_id: UUID,
        outcome: Outcome | None = None,
        ai_score: int | None = None,
        end_reason: EndReason | None = None,
        workspace_id: UUID | None = None,
    ) -> Conversation:
        """End a live conversation; without `outcome` it follows from the ticket and end reason."""
        return await self._one(
            Conversation,
            "complete_conversation",
            conversation_id=conversation_id,
            outcome=outcome,
            ai_score=ai_score,
            end_reason=end_reason,
            workspace_id=workspace_id,
        )

    async def set_conversation_ai_paused(self, conversation_id: UUID, paused: bool) -> Conversation:
        return await self._one(
            Conversation,
            "set_conversation_ai_paused",
            conversation_id=conversation_id,
            paused=paused,
        )

    async def add_conversation_message(
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
        row = await self._call(
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

    async def get_conversation(
        self, conversation_id: UUID, workspace_id: UUID | None = None
    ) -> Conversation:
        """The conversation as the runtime sees it (state, `ai_paused`, outcome)."""
        return Conversation.model_validate(
            await self._call(
                "get_conversation", conversation_id=conversation_id, workspace_id=workspace_id
            )
        )

    async def request_human(self, conversation_id: UUID, workspace_id: UUID | None = None) -> int:
        """The widget's "talk to a human" button; returns the escalation job's id."""
        return int(
            await self._call(
                "request_human", conversation_id=conversation_id, workspace_id=workspace_id
            )
        )

    async def conversation_heartbeat(
        self, conversation_id: UUID, workspace_id: UUID | None = None
    ) -> str:
        """The user is active (the Live Feed's pulsing indicator); returns the stored time."""
        return str(
            await self._call(
                "conversation_heartbeat", conversation_id=conversation_id, workspace_id=workspace_id
            )
        )

    async def set_widget_open(
        self, conversation_id: UUID, open: bool, workspace_id: UUID | None = None
    ) -> list[Message]:
        """The widget opened or closed. Opening returns the replies queued while it was closed,
        oldest first; they come back on every opening until `acknowledge_widget_replies`."""
        rows = await self._call(
            "set_widget_open", conversation_id=conversation_id, open=open, workspace_id=workspace_id
        )
        return [Message.model_validate(row) for row in rows or []]

    async def complete_closed_conversation(
        self, conversation_id: UUID, closed_at: datetime, workspace_id: UUID | None = None
    ) -> Conversation:
        """The widget closed at `closed_at`: complete the conversation if it stayed closed with
        nothing happening for the grace period (the database re-checks later otherwise)."""
        return await self._one(
            Conversation,
            "complete_closed_conversation",
            conversation_id=conversation_id,
            closed_at=closed_at,
            workspace_id=workspace_id,
        )

    async def acknowledge_widget_replies(
        self,
        conversation_id: UUID,
        message_ids: list[UUID],
        workspace_id: UUID | None = None,
    ) -> int:
        """The customer has seen these delivered replies: they leave the queue. Returns how many
        did (ids no longer queued are ignored, so a retry is harmless)."""
        return int(
            await self._call(
                "acknowledge_widget_replies",
                conversation_id=conversation_id,
                message_ids=message_ids,
                workspace_id=workspace_id,
            )
        )

    async def conversation_updates(
        self,
        conversation_id: UUID,
        after_seq: int = 0,
        limit: int | None = None,
        workspace_id: UUID | None = None,
    ) -> dict[str, Any]:
        """What happened since `after_seq`, gap-free: `{"events": [{seq, event, data, message?}],
        "after_seq": next cursor, "more": page was full}` (conversation events and the messages
        the customer sees). For a runtime that cannot join Realtime."""
        result: dict[str, Any] = await self._call(
            "conversation_updates",
            conversation_id=conversation_id,
            after_seq=after_seq,
            limit=limit,
            workspace_id=workspace_id,
        )
        return result

    async def identify_visitor(
        self,
        workspace_id: UUID,
        anonymous_id: str,
        contact_id: UUID | None = None,
        email: str | None = None,
        name: str | None = None,
        external_id: str | None = None,
    ) -> dict[str, Any]:
        """Re-link an anonymous visitor's conversations, tickets and messages to a contact."""
        result: dict[str, Any] = await self._call(
            "identify_visitor",
            workspace_id=workspace_id,
            anonymous_id=anonymous_id,
            contact_id=contact_id,
            email=email,
            name=name,
            external_id=external_id,
        )
        return result

    async def escalation_context(
        self, conversation_id: UUID, message_id: UUID | None = None
    ) -> EscalationContext | None:
        """What the escalation worker decides on; None when there is nothing left to decide."""
        context = await self._call(
            "escalation_context", conversation_id=conversation_id, message_id=message_id
        )
        return None if context is None else EscalationContext.model_validate(context)

    async def escalate_conversation(
        self,
        conversation_id: UUID,
        reason: str,
        reason_code: str | None = None,
        priority: bool | None = None,
        workspace_id: UUID | None = None,
    ) -> Ticket:
        """Open (once) the conversation's ticket and complete it as Escalated."""
        row = await self._call(
            "escalate_conversation",
            conversation_id=conversation_id,
            reason=reason,
            reason_code=reason_code,
            priority=priority,
            workspace_id=workspace_id,
        )
        return Ticket.model_validate(row)

    async def record_escalation_decision(
        self,
        conversation_id: UUID,
        escalated: bool,
        reason: str,
        message_id: UUID | None = None,
        workspace_id: UUID | None = None,
    ) -> Conversation:
        """Keep the escalation worker's decision on AI message `message_id` (its reason code) on
        the conversation, unless a later AI message exists."""
        row = await self._call(
            "record_escalation_decision",
            conversation_id=conversation_id,
            escalated=escalated,
            reason=reason,
            message_id=message_id,
            workspace_id=workspace_id,
        )
        return Conversation.model_validate(row)

    async def take_over(self, conversation_id: UUID) -> Ticket:
        """Pause the AI and take the conversation's ticket, In Progress, as the signed-in teammate."""
        return Ticket.model_validate(await self._call("take_over", conversation_id=conversation_id))

    async def pass_back_to_ai(self, conversation_id: UUID) -> Conversation:
        """Let the AI answer again on a live conversation."""
        return Conversation.model_validate(
            await self._call("pass_back_to_ai", conversation_id=conversation_id)
        )

    async def list_conversations(
        self,
        workspace_id: UUID | None = None,
        view: Literal["live", "completed"] | None = None,
        before: datetime | None = None,
        before_id: UUID | None = None,
        limit: int | None = None,
    ) -> list[ConversationFeedRow]:
        rows = await self._call(
            "list_conversations",
            workspace_id=workspace_id,
            view=view,
            before=before,
            before_id=before_id,
            limit=limit,
        )
        return [ConversationFeedRow.model_validate(row) for row in rows or []]
