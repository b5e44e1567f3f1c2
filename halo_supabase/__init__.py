"""Halo's support Inbox service layer on Supabase."""

from __future__ import annotations

from halo_supabase.errors import HaloError
from halo_supabase.settings import Settings, get_settings, load_settings

__all__ = ["HaloError", "Settings", "get_settings", "load_settings"]
__version__ = "0.1.0"
