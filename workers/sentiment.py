"""Sentiment and confidence of live conversations: the Live Feed's mood badge, and the AI score.

Not a job-runtime worker: at 200 customer messages a second, one claim and one complete round
trip per message through the gateway would be the bottleneck. Triggers queue every customer chat
message of a conversation (`halo.conversation_signal_queue`, see the migration), and this loop
drains the queue in batches::

    claim ≤ 500 items (one RPC)  →  score each message (offline model, or OpenAI with fallback)
      →  fold into the conversation's running sentiment  →  apply every conversation (one RPC)

The apply RPC writes sentiment, mood, topic and the running state, deletes the items, and the
conversations trigger streams a `conversation.signal` event to the conversation and workspace
topics. At most two updates a second per conversation: a conversation updated under 500 ms ago
is held here (its items stay leased) and written once the gap has passed, with every message
folded in meanwhile, so the last value is never dropped. A completed conversation gets its AI
score from the final polarity, the outcome and the thumbs (again after any later feedback).

The loop is the job runtime's (:class:`halo_supabase.poll_loop.PollLoop`): the doorbell
(`jobs:conversation.signals`) only wakes it, a poll covers missed ones, an outage backs off. Logs
carry counts and ids, never message text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field

from halo_supabase.ai import (
    AIProvider,
    RunningSentiment,
    SentimentScore,
    TranscriptMessage,
    ai_score,
)
from halo_supabase.ai.mood import ConversationOutcome
from halo_supabase.client import HaloClient
from halo_supabase.client.documents import SignalClaim, SignalItem, SignalWrite
from halo_supabase.errors import AIProviderError
from halo_supabase.poll_loop import MAX_BACKOFF_SECONDS, TRANSIENT_ERRORS, Gather, PollLoop
from halo_supabase.signal_queue import SignalQueue
from halo_supabase.worker_host import WorkerDefinition, WorkerResources

__all__ = ["DEFINITION", "DOORBELL_TOPIC", "SentimentWorker"]

DOORBELL_TOPIC = "jobs:conversation.signals"
BATCH = 500
MIN_GAP_SECONDS = 0.5
# After a claim that found work, wait this long before the next: a batch per 25 ms keeps the
# round trips (and the worker's CPU) per message low at a small cost in latency.
GATHER_SECONDS = 0.025
_SCORING_CONCURRENCY = 16  # parallel requests to a remote provider

log = logging.getLogger("halo.worker.sentiment")


@dataclass
class _Pending:
    """A conversation's computed update not yet written (waiting for its 500 ms gap)."""

    base_messages: int
    running: RunningSentiment
    item_ids: list[int] = field(default_factory=list)
    scored_message_id: str | None = None
    topic: str | None = None
    ai_score: int | None = None
    folded: bool = False  # holds a new running state (a mood update, rate limited)
    ready_at: float = 0.0

    def write(self, conversation_id: str) -> SignalWrite:
        return SignalWrite(
            conversation_id=conversation_id,
            base_messages=self.base_messages,
            item_ids=self.item_ids,
            sentiment_state=self.running.to_json() if self.folded else None,
            sentiment=self.running.polarity if self.folded else None,
            mood=self.running.mood.lower() if self.folded else None,
            scored_message_id=self.scored_message_id,
            topic=self.topic,
            ai_score=self.ai_score,
        )


