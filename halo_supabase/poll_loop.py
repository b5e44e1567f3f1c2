"""The loop every worker runs: a step, then a wait that a doorbell, a wake-up or stop cuts short.

    step ──► returned 0: step again at once (a full batch: there is probably more)
      ▲      returned Gather(s): wait s whatever rings (only stop cuts it short)
      │      returned s: wait ≤ s ┐
      │      returned None: wait ≤ poll_seconds ┤ doorbell on the topic │ wake() │ stop
      └─────────────────────────────────────────┘
    step raised a transient error (gateway or PostgreSQL down): log, back off (capped), again

The Realtime broadcast on the private topic only wakes the loop; the database is the mailbox,
so a missed doorbell (startup, reconnect, a gateway restart) costs at most one poll interval.
The doorbell watcher resubscribes by itself, so a worker outlives restarts without supervision.
Used by the job runtime (:mod:`halo_supabase.runtime`) and the signals worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from postgrest import APIError
from realtime import RealtimeChannelOptions

from supabase import AsyncClient

__all__ = [
    "MAX_BACKOFF_SECONDS",
    "TRANSIENT_ERRORS",
    "Gather",
    "PollLoop",
    "backoff",
    "sleep_unless",
]

log = logging.getLogger("halo.worker")

# A lost connection to the gateway, or the gateway answering that PostgreSQL is down.
TRANSIENT_ERRORS = (httpx.HTTPError, OSError, APIError, asyncio.TimeoutError)
MAX_BACKOFF_SECONDS = 5.0


@dataclass(frozen=True)
class Gather:
    """Wait `seconds` before the next step even if the doorbell rings: work is arriving steadily,
    and letting it gather keeps batches large and round trips (CPU) per item low. A doorbell
    rings whenever the queue was empty, so a wakeable wait would claim one item at a time."""

    seconds: float


Step = Callable[[], Awaitable[float | Gather | None]]


def backoff(failures: int) -> float:
    """Seconds to wait after `failures` failures in a row: 0.4, 0.8, ... up to 5."""
    return min(MAX_BACKOFF_SECONDS, 0.2 * 2.0**failures)


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class PollLoop:
    """Runs a step until `stop`, woken by the doorbell on `topic`, `wake()` or a poll."""

    def __init__(self, name: str, topic: str, poll_seconds: float) -> None:
        self.name = name
        self.topic = topic
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Run the next step now (a slot freed, a doorbell rang, work was handed back)."""
        self._wake.set()

    async def run(self, supabase: AsyncClient, stop: asyncio.Event, step: Step) -> None:
        doorbell = asyncio.create_task(self._watch_doorbell(supabase, stop))
        stopping = asyncio.create_task(stop.wait())
        failures = 0
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    wait = await step()
                except TRANSIENT_ERRORS as exc:
                    failures += 1
                    delay = backoff(failures)
                    log.warning(
                        "backend unavailable",
                        extra={
                            "action": "worker.backend_unavailable",
                            "worker": self.name,
                            "error": type(exc).__name__,
                            "retry_in": round(delay, 2),
                        },
                    )
                    await sleep_unless(stop, delay)
                    continue
                if failures:
                    log.info(
                        "backend back",
                        extra={"action": "worker.backend_recovered", "worker": self.name},
                    )
                failures = 0
                if wait == 0:
                    continue
                if isinstance(wait, Gather):
                    await sleep_unless(stop, wait.seconds)
                    continue
                waiting = asyncio.create_task(self._wake.wait())
                await asyncio.wait(
                    [waiting, stopping],
                    timeout=self.poll_seconds if wait is None else wait,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiting.cancel()
        finally:
            stopping.cancel()
            doorbell.cancel()
            with contextlib.suppress(BaseException):
                await doorbell
            with contextlib.suppress(Exception):
                await supabase.remove_all_channels()

    async def _watch_doorbell(self, supabase: AsyncClient, stop: asyncio.Event) -> None:
        """Keep a subscription to the private doorbell topic; resubscribe when it drops."""
        while not stop.is_set():
            if not any(c.is_joined or c.is_joining for c in supabase.get_channels()):
                with contextlib.suppress(Exception):
                    await supabase.remove_all_channels()
                channel = supabase.channel(
                    self.topic,
                    RealtimeChannelOptions(
                        config={"broadcast": None, "presence": None, "private": True}
                    ),
                )
                channel.on_broadcast("job_available", lambda _payload: self.wake())
                try:
                    await asyncio.wait_for(channel.subscribe(), timeout=10)
                except Exception as exc:
                    log.info(
                        "doorbell unavailable; polling",
                        extra={"action": "doorbell.unavailable", "error": type(exc).__name__},
                    )
                else:
                    if channel.is_joined:
                        log.info("doorbell subscribed", extra={"action": "doorbell.subscribed"})
                        self.wake()  # anything enqueued while it was down
            await sleep_unless(stop, self.poll_seconds)
