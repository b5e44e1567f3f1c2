"""Turn one customer message into the fixed feature vector the sentiment classifiers read.

Two sources: VADER (a lexicon shipped inside the ``vaderSentiment`` wheel, strong on English,
emoji and emphasis) and the project's multilingual cue lexicon (:mod:`halo_supabase.ai.lexicon`).
Every feature is scaled to roughly 0..1 (compound to -1..1) so one learning rate fits all.
"""

from __future__ import annotations

import re
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from halo_supabase.ai.lexicon import CUES, normalize, tokens

__all__ = ["FEATURE_NAMES", "MAX_SCORED_CHARS", "extract"]

FEATURE_NAMES: tuple[str, ...] = (
    "vader_compound",
    "vader_positive",
    "vader_negative",
    "positive_cues",
    "negated_positive_cues",
    "negative_cues",
    "anger_cues",
    "frustration_cues",
    "confusion_cues",
    "question_marks",
    "opens_with_question_word",
    "exclamations",
    "shouting",
    "sarcasm",
    "request",
    "length",
    "has_digits",
)

# VADER's cost grows with the square of the word count (a 100 kB paste took 20 s), and a
# customer's tone is plain within the first couple of thousand characters.
MAX_SCORED_CHARS = 2000

_ORIGINAL_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# How far (in words) a negation reaches: "no funciona" and "funktioniert nicht" both flip.
_NEGATION_BEFORE = 3
_NEGATION_AFTER = 2


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    # Loads the lexicon files from the installed wheel once per process (~50 ms).
    return SentimentIntensityAnalyzer()


def _capped(count: float, cap: float) -> float:
    return min(count, cap) / cap


def extract(text: str) -> list[float]:
    """The features of ``text`` (its first :data:`MAX_SCORED_CHARS`) in :data:`FEATURE_NAMES` order."""
    text = text[:MAX_SCORED_CHARS]
    vader = _vader().polarity_scores(text)
    folded = normalize(text)
    words = tokens(folded)
    negations = set(CUES["negation"].positions(words))

    positive = negated = 0
    for i in CUES["positive"].positions(words):
        window = range(i - _NEGATION_BEFORE, i + _NEGATION_AFTER + 1)
        if any(j in negations for j in window if j != i):
            negated += 1
        else:
            positive += 1
    negative = len(CUES["negative"].positions(words))
    frustration = len(CUES["frustration"].positions(words))
    opener = any(i <= 1 for i in CUES["sarcasm_opener"].positions(words))
    troubled = negative + frustration + negated > 0
    sarcasm = (opener and troubled) or (bool(CUES["sarcasm_phrase"].positions(words)) and troubled)

    originals = _ORIGINAL_WORD.findall(text)
    long_words = [w for w in originals if len(w) >= 2]
    shouted = sum(1 for w in long_words if w.isupper())
    shouting = shouted >= 2 and shouted / max(len(long_words), 1) >= 0.5

    return [
        vader["compound"],
        vader["pos"],
        vader["neg"],
        _capped(positive, 3),
        _capped(negated, 2),
        _capped(negative, 3),
        _capped(len(CUES["anger"].positions(words)), 2),
        _capped(frustration, 2),
        _capped(len(CUES["confusion"].positions(words)), 2),
        _capped(text.count("?"), 3),
        float(0 in CUES["question_word"].positions(words)),
        _capped(text.count("!"), 3),
        float(shouting),
        float(sarcasm),
        float(bool(CUES["request"].positions(words))),
        _capped(len(words), 30),
        float(any(ch.isdigit() for ch in text)),
    ]
