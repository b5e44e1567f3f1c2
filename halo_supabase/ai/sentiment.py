"""The offline sentiment model: polarity (-1..1) and mood of one customer message.

Two small softmax classifiers over :mod:`halo_supabase.ai.features` (VADER's lexicon plus the
project's multilingual cue lexicon). Their weights ship inside the package as
``ai/data/sentiment_model.json``, fitted by ``halo ai train-sentiment`` on the training side of the
labelled set; nothing is downloaded at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from halo_supabase.ai.classifier import SoftmaxClassifier
from halo_supabase.ai.features import FEATURE_NAMES, extract

__all__ = [
    "MOODS",
    "POLARITIES",
    "Mood",
    "SentimentModel",
    "SentimentScore",
    "default_model",
]

Mood = Literal["Happy", "Neutral", "Confused", "Frustrated", "Angry"]
MOODS: tuple[Mood, ...] = ("Happy", "Neutral", "Confused", "Frustrated", "Angry")
POLARITIES: tuple[str, ...] = ("negative", "neutral", "positive")
MODEL_FORMAT = 1


@dataclass(frozen=True)
class SentimentScore:
    """How one message reads: polarity in -1..1 (P(positive) - P(negative)) and mood."""

    polarity: float
    label: str
    mood: Mood
    mood_confidence: float


@dataclass(frozen=True)
class SentimentModel:
    """Polarity and mood classifiers over the same features."""

    polarity: SoftmaxClassifier
    mood: SoftmaxClassifier
    trained_on: int

    def score(self, text: str) -> SentimentScore:
        """Score one message (well under a millisecond; no I/O)."""
        features = extract(text)
        polarity = self.polarity.probabilities(features)
        moods = self.mood.probabilities(features)
        mood = max(moods, key=moods.__getitem__)
        return SentimentScore(
            polarity=round(polarity["positive"] - polarity["negative"], 4),
            label=max(polarity, key=polarity.__getitem__),
            mood=mood,  # type: ignore[arg-type]  # labels are MOODS, checked on load
            mood_confidence=round(moods[mood], 4),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "trained_on": self.trained_on,
            "polarity": self.polarity.to_json(),
            "mood": self.mood.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SentimentModel:
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(
                f"sentiment model format {data.get('format')!r} is not {MODEL_FORMAT}: "
                "retrain it with `halo ai train-sentiment`"
            )
        model = cls(
            SoftmaxClassifier.from_json(data["polarity"]),
            SoftmaxClassifier.from_json(data["mood"]),
            int(data["trained_on"]),
        )
        for classifier, labels in ((model.polarity, POLARITIES), (model.mood, MOODS)):
            if classifier.features != FEATURE_NAMES or classifier.labels != labels:
                raise ValueError(
                    "the sentiment model was fitted on other features or labels than this code "
                    "extracts: retrain it with `halo ai train-sentiment`"
                )
        return model

    @classmethod
    def load(cls, path: Path) -> SentimentModel:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_model() -> SentimentModel:
    """The model shipped in the package, loaded once per process."""
    data = resources.files("halo_supabase.ai").joinpath("data/sentiment_model.json").read_text()
    return SentimentModel.from_json(json.loads(data))
