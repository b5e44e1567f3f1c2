"""One interface for every AI feature, and the factory that picks the configured provider.

Two implementations: :class:`~halo_supabase.ai.offline_provider.OfflineProvider` (the default;
no key, no network, models shipped in the package) and
:class:`~halo_supabase.ai.openai_provider.OpenAIProvider` (any OpenAI-compatible chat-completions
server). ``HALO_AI_PROVIDER`` chooses; workers call :func:`provider_from_settings` once at startup.

The methods are async because the workers are (supabase-py's Realtime client is async-only); the
offline provider answers without awaiting anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from halo_supabase.ai.sentiment import Mood, SentimentScore
from halo_supabase.settings import Settings

__all__ = [
    "AIProvider",
    "ConversationSummary",
    "DraftReply",
    "EmailForSpam",
    "EscalationIntent",
    "SpamVerdict",
    "TranscriptMessage",
    "provider_from_settings",
]


class _Result(BaseModel):
    # Extra keys are refused so a model answer that drifts from the schema is caught, not ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class SentimentJudgement(_Result):
    """How an LLM judges one message (converted to :class:`SentimentScore`)."""

    polarity: float = Field(ge=-1, le=1, description="-1 very negative .. 1 very positive")
    mood: Mood


class SpamVerdict(_Result):
    is_spam: bool
    score: float = Field(ge=0, le=1, description="probability that the email is spam")
    reasons: list[str] = Field(description="short stable codes, e.g. 'many_links'")


class DraftReply(_Result):
    text: str
    confidence: int = Field(ge=0, le=100, description="how sure the answer is right, 0-100")


class ConversationSummary(_Result):
    topic: str = Field(description="a few words for the Live Feed's topic column")
    summary: str


class EscalationIntent(_Result):
    hands_off: bool = Field(description="the AI reply hands the customer over to a human")
    customer_wants_human: bool = Field(description="the customer asks for a human")


class EmailForSpam(BaseModel):
    """What spam classification reads of an inbound email."""

    model_config = ConfigDict(frozen=True)

    sender: str
    subject: str
    body: str
    headers: dict[str, str] = Field(default_factory=dict)


class TranscriptMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["user", "ai", "teammate", "system"]
    text: str


class AIProvider(Protocol):
    """The AI features the workers use; both providers implement all of them."""

    name: str

    async def score_sentiment(self, text: str) -> SentimentScore:
        """Polarity and mood of one customer message."""
        ...

    async def classify_spam(self, email: EmailForSpam) -> SpamVerdict:
        """Whether an inbound email is spam."""
        ...

    async def draft_reply(
        self, transcript: Sequence[TranscriptMessage], instructions: str | None = None
    ) -> DraftReply:
        """A reply an agent can edit and send (AI Draft)."""
        ...

    async def summarize(self, transcript: Sequence[TranscriptMessage]) -> ConversationSummary:
        """Topic and short summary of a conversation or ticket thread."""
        ...

    async def detect_escalation_intent(
        self, ai_reply: str, customer_message: str | None = None
    ) -> EscalationIntent:
        """Whether the AI hands off to a human, or the customer asks for one."""
        ...


def provider_from_settings(settings: Settings, *, offline_fallback: bool = True) -> AIProvider:
    """The provider ``HALO_AI_PROVIDER`` names (settings already checked the key).

    With ``openai`` and ``offline_fallback`` (the default), a failed request is answered by the
    offline provider, except drafts (see :mod:`halo_supabase.ai.fallback_provider`).
    """
    if settings.ai_provider == "openai":
        from halo_supabase.ai.fallback_provider import FallbackProvider
        from halo_supabase.ai.openai_provider import OpenAIProvider

        remote = OpenAIProvider.from_settings(settings)
        return FallbackProvider(remote) if offline_fallback else remote
    from halo_supabase.ai.offline_provider import OfflineProvider

    return OfflineProvider()
