"""Per-client token buckets, as GoTrue limits its endpoints (tollbooth): a bucket of `burst`
requests per client address, refilled at `rate` requests per second."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["RateLimiter"]

# Forget clients idle this long (GoTrue's limiter keeps them an hour).
_IDLE_SECONDS = 3600.0
_SWEEP_EVERY = 1024


class RateLimiter:
    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._calls = 0

    def allow(self, key: str) -> bool:
        """Take one request from `key`'s bucket; False when it is empty."""
        now = self._clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        self._calls += 1
        if self._calls % _SWEEP_EVERY == 0:
            self._sweep(now)
        return allowed

    def _sweep(self, now: float) -> None:
        idle = [key for key, (_, last) in self._buckets.items() if now - last > _IDLE_SECONDS]
        for key in idle:
            del self._buckets[key]
