"""`auth.admin.*` through supabase-py: service_role only, GoTrue's pagination, bans, deletes."""

from __future__ import annotations

import uuid

import httpx
import pytest
from supabase_auth.errors import AuthApiError

from tests.stack.auth_support import PASSWORD, email, scalar, sync_client
from tests.stack.conftest import Stack


def test_admin_create_get_update_delete(stack: Stack) -> None:
    admin = sync_client(stack, stack.service_role_key).auth.admin
    address = email("admin")
    created = admin.create_user(
        {
            "email": address,
            "password": PASSWORD,
            "email_confirm": True,
            "user_metadata": {"full_name": "Grace"},
            "app_metadata": {"plan": "pro"},
        }
    ).user
    assert created.email == address and created.email_confirmed_at is not None
    assert created.app_metadata == {"provider": "email", "providers": ["email"], "plan": "pro"}
    assert created.user_metadata == {"full_name": "Grace", "email_verified": True}
    assert admin.get_user_by_id(created.id).user.id == created.id
    device = sync_client(stack)
    signed_in = device.auth.sign_in_with_password({"email": address, "password": PASSWORD})
    assert signed_in.session is not None

    updated = admin.update_user_by_id(
        created.id,
        {
            "user_metadata": {"team": "tier-2"},
            "app_metadata": {"plan": None},
            "ban_duration": "24h",
        },
    ).user
    assert updated.user_metadata == {"full_name": "Grace", "email_verified": True, "team": "tier-2"}
    assert "plan" not in updated.app_metadata and updated.banned_until is not None
    with pytest.raises(AuthApiError) as excinfo:
        sync_client(stack).auth.sign_in_with_password({"email": address, "password": PASSWORD})
    assert (excinfo.value.status, excinfo.value.code) == (400, "user_banned")
    with pytest.raises(AuthApiError) as excinfo:
        device.auth.refresh_session(signed_in.session.refresh_token)
    assert (excinfo.value.status, excinfo.value.code) == (400, "user_banned")
    with pytest.raises(AuthApiError) as excinfo:
        device.auth.get_user(signed_in.session.access_token)
    assert (excinfo.value.status, excinfo.value.code) == (403, "user_banned")
    admin.update_user_by_id(created.id, {"ban_duration": "none"})
    assert sync_client(stack).auth.sign_in_with_password({"email": address, "password": PASSWORD})

    admin.delete_user(created.id)
    assert scalar(stack.db_url, "select count(*) from auth.users where id = %s", created.id) == 0
    assert (
        scalar(stack.db_url, "select count(*) from auth.sessions where user_id = %s", created.id)
        == 0
    )
    with pytest.raises(AuthApiError) as excinfo:
        admin.get_user_by_id(created.id)
    assert (excinfo.value.status, excinfo.value.code) == (404, "user_not_found")


def test_admin_create_refuses_duplicates_and_bad_input(stack: Stack) -> None:
    admin = sync_client(stack, stack.service_role_key).auth.admin
    address = email("dup")
    admin.create_user({"email": address})
    cases = [
        ({"email": address}, 422, "email_exists"),
        ({"password": PASSWORD}, 400, "validation_failed"),
        ({"email": email("ban"), "ban_duration": "forever"}, 400, "validation_failed"),
    ]
    for attributes, status, code in cases:
        with pytest.raises(AuthApiError) as excinfo:
            admin.create_user(attributes)  # type: ignore[arg-type]
        assert (excinfo.value.status, excinfo.value.code) == (status, code)
    assert scalar(stack.db_url, "select count(*) from auth.users where email = %s", address) == 1


def test_admin_endpoints_refuse_anon_and_user_tokens(stack: Stack) -> None:
    with pytest.raises(AuthApiError) as excinfo:
        sync_client(stack).auth.admin.list_users()
    assert (excinfo.value.status, excinfo.value.code) == (403, "not_admin")
    user_client = sync_client(stack)
    session = user_client.auth.sign_up({"email": email("notadmin"), "password": PASSWORD}).session
    assert session is not None
    response = httpx.get(
        f"{stack.url}/auth/v1/admin/users",
        headers={
            "apikey": stack.anon_key,
            "Authorization": f"Bearer {session.access_token}",
            "X-Supabase-Api-Version": "2024-01-01",
        },
    )
    assert response.status_code == 403 and response.json()["code"] == "not_admin"
    with pytest.raises(AuthApiError) as excinfo:
        sync_client(stack).auth.admin.delete_user(str(uuid.uuid4()))
    assert excinfo.value.code == "not_admin"


def test_list_users_pages_as_gotrue(stack: Stack) -> None:
    admin = sync_client(stack, stack.service_role_key).auth.admin
    for _ in range(3):
        admin.create_user({"email": email("page")})
    total = int(scalar(stack.db_url, "select count(*) from auth.users"))
    page = admin.list_users(page=2, per_page=2)
    assert len(page) == 2
    newest = admin.list_users(page=1, per_page=1)[0]
    assert newest.created_at >= page[0].created_at  # newest first
    response = httpx.get(
        f"{stack.url}/auth/v1/admin/users?page=1&per_page=2",
        headers={
            "apikey": stack.service_role_key,
            "Authorization": f"Bearer {stack.service_role_key}",
        },
    )
    assert response.json()["aud"] == "authenticated"
    assert response.headers["x-total-count"] == str(total)
    last = -(-total // 2)
    assert response.headers["link"] == (
        f'</admin/users?page=2&per_page=2>; rel="next", </admin/users?page={last}&per_page=2>; rel="last"'
    )
    assert len(admin.list_users()) == min(total, 50)  # empty page/per_page: GoTrue's defaults
    bad = httpx.get(
        f"{stack.url}/auth/v1/admin/users?page=two",
        headers={"apikey": stack.service_role_key, "X-Supabase-Api-Version": "2024-01-01"},
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_failed")


def test_soft_delete_keeps_the_row_and_ends_sessions(stack: Stack) -> None:
    address = email("soft")
    client = sync_client(stack)
    user = client.auth.sign_up({"email": address, "password": PASSWORD}).user
    assert user is not None
    admin = sync_client(stack, stack.service_role_key).auth.admin
    admin.delete_user(user.id, should_soft_delete=True)
    assert admin.get_user_by_id(user.id).user.deleted_at is not None
    assert (
        scalar(stack.db_url, "select count(*) from auth.sessions where user_id = %s", user.id) == 0
    )
    with pytest.raises(AuthApiError) as excinfo:
        sync_client(stack).auth.sign_in_with_password({"email": address, "password": PASSWORD})
    assert excinfo.value.code == "invalid_credentials"
