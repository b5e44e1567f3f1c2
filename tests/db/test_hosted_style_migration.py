"""A migration written for hosted Supabase applies unchanged, and RLS holds per role."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from halo_supabase.local.migrations import apply_migrations
from tests.conftest import as_user

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hosted_migrations"


def claims_for(user_id: uuid.UUID) -> dict[str, object]:
    return {"sub": str(user_id), "role": "authenticated", "aud": "authenticated"}


@pytest.fixture
def notes_db(fresh_db: str) -> tuple[str, uuid.UUID, uuid.UUID]:
    applied = apply_migrations(fresh_db, FIXTURES)
    assert [m.name for m in applied] == ["private_notes"]
    user_a, user_b = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for user in (user_a, user_b):
            conn.execute(
                "insert into auth.users (id, aud, role, email) "
                "values (%s, 'authenticated', 'authenticated', %s)",
                (user, f"{user}@example.com"),
            )
    for user, body in ((user_a, "A's secret"), (user_b, "B's secret")):
        with psycopg.connect(fresh_db) as conn:
            as_user(conn, "authenticated", claims_for(user))
            conn.execute("insert into public.notes (body) values (%s)", (body,))
    return fresh_db, user_a, user_b


def visible(
    url: str, role: str, claims: dict[str, object] | None, query: str
) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        as_user(conn, role, claims)
        return conn.execute(query).fetchall()


def test_each_user_sees_only_their_own_rows(notes_db: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    url, user_a, user_b = notes_db
    query = "select body, owner_id from public.notes order by id"
    assert visible(url, "authenticated", claims_for(user_a), query) == [("A's secret", user_a)]
    assert visible(url, "authenticated", claims_for(user_b), query) == [("B's secret", user_b)]


def test_anon_sees_nothing(notes_db: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    url, _, _ = notes_db
    assert visible(url, "anon", None, "select * from public.notes") == []
    assert visible(url, "anon", None, "select * from realtime.messages") == []


def test_service_role_bypasses_rls(notes_db: tuple[str, uuid.UUID, uuid.UUID]) -> None:
    url, _, _ = notes_db
    rows = visible(
        url, "service_role", {"role": "service_role"}, "select body from public.notes order by id"
    )
    assert rows == [("A's secret",), ("B's secret",)]


def test_a_user_cannot_write_a_row_for_someone_else(
    notes_db: tuple[str, uuid.UUID, uuid.UUID],
) -> None:
    url, user_a, user_b = notes_db
    with psycopg.connect(url) as conn:
        as_user(conn, "authenticated", claims_for(user_a))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "insert into public.notes (owner_id, body) values (%s, 'forged')", (user_b,)
            )


def test_trigger_broadcasts_reach_only_the_owners_topic(
    notes_db: tuple[str, uuid.UUID, uuid.UUID],
) -> None:
    url, user_a, user_b = notes_db
    query = "select topic, event, payload ? 'id' from realtime.messages order by inserted_at"
    assert visible(url, "service_role", {"role": "service_role"}, query) == [
        (f"notes:{user_a}", "note_created", True),
        (f"notes:{user_b}", "note_created", True),
    ]
    # Joining a private channel: Realtime sets realtime.topic and selects as the user.
    for user, other in ((user_a, user_b), (user_b, user_a)):
        with psycopg.connect(url) as conn:
            as_user(conn, "authenticated", claims_for(user))
            for topic, expected in ((f"notes:{user}", 1), (f"notes:{other}", 0)):
                conn.execute("select set_config('realtime.topic', %s, true)", (topic,))
                row = conn.execute(
                    "select count(*) from realtime.messages where topic = realtime.topic()"
                ).fetchone()
                assert row == (expected,), (user, topic)
