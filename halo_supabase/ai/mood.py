"""A conversation's running sentiment and current mood, and the AI score of a completed one.

The Live Feed's mood badge follows the customer's *recent* messages: each message's weight halves
every :data:`HALF_LIFE_MESSAGES` messages, so one calm "ok" does not erase an angry outburst, but a
conversation that recovers shows it within a few turns. The state is a handful of decayed sums, so
the worker updates it in O(1) per message and stores it as JSON beside the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from halo_supabase.ai.sentiment import MOODS, Mood, SentimentScore

__all__ = [
    "HALF_LIFE_MESSAGES",
    "ConversationOutcome",
    "RunningSentiment",
    "ai_score",
]

HALF_LIFE_MESSAGES = 2.0
_DECAY = 0.5 ** (1.0 / HALF_LIFE_MESSAGES)

ConversationOutcome = Literal["resolved", "escalated", "abandoned"]

# How well each outcome reflects on the AI: a resolution is the goal, an escalation is a partial
# success (it recognised its limits), an abandoned chat usually means the customer gave up.
_OUTCOME_VALUE: dict[str, float] = {"resolved": 1.0, "escalated": 0.4, "abandoned": 0.2}
_WEIGHT_OUTCOME, _WEIGHT_SENTIMENT, _WEIGHT_FEEDBACK = 0.5, 0.3, 0.2


@dataclass
class RunningSentiment:
    """Recency-weighted polarity and mood over a conversation's customer messages."""

    messages: int = 0
    weight: float = 0.0
    polarity_sum: float = 0.0
    mood_mass: dict[Mood, float] = field(default_factory=lambda: dict.fromkeys(MOODS, 0.0))
    last_mood: Mood = "Neutral"

    def add(self, score: SentimentScore) -> None:
        """Fold in the next customer message."""
        self.messages += 1
        self.weight = self.weight * _DECAY + 1.0
        self.polarity_sum = self.polarity_sum * _DECAY + score.polarity
        for mood in self.mood_mass:
            self.mood_mass[mood] *= _DECAY
        self.mood_mass[score.mood] += score.mood_confidence
        self.last_mood = score.mood

    @property
    def polarity(self) -> float:
        """Running polarity in -1..1 (0 before any message)."""
        return 0.0 if not self.weight else round(self.polarity_sum / self.weight, 4)

    @property
    def mood(self) -> Mood:
        """The mood with the most recency-weighted mass; a tie goes to the latest message's."""
        if not self.messages:
            return "Neutral"
        top = max(self.mood_mass.values())
        if abs(self.mood_mass[self.last_mood] - top) < 1e-9:
            return self.last_mood
        return next(mood for mood in MOODS if self.mood_mass[mood] == top)

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "weight": self.weight,
            "polarity_sum": self.polarity_sum,
            "mood_mass": dict(self.mood_mass),
            "last_mood": self.last_mood,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunningSentiment:
        mass = dict.fromkeys(MOODS, 0.0)
        stored = data.get("mood_mass", {})
        for mood in MOODS:
            mass[mood] = float(stored.get(mood, 0.0))
        last = data.get("last_mood", "Neutral")
        return cls(
            messages=int(data.get("messages", 0)),
            weight=float(data.get("weight", 0.0)),
            polarity_sum=float(data.get("polarity_sum", 0.0)),
            mood_mass=mass,
            last_mood=last if last in MOODS else "Neutral",
        )


def ai_score(
    polarity: float, outcome: ConversationOutcome, thumbs_up: int = 0, thumbs_down: int = 0
) -> int:
    """The 0-100 AI score of a completed conversation.

    A weighted mean of three parts, each in 0..1: the outcome (resolved 1, escalated 0.4,
    abandoned 0.2; weight 0.5), the final running polarity mapped from -1..1 (weight 0.3) and the
    share of thumbs up among rated messages (weight 0.2). Without any rating the feedback part is
    left out and the other two are renormalised, so unrated conversations are not pulled to 50 %.
    """
    if outcome not in _OUTCOME_VALUE:
        raise ValueError(f"outcome must be one of {sorted(_OUTCOME_VALUE)}, got {outcome!r}")
    parts = [
        (_WEIGHT_OUTCOME, _OUTCOME_VALUE[outcome]),
        (_WEIGHT_SENTIMENT, (max(-1.0, min(1.0, polarity)) + 1.0) / 2.0),
    ]
    rated = thumbs_up + thumbs_down
    if rated:
        parts.append((_WEIGHT_FEEDBACK, thumbs_up / rated))
    total = sum(weight for weight, _ in parts)
    return round(100 * sum(weight * value for weight, value in parts) / total)
