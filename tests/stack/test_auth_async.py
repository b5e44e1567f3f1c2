"""The same Auth flows through supabase-py's async client."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from supabase_auth.errors import AuthApiError

from tests.stack.auth_support import PASSWORD, async_client, client_address, email, scalar
from tests.stack.conftest import Stack


async def test_async_user_lifecycle(stack: Stack) -> None:
    client = await async_client(stack)
    address = email("async")
    signed_up = await client.auth.sign_up({"email": address, "password": PASSWORD})
    assert signed_up.session is not None
    signed_in = await client.auth.sign_in_with_password({"email": address, "password": PASSWORD})
    assert signed_in.session is not None
    refreshed = await client.auth.refresh_session()
    assert refreshed.session is not None
    assert refreshed.session.refresh_token != signed_in.session.refresh_token
    user = await client.auth.get_user()
    assert user is not None and user.user.email == address
    updated = await client.auth.update_user({"data": {"locale": "fr"}})
    assert updated.user.user_metadata["locale"] == "fr"
    await client.auth.sign_out({"scope": "local"})
    assert await client.auth.get_session() is None
    # The sign-up session is still there; the signed-out one is gone.
    assert (
        scalar(stack.db_url, "select count(*) from auth.sessions where user_id = %s", user.user.id)
        == 1
    )
    with pytest.raises(AuthApiError) as excinfo:
        await client.auth.sign_in_with_password({"email": address, "password": "wrong-password"})
    assert (excinfo.value.status, excinfo.value.code) == (400, "invalid_credentials")


async def test_async_anonymous_and_admin(stack: Stack) -> None:
    client = await async_client(stack)
    anonymous = await client.auth.sign_in_anonymously()
    assert anonymous.user is not None and anonymous.user.is_anonymous
    admin = (await async_client(stack, stack.service_role_key)).auth.admin
    fetched = await admin.get_user_by_id(anonymous.user.id)
    assert fetched.user.is_anonymous
    created = await admin.create_user({"email": email("async-admin"), "email_confirm": True})
    listed = await admin.list_users(page=1, per_page=1000)
    assert {created.user.id, anonymous.user.id} <= {user.id for user in listed}
    await admin.delete_user(created.user.id)
    with pytest.raises(AuthApiError) as excinfo:
        await admin.get_user_by_id(created.user.id)
    assert excinfo.value.code == "user_not_found"
    with pytest.raises(AuthApiError) as excinfo:
        await client.auth.admin.list_users()
    assert excinfo.value.code == "not_admin"


async def test_concurrent_refreshes_of_one_token_agree(stack: Stack) -> None:
    client = await async_client(stack)
    signed_up = await client.auth.sign_up({"email": email("tabs"), "password": PASSWORD})
    assert signed_up.session is not None
    token = signed_up.session.refresh_token

    async with httpx.AsyncClient(base_url=f"{stack.url}/auth/v1") as http:

        async def refresh() -> httpx.Response:
            return await http.post(
                "/token?grant_type=refresh_token",
                json={"refresh_token": token},
                headers={"apikey": stack.anon_key, "X-Forwarded-For": client_address()},
            )

        answers = await asyncio.gather(*(refresh() for _ in range(4)))
    assert [answer.status_code for answer in answers] == [200] * 4
    # Browser tabs refreshing at once all end up holding the session's one active token.
    assert len({answer.json()["refresh_token"] for answer in answers}) == 1
    assert (
        scalar(
            stack.db_url,
            "select count(*) from auth.refresh_tokens where parent = %s",
            token,
        )
        == 1
    )


async def test_concurrent_sign_ups_of_one_address_create_one_user(stack: Stack) -> None:
    address = email("race")
    async with httpx.AsyncClient(base_url=f"{stack.url}/auth/v1", timeout=30) as http:

        async def sign_up() -> httpx.Response:
            return await http.post(
                "/signup",
                json={"email": address, "password": PASSWORD},
                headers={
                    "apikey": stack.anon_key,
                    "X-Supabase-Api-Version": "2024-01-01",
                    "X-Forwarded-For": client_address(),
                },
            )

        answers = await asyncio.gather(*(sign_up() for _ in range(4)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 422, 422, 422]
    assert {a.json()["code"] for a in answers if a.status_code == 422} == {"user_already_exists"}
    assert scalar(stack.db_url, "select count(*) from auth.users where email = %s", address) == 1
