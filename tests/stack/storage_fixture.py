"""Storage test fixture: policies of our own on storage.objects, buckets, and two users' tokens."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import psycopg
import pytest

from halo_supabase.settings import LOCAL_JWT_SECRET
from supabase import Client, ClientOptions, create_client
from tests.stack.conftest import Stack

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "storage"


def user_token(user_id: str, *, secret: str = LOCAL_JWT_SECRET, expires_in: int = 3600) -> str:
    """An access token as GoTrue issues it (the claims storage policies read)."""
    now = int(time.time())
    claims = {
        "sub": user_id,
        "role": "authenticated",
        "aud": "authenticated",
        "iat": now,
        "exp": now + expires_in,
        "email": f"{user_id[:8]}@example.test",
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def client_as(stack: Stack, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return create_client(stack.url, stack.anon_key, options=ClientOptions(headers=headers))


@dataclass(frozen=True)
class StorageWorld:
    stack: Stack
    user_a: str
    user_b: str
    token_a: str
    token_b: str
    blob_dir: Path

    def blob_count(self) -> int:
        """Stored object versions on disk (and no temporary files left behind)."""
        tmp = self.blob_dir / "tmp"
        assert not tmp.exists() or not any(tmp.iterdir()), "a temporary upload file was left"
        objects = self.blob_dir / "objects"
        return sum(1 for p in objects.rglob("*") if p.is_file()) if objects.exists() else 0

    def object_rows(self, bucket: str) -> int:
        with psycopg.connect(self.stack.db_url) as conn:
            row = conn.execute(
                "select count(*) from storage.objects where bucket_id = %s", (bucket,)
            ).fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture(scope="session", name="storage_world")
def storage_world_fixture(stack: Stack) -> Iterator[StorageWorld]:
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        conn.execute((FIXTURES / "policies.sql").read_text())
    service = create_client(stack.url, stack.service_role_key)
    # Each test module that imports this fixture gets its own instance: buckets may exist already.
    existing = {bucket.id for bucket in service.storage.list_buckets()}
    for name, options in (
        ("sf-private", {}),
        ("sf-public", {"public": True}),
        ("sf-limits", {"file_size_limit": 1024, "allowed_mime_types": ["text/plain", "image/*"]}),
    ):
        if name not in existing:
            service.storage.create_bucket(name, options=options)  # type: ignore[arg-type]
    user_a, user_b = str(uuid.uuid4()), str(uuid.uuid4())
    yield StorageWorld(
        stack=stack,
        user_a=user_a,
        user_b=user_b,
        token_a=user_token(user_a),
        token_b=user_token(user_b),
        blob_dir=Path(stack.env["HALO_HOME"]) / "storage",
    )
