"""`HaloClient`: every `api` function and view of a Halo project, as one async client."""

from __future__ import annotations

from halo_supabase.client.conversations import ConversationCalls
from halo_supabase.client.email import EmailCalls
from halo_supabase.client.feedback import FeedbackCalls
from halo_supabase.client.job_calls import JobCalls
from halo_supabase.client.tenancy import TenancyCalls
from halo_supabase.client.tickets import TicketCalls
from halo_supabase.client.views import ViewReads
from supabase import AsyncClientOptions, acreate_client

__all__ = ["HaloClient"]


class HaloClient(
    TenancyCalls, JobCalls, TicketCalls, ConversationCalls, FeedbackCalls, EmailCalls, ViewReads
):
    """The `api` schema as the signed-in user of `supabase`, or as its key's role.

    Built on a supabase-py `AsyncClient`, so sign-in, token refresh, Realtime and Storage stay
    where supabase-py keeps them (`client.supabase`).
    """

    @classmethod
    async def connect(
        cls,
        url: str,
        key: str,
        options: AsyncClientOptions | None = None,
        *,
        access_token: str | None = None,
    ) -> HaloClient:
        """A client for the project at `url` with `key` (anon, or service role on a server);
        with `access_token`, the `api` calls run as that signed-in user (a user's JWT received
        by a server, or a session signed in elsewhere)."""
        supabase = await acreate_client(url, key, options)
        if access_token is not None:
            supabase.postgrest.auth(access_token)
        return cls(supabase)
