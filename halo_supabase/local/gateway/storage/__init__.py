"""Supabase Storage (storage-api) for the gateway: buckets and objects authorized by RLS."""

from __future__ import annotations

from halo_supabase.local.gateway.storage.service import StorageService, create_service

__all__ = ["StorageService", "create_service"]
