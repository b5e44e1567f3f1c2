"""Running sentiment of a conversation, and the AI score of a completed one."""

from __future__ import annotations

import pytest

from halo_supabase.ai.mood import RunningSentiment, ai_score
from halo_supabase.ai.sentiment import SentimentScore


def _score(polarity: float, mood: str, confidence: float = 0.9) -> SentimentScore:
    label = "positive" if polarity > 0.3 else "negative" if polarity < -0.3 else "neutral"
    return SentimentScore(polarity, label, mood, confidence)  # type: ignore[arg-type]


def test_no_message_is_neutral() -> None:
    running = RunningSentiment()
    assert running.mood == "Neutral" and running.polarity == 0.0


def test_one_calm_message_does_not_erase_an_angry_outburst() -> None:
    running = RunningSentiment()
    running.add(_score(-0.9, "Angry"))
    running.add(_score(-0.8, "Angry"))
    running.add(_score(0.0, "Neutral", 0.6))
    assert running.mood == "Angry"
    assert running.polarity < -0.3


def test_a_conversation_that_recovers_turns_happy_within_a_few_turns() -> None:
    running = RunningSentiment()
    running.add(_score(-0.9, "Frustrated"))
    for _ in range(3):
        running.add(_score(0.9, "Happy"))
    assert running.mood == "Happy"
    assert running.polarity > 0.3


def test_recent_messages_weigh_more_than_old_ones() -> None:
    early_bad, late_bad = RunningSentiment(), RunningSentiment()
    for running, order in ((early_bad, (-1.0, 1.0)), (late_bad, (1.0, -1.0))):
        for polarity in order:
            running.add(_score(polarity, "Neutral"))
    assert early_bad.polarity > 0 > late_bad.polarity


def test_state_round_trips_through_json() -> None:
    running = RunningSentiment()
    running.add(_score(-0.5, "Confused"))
    restored = RunningSentiment.from_json(running.to_json())
    restored.add(_score(-0.5, "Confused"))
    running.add(_score(-0.5, "Confused"))
    assert restored == running


@pytest.mark.parametrize(
    ("polarity", "outcome", "up", "down", "expected"),
    [
        (1.0, "resolved", 3, 0, 100),
        (-1.0, "abandoned", 0, 2, 10),
        (0.0, "resolved", 0, 0, 81),  # no feedback: outcome and sentiment only
        (0.0, "escalated", 0, 0, 44),
    ],
)
def test_ai_score(polarity: float, outcome: str, up: int, down: int, expected: int) -> None:
    assert ai_score(polarity, outcome, up, down) == expected  # type: ignore[arg-type]


def test_ai_score_orders_outcomes_and_feedback() -> None:
    assert ai_score(0.2, "resolved") > ai_score(0.2, "escalated") > ai_score(0.2, "abandoned")
    assert ai_score(0.2, "resolved", 2, 0) > ai_score(0.2, "resolved", 0, 2)


def test_ai_score_refuses_an_unknown_outcome() -> None:
    with pytest.raises(ValueError, match="outcome must be one of"):
        ai_score(0.0, "closed")  # type: ignore[arg-type]
