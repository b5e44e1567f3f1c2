"""The conversation signals queue for one lease holder: claim a batch, apply the results, release.

Customer messages of conversations (and AI-score requests of completed ones) are queued by
database triggers (`halo.conversation_signal_queue`). A worker holds one lease token for its
life, so items it keeps across claims (a mood update waiting for the 500 ms gap) share it; a
lease that expires lets another worker take them over, and the apply call then refuses the old
holder's write (`lease_lost`). Three calls of the typed client, each one round trip for a whole
batch.
"""

from __future__ import annotations

from uuid import UUID

from halo_supabase.client import HaloClient
from halo_supabase.client.documents import SignalClaim, SignalResult, SignalWrite

__all__ = ["SignalQueue"]


class SignalQueue:
    """The signals queue as service_role, for one lease holder."""

    def __init__(self, api: HaloClient, lease_token: UUID, lease_seconds: int = 30) -> None:
        self.api = api
        self.lease_token = lease_token
        self.lease_seconds = lease_seconds

    async def claim(self, limit: int) -> SignalClaim:
        return await self.api.claim_conversation_signals(
            self.lease_token, limit=limit, lease_seconds=self.lease_seconds
        )

    async def apply(self, writes: list[SignalWrite]) -> dict[str, SignalResult]:
        """conversation id → what became of its write."""
        results = await self.api.apply_conversation_signals(self.lease_token, writes)
        return {result.conversation_id: result for result in results}

    async def release(self, item_ids: list[int]) -> int:
        """Give items back unprocessed (shutdown); the attempt is not counted."""
        if not item_ids:
            return 0
        return await self.api.release_conversation_signals(self.lease_token, item_ids)
