"""Ids and sign-ins of the demo workspace in supabase/seed.sql, for tests that act as its people."""

from __future__ import annotations

from halo_supabase.demo import DEMO_PASSWORD

ACME = "b0000000-0000-4000-8000-000000000001"
GLOBEX = "b0000000-0000-4000-8000-000000000002"

OWNER = "a0000000-0000-4000-8000-000000000001"
ADMIN = "a0000000-0000-4000-8000-000000000002"
MANAGER = "a0000000-0000-4000-8000-000000000003"
AGENT = "a0000000-0000-4000-8000-000000000004"
VIEWER = "a0000000-0000-4000-8000-000000000005"
OUTSIDER = "a0000000-0000-4000-8000-000000000006"

ALIAS = "c0000000-0000-4000-8000-000000000001"
AI_AGENT = "d0000000-0000-4000-8000-000000000001"
CONTACT = "f0000000-0000-4000-8000-000000000001"
LIVE_CONVERSATION = "91000000-0000-4000-8000-000000000001"
OPEN_TICKET = "a1000000-0000-4000-8000-000000000001"
PASSWORD = DEMO_PASSWORD


def claims(user_id: str | None) -> dict[str, object]:
    """JWT claims PostgREST would pass for this user (anon when None)."""
    if user_id is None:
        return {"role": "anon"}
    return {"sub": user_id, "role": "authenticated", "aud": "authenticated"}


# The people of the permission matrix: (database role, user).
PEOPLE: dict[str, tuple[str, str | None]] = {
    "anon": ("anon", None),
    "outsider": ("authenticated", OUTSIDER),
    "view": ("authenticated", VIEWER),
    "reply": ("authenticated", AGENT),
    "manage": ("authenticated", MANAGER),
    "admin": ("authenticated", ADMIN),
    "service_role": ("service_role", None),
}
