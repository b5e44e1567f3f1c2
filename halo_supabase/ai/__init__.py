"""AI features: providers (offline and OpenAI), sentiment and mood, escalation.

What the workers call::

    provider = provider_from_settings(settings)            # once, at startup
    score = await provider.score_sentiment(text)           # each customer message
    running = RunningSentiment.from_json(stored_state)     # the conversation's running state
    running.add(score); running.mood; running.polarity     # Live Feed mood badge
    ai_score(running.polarity, "resolved", up, down)       # a completed conversation's AI score
    decide(EscalationSettings.from_json(agent_settings, agent_type), signals_for_turn(...))
"""

from __future__ import annotations

from halo_supabase.ai.contact_rules import ContactFilter, TraitRule
from halo_supabase.ai.escalation import (
    EscalationDecision,
    EscalationSettings,
    TurnSignals,
    customer_requests_human,
    decide,
    reply_hands_off,
    signals_for_turn,
)
from halo_supabase.ai.fallback_provider import FallbackProvider
from halo_supabase.ai.mood import RunningSentiment, ai_score
from halo_supabase.ai.provider import (
    AIProvider,
    ConversationSummary,
    DraftReply,
    EmailForSpam,
    EscalationIntent,
    SpamVerdict,
    TranscriptMessage,
    provider_from_settings,
)
from halo_supabase.ai.sentiment import MOODS, Mood, SentimentScore, default_model

__all__ = [
    "MOODS",
    "AIProvider",
    "ContactFilter",
    "ConversationSummary",
    "DraftReply",
    "EmailForSpam",
    "EscalationDecision",
    "EscalationIntent",
    "EscalationSettings",
    "FallbackProvider",
    "Mood",
    "RunningSentiment",
    "SentimentScore",
    "SpamVerdict",
    "TraitRule",
    "TranscriptMessage",
    "TurnSignals",
    "ai_score",
    "customer_requests_human",
    "decide",
    "default_model",
    "provider_from_settings",
    "reply_hands_off",
    "signals_for_turn",
]
