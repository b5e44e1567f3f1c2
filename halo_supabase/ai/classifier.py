"""Multinomial logistic regression in plain Python: small enough to read, fit and ship as JSON.

With ~20 features and a few hundred rows, full-batch gradient descent converges in well under a
second and needs neither numpy nor scikit-learn at install or run time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["SoftmaxClassifier"]


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


@dataclass(frozen=True)
class SoftmaxClassifier:
    """Weights per class (bias first), over a fixed list of feature names."""

    labels: tuple[str, ...]
    features: tuple[str, ...]
    weights: tuple[tuple[float, ...], ...]

    def probabilities(self, x: Sequence[float]) -> dict[str, float]:
        """P(label | x) for every label."""
        scores = [
            w[0] + sum(wi * xi for wi, xi in zip(w[1:], x, strict=True)) for w in self.weights
        ]
        return dict(zip(self.labels, _softmax(scores), strict=True))

    def predict(self, x: Sequence[float]) -> str:
        probabilities = self.probabilities(x)
        return max(probabilities, key=probabilities.__getitem__)

    @classmethod
    def fit(
        cls,
        rows: Sequence[Sequence[float]],
        targets: Sequence[str],
        labels: Sequence[str],
        features: Sequence[str],
        *,
        epochs: int = 400,
        learning_rate: float = 0.5,
        l2: float = 0.01,
    ) -> SoftmaxClassifier:
        """Deterministic fit (zero start, full batch), so retraining reproduces the shipped file.

        Classes are weighted by inverse frequency: a rare mood must not be drowned by the common
        ones, since mood is judged by macro-F1.
        """
        n_classes, n_weights = len(labels), len(features) + 1
        index = {label: i for i, label in enumerate(labels)}
        counts = [sum(1 for t in targets if t == label) for label in labels]
        class_weight = [len(targets) / (n_classes * max(c, 1)) for c in counts]
        weights = [[0.0] * n_weights for _ in range(n_classes)]
        samples = [([1.0, *row], index[target]) for row, target in zip(rows, targets, strict=True)]
        for _ in range(epochs):
            gradient = [[0.0] * n_weights for _ in range(n_classes)]
            for x, y in samples:
                scores = [sum(wi * xi for wi, xi in zip(w, x, strict=True)) for w in weights]
                probabilities = _softmax(scores)
                for k in range(n_classes):
                    error = (probabilities[k] - (1.0 if k == y else 0.0)) * class_weight[y]
                    if error:
                        row_gradient = gradient[k]
                        for j, xj in enumerate(x):
                            row_gradient[j] += error * xj
            scale = learning_rate / len(samples)
            for k in range(n_classes):
                for j in range(n_weights):
                    penalty = l2 * weights[k][j] if j else 0.0
                    weights[k][j] -= scale * gradient[k][j] + learning_rate * penalty
        return cls(
            tuple(labels),
            tuple(features),
            tuple(tuple(round(w, 6) for w in row) for row in weights),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "labels": list(self.labels),
            "features": list(self.features),
            "weights": [list(row) for row in self.weights],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SoftmaxClassifier:
        return cls(
            tuple(data["labels"]),
            tuple(data["features"]),
            tuple(tuple(float(w) for w in row) for row in data["weights"]),
        )
