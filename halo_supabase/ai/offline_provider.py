"""The default AI provider: everything computed locally, no key and no network.

Sentiment uses the shipped model, spam the rules in :mod:`spam_rules`, escalation intent the phrase
patterns. Drafts and summaries cannot be generated without a language model, so the offline
provider gives honest stand-ins: an extractive summary and a mood-aware holding reply with low
confidence (20), which tells the dashboard to present it as a template, not an answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from halo_supabase.ai.escalation_phrases import customer_requests_human, reply_hands_off
from halo_supabase.ai.provider import (
    ConversationSummary,
    DraftReply,
    EmailForSpam,
    EscalationIntent,
    SpamVerdict,
    TranscriptMessage,
)
from halo_supabase.ai.sentiment import SentimentScore, default_model
from halo_supabase.ai.spam_rules import SPAM_THRESHOLD, spam_score

__all__ = ["OfflineProvider"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_TOPIC_CHARS = 60
OFFLINE_DRAFT_CONFIDENCE = 20

_OPENINGS = {
    "Angry": "I'm sorry about this, and I understand how frustrating it is.",
    "Frustrated": "Sorry for the trouble, and thanks for your patience.",
    "Confused": "Happy to clarify.",
    "Happy": "Glad to hear it!",
    "Neutral": "Thanks for reaching out.",
}


def _first_sentence(text: str) -> str:
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    return sentence if len(sentence) <= _TOPIC_CHARS else sentence[: _TOPIC_CHARS - 1] + "…"


class OfflineProvider:
    """AI features without a language model (see the module docstring for what that means)."""

    name = "offline"

    async def score_sentiment(self, text: str) -> SentimentScore:
        return default_model().score(text)

    async def classify_spam(self, email: EmailForSpam) -> SpamVerdict:
        score, reasons = spam_score(email.sender, email.subject, email.body)
        return SpamVerdict(is_spam=score >= SPAM_THRESHOLD, score=score, reasons=reasons)

    async def draft_reply(
        self, transcript: Sequence[TranscriptMessage], instructions: str | None = None
    ) -> DraftReply:
        customer = [m.text for m in transcript if m.role == "user"]
        mood = default_model().score(customer[-1]).mood if customer else "Neutral"
        text = (
            f"Hi,\n\n{_OPENINGS[mood]} I'm looking into this now and will get back to you "
            "shortly with the details.\n\nBest regards"
        )
        return DraftReply(text=text, confidence=OFFLINE_DRAFT_CONFIDENCE)

    async def summarize(self, transcript: Sequence[TranscriptMessage]) -> ConversationSummary:
        customer = [m.text for m in transcript if m.role == "user" and m.text.strip()]
        if not customer:
            return ConversationSummary(topic="", summary="No customer message yet.")
        topic = _first_sentence(customer[0])
        parts = [f"Customer asked: {topic}"]
        if len(customer) > 1:
            parts.append(f"Latest: {_first_sentence(customer[-1])}")
        parts.append(f"{len(transcript)} messages.")
        return ConversationSummary(topic=topic, summary=" ".join(parts))

    async def detect_escalation_intent(
        self, ai_reply: str, customer_message: str | None = None
    ) -> EscalationIntent:
        return EscalationIntent(
            hands_off=reply_hands_off(ai_reply) is not None,
            customer_wants_human=customer_message is not None
            and customer_requests_human(customer_message) is not None,
        )
