"""The conversation signals queue over PostgREST: claim a batch, apply the results, release.

Customer messages of conversations (and AI-score requests of completed ones) are queued by
database triggers (`halo.conversation_signal_queue`). A worker holds one lease token for its
life, so items it keeps across claims (a mood update waiting for the 500 ms gap) share it; a
lease that expires lets another worker take them over, and the apply RPC then refuses the old
holder's write (`lease_lost`). Three RPCs, each one round trip for a whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast
from uuid import UUID

from postgrest import AsyncPostgrestClient

from supabase import AsyncClient

__all__ = ["ApplyStatus", "Claim", "ConversationFacts", "QueueItem", "SignalQueue", "SignalWrite"]

ApplyStatus = Literal["applied", "deferred", "conflict", "lease_lost", "gone"]


@dataclass(frozen=True)
class QueueItem:
    id: int
    kind: Literal["message", "score"]
    conversation_id: str
    message_id: str | None
    text: str | None


@dataclass(frozen=True)
class ConversationFacts:
    """What the database knew of a conversation when the batch was claimed."""

    state: str
    outcome: str | None
    topic: str | None
    sentiment_state: dict[str, Any]
    ready_in: float  # seconds until the next mood update may be streamed
    thumbs_up: int
    thumbs_down: int


@dataclass(frozen=True)
class Claim:
    items: list[QueueItem]
    conversations: dict[str, ConversationFacts]
    dropped: int  # items that failed too often and were discarded


@dataclass(frozen=True)
class SignalWrite:
    """The new values of one conversation and the items they account for."""

    conversation_id: str
    base_messages: int
    item_ids: list[int]
    sentiment_state: dict[str, Any] | None = None
    sentiment: float | None = None
    mood: str | None = None
    scored_message_id: str | None = None
    topic: str | None = None
    ai_score: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


class SignalQueue:
    """The signals queue as service_role, for one lease holder."""

    def __init__(self, client: AsyncClient, lease_token: UUID, lease_seconds: int = 30) -> None:
        self._api: AsyncPostgrestClient = client.schema("api")
        self.lease_token = str(lease_token)
        self.lease_seconds = lease_seconds

    async def _rpc(self, function: str, params: dict[str, Any]) -> Any:
        # postgrest-py annotates params as dict[str, str] but sends any JSON body unchanged.
        response = await self._api.rpc(function, cast("dict[str, str]", params)).execute()
        return response.data

    async def claim(self, limit: int) -> Claim:
        data = await self._rpc(
            "claim_conversation_signals",
            {
                "p_lease_token": self.lease_token,
                "p_limit": limit,
                "p_lease_seconds": self.lease_seconds,
            },
        )
        items = [
            QueueItem(
                int(row["id"]),
                row["kind"],
                str(row["conversation_id"]),
                row.get("message_id"),
                row.get("text"),
            )
            for row in data["items"]
        ]
        conversations = {
            conversation_id: ConversationFacts(
                state=facts["state"],
                outcome=facts.get("outcome"),
                topic=facts.get("topic"),
                sentiment_state=facts.get("sentiment_state") or {},
                ready_in=float(facts.get("ready_in_ms") or 0) / 1000,
                thumbs_up=int(facts.get("thumbs_up") or 0),
                thumbs_down=int(facts.get("thumbs_down") or 0),
            )
            for conversation_id, facts in data["conversations"].items()
        }
        return Claim(items, conversations, int(data.get("dropped") or 0))

    async def apply(self, writes: list[SignalWrite]) -> dict[str, tuple[ApplyStatus, float]]:
        """conversation id → (status, seconds until a deferred write may be retried)."""
        rows = await self._rpc(
            "apply_conversation_signals",
            {"p_lease_token": self.lease_token, "p_signals": [w.to_json() for w in writes]},
        )
        return {
            str(row["conversation_id"]): (row["status"], float(row.get("retry_in_ms") or 0) / 1000)
            for row in rows
        }

    async def release(self, item_ids: list[int]) -> int:
        """Give items back unprocessed (shutdown); the attempt is not counted."""
        if not item_ids:
            return 0
        return int(
            await self._rpc(
                "release_conversation_signals",
                {"p_lease_token": self.lease_token, "p_item_ids": item_ids},
            )
        )
