"""Sentiment and feedback: the training whisper, thumbs and corrections on AI messages, and the
conversation signals queue the sentiment worker drains (service role).

Errors: bad input → `APIError` code `22023`; unknown or another workspace's → `P0002`; missing
permission → `42501`.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from halo_supabase.client.calls import ApiCalls
from halo_supabase.client.documents import SignalClaim, SignalResult, SignalWrite
from halo_supabase.models import Message, MessageFeedback

__all__ = ["FeedbackCalls"]


class FeedbackCalls(ApiCalls):
    """`api` functions of AI feedback and the conversation signals queue."""

    async def whisper_to_ai(self, conversation_id: UUID, text: str) -> Message:
        """A note for the AI's next reply in a live conversation (the customer never sees it)."""
        return Message.model_validate(
            await self._call("whisper_to_ai", conversation_id=conversation_id, text=text)
        )

    async def pending_whispers(self, conversation_id: UUID) -> list[Message]:
        """Service role: the whispers after the AI's latest message, oldest first."""
        rows = await self._call("pending_whispers", conversation_id=conversation_id)
        return [Message.model_validate(row) for row in rows or []]

    async def rate_ai_message(
        self, message_id: UUID, rating: Literal[1, -1] | None = None
    ) -> MessageFeedback | None:
        """Thumbs up (1) or down (-1) on an AI message; None takes the caller's thumb back.
        Returns the caller's feedback row, or None when nothing is left of it."""
        row = await self._call("rate_ai_message", message_id=message_id, rating=rating)
        return MessageFeedback.model_validate(row) if row and row.get("message_id") else None

    async def correct_ai_message(self, message_id: UUID, correction: str) -> MessageFeedback:
        """Mark an AI message wrong with the right answer (also an Inbox Training entry)."""
        return MessageFeedback.model_validate(
            await self._call("correct_ai_message", message_id=message_id, correction=correction)
        )

    async def claim_conversation_signals(
        self, lease_token: UUID, limit: int | None = None, lease_seconds: int | None = None
    ) -> SignalClaim:
        """Service role: lease queued signal items (see `halo_supabase.signal_queue`)."""
        return await self._one(
            SignalClaim,
            "claim_conversation_signals",
            lease_token=lease_token,
            limit=limit,
            lease_seconds=lease_seconds,
        )

    async def apply_conversation_signals(
        self, lease_token: UUID, signals: list[SignalWrite]
    ) -> list[SignalResult]:
        """Service role: write computed signals; one status per conversation."""
        return await self._many(
            SignalResult,
            "apply_conversation_signals",
            lease_token=lease_token,
            signals=[signal.model_dump(exclude_none=True) for signal in signals],
        )

    async def release_conversation_signals(self, lease_token: UUID, item_ids: list[int]) -> int:
        """Service role: give leased items back without counting the attempt."""
        return int(
            await self._call(
                "release_conversation_signals", lease_token=lease_token, item_ids=item_ids
            )
        )