class SentimentWorker:
    """Drains the conversation signals queue until `stop` is set."""

    name = "sentiment"

    def __init__(
        self,
        api: HaloClient,
        provider: AIProvider,
        *,
        poll_seconds: float = 2.0,
        batch: int = BATCH,
        gather_seconds: float = GATHER_SECONDS,
    ) -> None:
        self.api = api
        self.provider = provider
        self.gather_seconds = gather_seconds
        self.batch = batch
        self.queue = SignalQueue(api, uuid.uuid4())
        self._pending: dict[str, _Pending] = {}
        self._sent_at: dict[str, float] = {}  # conversation → when this worker last wrote it
        self._loop = PollLoop(self.name, DOORBELL_TOPIC, poll_seconds)
        self._limit = asyncio.Semaphore(_SCORING_CONCURRENCY)

    # -- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker started", extra={"action": "worker.started", "worker": self.name})
        try:
            await self._loop.run(self.api.supabase, stop, self._step)
        finally:
            await self._release_pending()
            log.info("worker stopped", extra={"action": "worker.stopped", "worker": self.name})

    async def _step(self) -> float | Gather | None:
        """Claim, score, write what is due; how long the loop may wait before the next step."""
        try:
            claim = await self.queue.claim(self.batch)
            await self._fold(claim)
            await self._apply_due()
        except TRANSIENT_ERRORS:
            raise  # the loop backs off
        except Exception as exc:
            # A bug or an answer we did not expect: the batch's items stay leased and run again
            # when their lease ends (dropped after the last attempt).
            log.error(
                "batch failed",
                extra={"action": "signals.batch_failed", "error": type(exc).__name__},
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            self._pending.clear()
            return MAX_BACKOFF_SECONDS
        if claim.items:
            # More is probably on its way (the doorbell rings only for an empty queue): claim
            # again after a short gather, which also keeps batches large.
            return Gather(self.gather_seconds)
        if self._pending:  # until the next held update falls due
            earliest = min(p.ready_at for p in self._pending.values())
            return max(0.001, earliest - time.monotonic())
        return None

    # -- scoring -------------------------------------------------------------------------------

    async def _fold(self, claim: SignalClaim) -> None:
        """Score the claimed messages and fold them, in queue order, into pending updates."""
        if claim.dropped:
            log.warning(
                "signal items dropped after too many attempts",
                extra={"action": "signals.dropped", "count": claim.dropped},
            )
        if not claim.items:
            return
        messages = [item for item in claim.items if item.kind == "message"]
        scores = await asyncio.gather(
            *(self._score(item) for item in messages), return_exceptions=True
        )
        score_of = dict(zip((item.id for item in messages), scores, strict=True))
        failed: set[str] = set()
        for item in claim.items:
            facts = claim.conversations.get(item.conversation_id)
            if facts is None or item.conversation_id in failed:
                continue
            pending = self._pending.get(item.conversation_id)
            if pending is None:
                pending = _Pending(
                    base_messages=int((facts.sentiment_state or {}).get("messages", 0)),
                    running=RunningSentiment.from_json(facts.sentiment_state or {}),
                    ready_at=max(
                        time.monotonic() + facts.ready_in,
                        self._sent_at.get(item.conversation_id, 0.0) + MIN_GAP_SECONDS,
                    ),
                )
                self._pending[item.conversation_id] = pending
            pending.item_ids.append(item.id)
            if item.kind == "score":
                outcome = facts.outcome or "abandoned"
                if facts.state == "completed" and outcome in ("resolved", "escalated", "abandoned"):
                    checked: ConversationOutcome = outcome  # type: ignore[assignment]
                    pending.ai_score = ai_score(
                        pending.running.polarity, checked, facts.thumbs_up, facts.thumbs_down
                    )
                continue
            score = score_of[item.id]
            if isinstance(score, BaseException):
                # Its items stay leased until the lease ends, then run again (and are dropped
                # after the last attempt). The exception's class only: no message text.
                log.warning(
                    "scoring failed",
                    extra={
                        "action": "signals.score_failed",
                        "conversation_id": item.conversation_id,
                        "error": type(score).__name__,
                    },
                )
                failed.add(item.conversation_id)
                del self._pending[item.conversation_id]
                continue
            if pending.running.messages == 0 and not facts.topic and pending.topic is None:
                pending.topic = await self._topic(item)
            pending.running.add(score)
            pending.folded = True
            pending.scored_message_id = item.message_id

    async def _score(self, item: SignalItem) -> SentimentScore:
        async with self._limit:
            return await self.provider.score_sentiment(item.text or "")

    async def _topic(self, item: SignalItem) -> str | None:
        try:
            summary = await self.provider.summarize(
                [TranscriptMessage(role="user", text=item.text or "")]
            )
        except AIProviderError:
            return None
        return summary.topic or None

    # -- writing -------------------------------------------------------------------------------

    async def _apply_due(self) -> None:
        now = time.monotonic()
        due = {cid: p for cid, p in self._pending.items() if not p.folded or p.ready_at <= now}
        if not due:
            return
        results = await self.queue.apply([pending.write(cid) for cid, pending in due.items()])
        written = time.monotonic()
        counts: dict[str, int] = {}
        for conversation_id, pending in due.items():
            result = results.get(conversation_id)
            status = result.status if result else "lease_lost"
            counts[status] = counts.get(status, 0) + 1
            if status == "deferred":
                pending.ready_at = written + (result.retry_in if result else 0.0)
                continue
            if status == "conflict":
                self._loop.wake()  # its items were released: claim them again at once
            del self._pending[conversation_id]
            if status == "applied" and pending.folded:
                self._sent_at[conversation_id] = written
        # Forget gaps that have passed, so the map does not grow with every conversation ever seen.
        for conversation_id in [c for c, t in self._sent_at.items() if t < written - 5]:
            del self._sent_at[conversation_id]
        log.debug("signals applied", extra={"action": "signals.applied", **counts})

    async def _release_pending(self) -> None:
        item_ids = [item for pending in self._pending.values() for item in pending.item_ids]
        self._pending.clear()
        with contextlib.suppress(*TRANSIENT_ERRORS):
            await asyncio.shield(self.queue.release(item_ids))


def _build(shared: WorkerResources, api: HaloClient) -> SentimentWorker:
    return SentimentWorker(api, shared.provider, poll_seconds=shared.settings.worker_poll_seconds)


DEFINITION = WorkerDefinition("sentiment", _build)
