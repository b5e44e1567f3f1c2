"""Typed methods for sentiment and feedback (issue 8, part B), mixed into `HaloApi`.

Teammates (Inbox: Reply): the training whisper, thumbs and corrections on AI messages. The AI
runtime (service role): the whispers it has not answered. The signals worker's queue calls are
here for completeness; the worker itself uses the async `halo_supabase.signal_queue`.
Errors: bad input → `APIError` code `22023`; unknown or another workspace's → `P0002`; missing
permission → `42501`.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from halo_supabase.models import Message, MessageFeedback

__all__ = ["FeedbackMethods"]


class FeedbackMethods:
    """Sentiment and feedback RPCs; `call` is provided by `HaloApi`."""

    def call(self, function: str, **arguments: object) -> Any:
        raise NotImplementedError

    def whisper_to_ai(self, conversation_id: UUID, text: str) -> Message:
        """A note for the AI's next reply in a live conversation (the customer never sees it)."""
        return Message.model_validate(
            self.call("whisper_to_ai", conversation_id=conversation_id, text=text)
        )

    def pending_whispers(self, conversation_id: UUID) -> list[Message]:
        """Service role: the whispers after the AI's latest message, oldest first."""
        rows = self.call("pending_whispers", conversation_id=conversation_id)
        return [Message.model_validate(row) for row in rows or []]

    def rate_ai_message(
        self, message_id: UUID, rating: Literal[1, -1] | None = None
    ) -> MessageFeedback | None:
        """Thumbs up (1) or down (-1) on an AI message; None takes the caller's thumb back.
        Returns the caller's feedback row, or None when nothing is left of it."""
        row = self.call("rate_ai_message", message_id=message_id, rating=rating)
        return MessageFeedback.model_validate(row) if row and row.get("message_id") else None

    def correct_ai_message(self, message_id: UUID, correction: str) -> MessageFeedback:
        """Mark an AI message wrong with the right answer (also an Inbox Training entry)."""
        return MessageFeedback.model_validate(
            self.call("correct_ai_message", message_id=message_id, correction=correction)
        )

    def claim_conversation_signals(
        self, lease_token: UUID, limit: int | None = None, lease_seconds: int | None = None
    ) -> dict[str, Any]:
        """Service role: lease queued signal items (see `halo_supabase.signal_queue`)."""
        result: dict[str, Any] = self.call(
            "claim_conversation_signals",
            lease_token=lease_token,
            limit=limit,
            lease_seconds=lease_seconds,
        )
        return result

    def apply_conversation_signals(
        self, lease_token: UUID, signals: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Service role: write computed signals; one status per conversation."""
        result: list[dict[str, Any]] = self.call(
            "apply_conversation_signals", lease_token=lease_token, signals=signals
        )
        return result

    def release_conversation_signals(self, lease_token: UUID, item_ids: list[int]) -> int:
        """Service role: give leased items back without counting the attempt."""
        return int(
            self.call("release_conversation_signals", lease_token=lease_token, item_ids=item_ids)
        )
