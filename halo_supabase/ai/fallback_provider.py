"""Keep scoring when the remote provider fails: answer from the offline provider instead.

The Live Feed's mood badge, spam filtering and escalation intent must not stop because an API is
down or rate limited; a slightly less accurate local answer beats none. Drafts are the exception:
an agent asked for a real draft, so the error reaches them rather than a silent template.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from halo_supabase.ai.offline_provider import OfflineProvider
from halo_supabase.ai.provider import (
    AIProvider,
    ConversationSummary,
    DraftReply,
    EmailForSpam,
    EscalationIntent,
    SpamVerdict,
    TranscriptMessage,
)
from halo_supabase.ai.sentiment import SentimentScore
from halo_supabase.errors import AIProviderError

__all__ = ["FallbackProvider"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class FallbackProvider:
    """``primary`` for every feature; the offline provider when it raises AIProviderError."""

    def __init__(self, primary: AIProvider, fallback: AIProvider | None = None) -> None:
        self.primary = primary
        self.fallback = fallback or OfflineProvider()
        self.name = f"{primary.name}+{self.fallback.name}"

    async def _either(
        self, task: str, primary: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]
    ) -> T:
        try:
            return await primary()
        except AIProviderError as exc:
            # The message names the fix (key, model, timeout) and contains no customer text.
            log.warning(
                "ai provider failed, answering offline: %s",
                exc,
                extra={"action": "ai.fallback", "task": task, "provider": self.primary.name},
            )
            return await fallback()

    async def score_sentiment(self, text: str) -> SentimentScore:
        return await self._either(
            "sentiment",
            lambda: self.primary.score_sentiment(text),
            lambda: self.fallback.score_sentiment(text),
        )

    async def classify_spam(self, email: EmailForSpam) -> SpamVerdict:
        return await self._either(
            "spam",
            lambda: self.primary.classify_spam(email),
            lambda: self.fallback.classify_spam(email),
        )

    async def draft_reply(
        self, transcript: Sequence[TranscriptMessage], instructions: str | None = None
    ) -> DraftReply:
        return await self.primary.draft_reply(transcript, instructions)

    async def summarize(self, transcript: Sequence[TranscriptMessage]) -> ConversationSummary:
        return await self._either(
            "summary",
            lambda: self.primary.summarize(transcript),
            lambda: self.fallback.summarize(transcript),
        )

    async def detect_escalation_intent(
        self, ai_reply: str, customer_message: str | None = None
    ) -> EscalationIntent:
        return await self._either(
            "escalation",
            lambda: self.primary.detect_escalation_intent(ai_reply, customer_message),
            lambda: self.fallback.detect_escalation_intent(ai_reply, customer_message),
        )
