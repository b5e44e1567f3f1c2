"""Percentiles for benchmark tables."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

__all__ = ["percentiles"]


def percentiles(values: Sequence[float], *points: int) -> tuple[float, ...]:
    """The given percentiles (e.g. 50, 95, 99) of `values`; NaN for each when there are none."""
    if not values:
        return tuple(float("nan") for _ in points)
    if len(values) == 1:
        return tuple(values[0] for _ in points)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return tuple(cuts[point - 1] for point in points)
