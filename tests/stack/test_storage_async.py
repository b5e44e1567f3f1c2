"""Storage through supabase-py's async client (the same storage3 routes, async transport)."""

from __future__ import annotations

import httpx
import pytest
from storage3.exceptions import StorageApiError

from supabase import AClientOptions, acreate_client
from tests.stack.storage_fixture import (
    StorageWorld,
    storage_world_fixture,  # noqa: F401  (registers the session fixture)
)


async def test_async_round_trip_and_rls(storage_world: StorageWorld) -> None:
    stack = storage_world.stack
    a = await acreate_client(
        stack.url,
        stack.anon_key,
        options=AClientOptions(headers={"Authorization": f"Bearer {storage_world.token_a}"}),
    )
    b = await acreate_client(
        stack.url,
        stack.anon_key,
        options=AClientOptions(headers={"Authorization": f"Bearer {storage_world.token_b}"}),
    )
    key = f"{storage_world.user_a}/async/report.csv"
    bucket = a.storage.from_("sf-private")
    await bucket.upload(key, b"id,total\n1,2\n", {"content-type": "text/csv"})
    assert await bucket.download(key) == b"id,total\n1,2\n"
    assert [e["name"] for e in await bucket.list(f"{storage_world.user_a}/async")] == ["report.csv"]
    assert (await bucket.info(key))["content_type"] == "text/csv"
    signed = await bucket.create_signed_url(key, 30, {"download": True})
    response = httpx.get(signed["signedURL"])
    assert response.content == b"id,total\n1,2\n"
    assert response.headers["content-disposition"].startswith("attachment")

    with pytest.raises(StorageApiError) as denied:
        await b.storage.from_("sf-private").download(key)
    assert (str(denied.value.status), denied.value.code) == ("404", "not_found")
    assert await b.storage.from_("sf-private").exists(key) is False

    removed = await bucket.remove([key])
    assert [r["name"] for r in removed] == [key]
    assert await bucket.exists(key) is False
