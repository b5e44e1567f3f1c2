"""The `/rest/v1` service: PostgREST's API over the gateway's database pools.

Modules, in the order a request meets them: `config` (exposed schemas, limits), `negotiation`
(Accept, Prefer, Content-Type, Range), `query_string` (select, filters, order, paging),
`schema_cache` (relations, relationships, functions from the catalog), `sql_builder` (one
parameterized statement per request), `errors` (PostgREST's error body and status rules),
`openapi` (the root document) and `service` (the ASGI service tying them together).
"""

from __future__ import annotations

from halo_supabase.local.gateway.rest.service import RestService, create_service

__all__ = ["RestService", "create_service"]
