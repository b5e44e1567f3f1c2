"""Supabase Edge Functions for the gateway: each function a Deno process behind /functions/v1."""

from __future__ import annotations

from halo_supabase.local.gateway.functions.service import FunctionsService, create_service

__all__ = ["FunctionsService", "create_service"]
