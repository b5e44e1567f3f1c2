"""Fit and evaluate the offline sentiment model on the project's labelled messages.

The labelled set (``tests/fixtures/sentiment/messages.jsonl``: text, language, polarity, mood) is
split once and for all by a hash of each text: about 70 % trains, the rest is held out and only
ever evaluated. The split does not depend on row order or on the random state, so adding messages
never moves an old one from one side to the other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halo_supabase.ai.classifier import SoftmaxClassifier
from halo_supabase.ai.features import FEATURE_NAMES, extract
from halo_supabase.ai.sentiment import MOODS, POLARITIES, Mood, SentimentModel

__all__ = [
    "DEFAULT_DATASET",
    "Evaluation",
    "LabelledMessage",
    "evaluate",
    "is_held_out",
    "load_dataset",
    "train",
]

DEFAULT_DATASET = Path("tests/fixtures/sentiment/messages.jsonl")
HELD_OUT_TENTHS = 3


@dataclass(frozen=True)
class LabelledMessage:
    text: str
    language: str
    polarity: str
    mood: str


def is_held_out(text: str) -> bool:
    """True for the ~30 % of messages reserved for evaluation (fixed by the text's hash)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 10 < HELD_OUT_TENTHS


def load_dataset(path: Path) -> list[LabelledMessage]:
    """Read the JSON-lines set, checking every label."""
    messages = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        message = LabelledMessage(row["text"], row["language"], row["polarity"], row["mood"])
        if message.polarity not in POLARITIES or message.mood not in MOODS:
            raise ValueError(f"{path}:{number}: unknown label {message.polarity}/{message.mood}")
        messages.append(message)
    return messages


def train(messages: Sequence[LabelledMessage]) -> SentimentModel:
    """Fit both classifiers on the training side of the split only."""
    rows = [m for m in messages if not is_held_out(m.text)]
    features = [extract(m.text) for m in rows]
    polarity = SoftmaxClassifier.fit(
        features, [m.polarity for m in rows], POLARITIES, FEATURE_NAMES
    )
    mood = SoftmaxClassifier.fit(features, [m.mood for m in rows], MOODS, FEATURE_NAMES)
    return SentimentModel(polarity, mood, trained_on=len(rows))


@dataclass(frozen=True)
class Evaluation:
    """Scores of a model on the held-out messages."""

    messages: int
    polarity_accuracy: float
    mood_macro_f1: float
    mood_f1: dict[Mood, float]
    polarity_accuracy_by_language: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "polarity_accuracy": round(self.polarity_accuracy, 4),
            "mood_macro_f1": round(self.mood_macro_f1, 4),
            "mood_f1": {k: round(v, 4) for k, v in self.mood_f1.items()},
            "polarity_accuracy_by_language": {
                k: round(v, 4) for k, v in self.polarity_accuracy_by_language.items()
            },
        }


def _f1(pairs: Iterable[tuple[str, str]], label: str) -> float:
    pairs = list(pairs)
    tp = sum(1 for truth, guess in pairs if truth == label and guess == label)
    fp = sum(1 for truth, guess in pairs if truth != label and guess == label)
    fn = sum(1 for truth, guess in pairs if truth == label and guess != label)
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def evaluate(
    model: SentimentModel, messages: Sequence[LabelledMessage], *, whole_set: bool = False
) -> Evaluation:
    """Polarity accuracy and mood macro-F1 on the held-out side of the split.

    ``whole_set`` scores every message instead: only for a set that no training ever saw.
    """
    held_out = [m for m in messages if whole_set or is_held_out(m.text)]
    scores = [model.score(m.text) for m in held_out]
    polarity_hits = [m.polarity == s.label for m, s in zip(held_out, scores, strict=True)]
    mood_pairs = [(m.mood, s.mood) for m, s in zip(held_out, scores, strict=True)]
    per_mood = {mood: _f1(mood_pairs, mood) for mood in MOODS}
    by_language: dict[str, list[bool]] = {}
    for message, hit in zip(held_out, polarity_hits, strict=True):
        by_language.setdefault(message.language, []).append(hit)
    return Evaluation(
        messages=len(held_out),
        polarity_accuracy=sum(polarity_hits) / len(held_out),
        mood_macro_f1=sum(per_mood.values()) / len(per_mood),
        mood_f1=per_mood,
        polarity_accuracy_by_language={
            language: sum(hits) / len(hits) for language, hits in sorted(by_language.items())
        },
    )
