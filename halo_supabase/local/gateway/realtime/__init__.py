"""Supabase Realtime for the local gateway: Broadcast, Presence and Postgres Changes over the
Phoenix channel protocol (V1 JSON and V2 arrays), fed by logical decoding."""

from __future__ import annotations

from halo_supabase.local.gateway.realtime.service import RealtimeService, create

__all__ = ["RealtimeService", "create"]
