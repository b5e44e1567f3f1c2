"""One typed async client for the `api` schema, over supabase-py as any Supabase client:

    from halo_supabase.client import HaloClient

    client = await HaloClient.connect(settings.url, settings.service_role_key)
    ticket = await client.create_ticket(workspace_id, "Printer on fire")
    for job in await client.claim_jobs("email.send", worker="email-1"):
        ...

One method per `api` function (arguments named as the SQL parameters without `p_`; None leaves
a parameter to its SQL default) and per view (`await client.tickets(status="open")`). Rows are
the models of `halo_supabase.models`, JSON documents those of `halo_supabase.client.documents`.
Database errors surface as postgrest's `APIError` with the SQLSTATE as `code` (42501 missing
permission, 55000 lost job lease, 22023 bad argument, ...). `SyncHaloClient` runs the same
client from synchronous code (tests, scripts).
"""

from __future__ import annotations

from halo_supabase.client.calls import ApiCalls
from halo_supabase.client.conversations import ConversationRole, EndReason
from halo_supabase.client.halo import HaloClient
from halo_supabase.client.sync import SyncHaloClient
from halo_supabase.client.tickets import StatusAction

__all__ = [
    "ApiCalls",
    "ConversationRole",
    "EndReason",
    "HaloClient",
    "StatusAction",
    "SyncHaloClient",
]
