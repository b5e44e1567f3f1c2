"""Auth through supabase-py's sync client: sign-up, sign-in, tokens, /user, logout, anonymous.

Every call goes through the real `supabase_auth` client; error assertions check the exception
class, status and code the client derives from our responses.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import psycopg
import pytest
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from halo_supabase.settings import LOCAL_JWT_SECRET
from tests.conftest import as_user
from tests.stack.auth_support import (
    PASSWORD,
    email,
    fetch,
    install_signup_trigger,
    scalar,
    sync_client,
)
from tests.stack.conftest import Stack

CLAIMS = {
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "email",
    "phone",
    "app_metadata",
    "user_metadata",
    "role",
    "aal",
    "amr",
    "session_id",
    "is_anonymous",
}


@pytest.fixture(scope="module", autouse=True)
def signup_trigger(stack: Stack) -> None:
    install_signup_trigger(stack.db_url)


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(
        token, LOCAL_JWT_SECRET, algorithms=["HS256"], audience="authenticated"
    )
    return decoded


def api_error(excinfo: pytest.ExceptionInfo[AuthApiError]) -> tuple[int, str | None]:
    return excinfo.value.status, excinfo.value.code


# -- sign-up ------------------------------------------------------------------------------------


def test_sign_up_returns_a_session_and_fires_the_trigger_on_auth_users(stack: Stack) -> None:
    client = sync_client(stack)
    address = email("signup")
    response = client.auth.sign_up(
        {"email": address, "password": PASSWORD, "options": {"data": {"full_name": "Ada"}}}
    )
    assert response.session is not None and response.user is not None
    user = response.user
    assert user.email == address and user.aud == "authenticated" and user.role == "authenticated"
    assert user.app_metadata == {"provider": "email", "providers": ["email"]}
    assert user.user_metadata == {"full_name": "Ada", "email_verified": True}
    assert user.email_confirmed_at is not None
    assert user.identities and user.identities[0].provider == "email"
    assert user.identities[0].identity_data["email"] == address
    # The application's trigger saw the row as GoTrue inserts it: role still empty.
    row = fetch(
        stack.db_url,
        "select email, full_name, role_at_insert, is_anonymous from auth_fixture.signups "
        "where user_id = %s",
        uuid.UUID(user.id),
    )
    assert row == [(address, "Ada", "", False)]
    stored = fetch(
        stack.db_url,
        "select encrypted_password, instance_id::text from auth.users where id = %s",
        uuid.UUID(user.id),
    )
    assert stored[0][0].startswith("$2a$10$") and PASSWORD not in stored[0][0]
    assert stored[0][1] == "00000000-0000-0000-0000-000000000000"


def test_access_token_carries_gotrue_claims_and_is_the_users_identity_in_sql(
    stack: Stack,
) -> None:
    client = sync_client(stack)
    session = client.auth.sign_up({"email": email("claims"), "password": PASSWORD}).session
    assert session is not None
    claims = claims_of(session.access_token)
    assert set(claims) == CLAIMS
    assert claims["iss"] == f"{stack.url}/auth/v1"
    assert claims["aud"] == "authenticated"  # a string, not a list
    assert claims["role"] == "authenticated" and claims["aal"] == "aal1"
    assert claims["exp"] - claims["iat"] == 3600 == session.expires_in
    assert claims["amr"][0]["method"] == "password" and claims["is_anonymous"] is False
    assert (
        scalar(
            stack.db_url, "select count(*) from auth.sessions where id = %s", claims["session_id"]
        )
        == 1
    )
    with psycopg.connect(stack.db_url) as conn:
        as_user(conn, "authenticated", claims)
        row = conn.execute("select auth.uid()::text, auth.role(), auth.email()").fetchone()
    assert row == (claims["sub"], "authenticated", claims["email"])


def test_pkce_sign_up_fields_are_accepted(stack: Stack) -> None:
    client = sync_client(stack)
    assert client.auth._flow_type == "pkce"  # the supabase client's default
    response = client.auth.sign_up({"email": email("pkce"), "password": PASSWORD})
    assert response.session is not None


def test_repeated_sign_up_is_user_already_exists(stack: Stack) -> None:
    address = email("twice")
    sync_client(stack).auth.sign_up({"email": address, "password": PASSWORD})
    with pytest.raises(AuthApiError) as excinfo:
        sync_client(stack).auth.sign_up({"email": address, "password": PASSWORD})
    assert api_error(excinfo) == (422, "user_already_exists")
    assert scalar(stack.db_url, "select count(*) from auth.users where email = %s", address) == 1


def test_short_password_is_weak_password_and_writes_nothing(stack: Stack) -> None:
    address = email("weak")
    with pytest.raises(AuthWeakPasswordError) as excinfo:
        sync_client(stack).auth.sign_up({"email": address, "password": "short"})
    assert excinfo.value.status == 422 and excinfo.value.reasons == ["length"]
    assert "at least 8 characters" in excinfo.value.message  # minimum_password_length
    assert scalar(stack.db_url, "select count(*) from auth.users where email = %s", address) == 0


def test_malformed_email_is_validation_failed(stack: Stack) -> None:
    with pytest.raises(AuthApiError) as excinfo:
        sync_client(stack).auth.sign_up({"email": "not-an-address", "password": PASSWORD})
    assert api_error(excinfo) == (400, "validation_failed")


# -- password grant -----------------------------------------------------------------------------


def test_sign_in_with_password_and_wrong_credentials(stack: Stack) -> None:
    address = email("signin")
    sync_client(stack).auth.sign_up({"email": address, "password": PASSWORD})
    client = sync_client(stack)
    response = client.auth.sign_in_with_password({"email": address, "password": PASSWORD})
    assert response.session is not None and response.user is not None
    assert response.user.last_sign_in_at is not None
    for attempt in (
        {"email": address, "password": "wrong-password"},
        {"email": email("nobody"), "password": PASSWORD},
    ):
        with pytest.raises(AuthApiError) as excinfo:
            sync_client(stack).auth.sign_in_with_password(attempt)  # type: ignore[arg-type]
        assert api_error(excinfo) == (400, "invalid_credentials")
        assert excinfo.value.message == "Invalid login credentials"


# -- refresh tokens ------------------------------------------------------------------------------


def test_refresh_rotates_the_token_and_keeps_the_session(stack: Stack) -> None:
    client = sync_client(stack)
    first = client.auth.sign_up({"email": email("rotate"), "password": PASSWORD}).session
    assert first is not None
    second = client.auth.refresh_session()
    assert second.session is not None
    assert second.session.refresh_token != first.refresh_token
    assert (
        claims_of(second.session.access_token)["session_id"]
        == claims_of(first.access_token)["session_id"]
    )
    rows = fetch(
        stack.db_url,
        "select token, revoked, parent from auth.refresh_tokens where session_id = %s order by id",
        claims_of(first.access_token)["session_id"],
    )
    assert rows == [
        (first.refresh_token, True, None),
        (second.session.refresh_token, False, first.refresh_token),
    ]
    actions = fetch(
        stack.db_url,
        "select payload ->> 'action', payload ->> 'log_type' from auth.audit_log_entries "
        "where payload ->> 'actor_id' = %s",
        first.user.id,
    )
    assert sorted(actions) == [
        ("login", "account"),
        ("token_refreshed", "token"),
        ("token_revoked", "token"),
        ("user_signedup", "team"),
    ]


def test_a_lost_refresh_answer_can_be_fetched_again(stack: Stack) -> None:
    client = sync_client(stack)
    first = client.auth.sign_up({"email": email("lost"), "password": PASSWORD}).session
    assert first is not None
    rotated = client.auth.refresh_session(first.refresh_token).session
    again = sync_client(stack).auth.refresh_session(first.refresh_token).session
    assert rotated is not None and again is not None
    # The parent of the active token returns the active token rather than forking the session.
    assert again.refresh_token == rotated.refresh_token


def test_unknown_or_malformed_refresh_tokens(stack: Stack) -> None:
    with pytest.raises(AuthApiError) as excinfo:
        sync_client(stack).auth.refresh_session("abcdefghijkl")
    assert api_error(excinfo) == (400, "refresh_token_not_found")
    with pytest.raises(AuthApiError) as excinfo:
        sync_client(stack).auth.refresh_session("short")
    assert api_error(excinfo) == (400, "validation_failed")


# -- /user ---------------------------------------------------------------------------------------


def test_get_user_with_expired_forged_and_anon_tokens(stack: Stack) -> None:
    client = sync_client(stack)
    session = client.auth.sign_up({"email": email("jwt"), "password": PASSWORD}).session
    assert session is not None
    assert client.auth.get_user(session.access_token).user.email == session.user.email  # type: ignore[union-attr]
    claims = claims_of(session.access_token)
    expired = jwt.encode(
        {**claims, "exp": int(time.time()) - 60}, LOCAL_JWT_SECRET, algorithm="HS256"
    )
    forged = jwt.encode(claims, "another-secret-that-is-at-least-32-chars!", algorithm="HS256")
    for token in (expired, forged, "not.a.jwt"):
        with pytest.raises(AuthApiError) as excinfo:
            client.auth.get_user(token)
        assert api_error(excinfo) == (403, "bad_jwt")
    with pytest.raises(AuthApiError) as excinfo:
        client.auth.get_user(stack.anon_key)
    assert api_error(excinfo) == (403, "bad_jwt")  # no sub claim


def test_update_user_metadata_and_password(stack: Stack) -> None:
    address = email("update")
    client = sync_client(stack)
    client.auth.sign_up({"email": address, "password": PASSWORD})
    other_device = sync_client(stack)
    other = other_device.auth.sign_in_with_password({"email": address, "password": PASSWORD})
    assert other.session is not None
    updated = client.auth.update_user({"data": {"team": "support", "email_verified": None}})
    assert updated.user.user_metadata == {"team": "support"}
    client.auth.update_user({"password": "a-brand-new-password"})
    # A password change ends every other session of the user.
    with pytest.raises(AuthApiError) as excinfo:
        other_device.auth.refresh_session(other.session.refresh_token)
    assert api_error(excinfo) == (400, "refresh_token_not_found")
    assert (
        sync_client(stack)
        .auth.sign_in_with_password({"email": address, "password": "a-brand-new-password"})
        .session
    )
    with pytest.raises(AuthApiError) as excinfo:
        client.auth.update_user({"password": "a-brand-new-password"})
    assert api_error(excinfo) == (422, "same_password")


def test_update_user_refuses_app_metadata_and_taken_addresses(stack: Stack) -> None:
    taken = email("taken")
    sync_client(stack).auth.sign_up({"email": taken, "password": PASSWORD})
    client = sync_client(stack)
    client.auth.sign_up({"email": email("mover"), "password": PASSWORD})
    with pytest.raises(AuthApiError) as excinfo:
        client.auth.update_user({"email": taken})
    assert api_error(excinfo) == (422, "email_exists")
    with pytest.raises(AuthApiError) as excinfo:
        client.auth.update_user({"app_metadata": {"plan": "pro"}})  # type: ignore[typeddict-unknown-key]
    assert api_error(excinfo) == (403, "not_admin")


def test_a_permanent_users_new_email_waits_for_confirmation(stack: Stack) -> None:
    client = sync_client(stack)
    old = email("old")
    client.auth.sign_up({"email": old, "password": PASSWORD})
    new = email("new")
    user = client.auth.update_user({"email": new}).user
    assert user.email == old and user.new_email == new and user.email_change_sent_at


def test_a_failing_trigger_fails_sign_up_and_leaves_nothing(stack: Stack) -> None:
    address = f"{uuid.uuid4().hex[:8]}@refused.example"
    with pytest.raises(AuthApiError) as excinfo:
        sync_client(stack).auth.sign_up({"email": address, "password": PASSWORD})
    assert api_error(excinfo) == (500, "unexpected_failure")
    assert excinfo.value.message == "Database error saving new user"
    assert scalar(stack.db_url, "select count(*) from auth.users where email = %s", address) == 0


# -- logout --------------------------------------------------------------------------------------


def _two_devices(stack: Stack) -> tuple[Any, Any, Any]:
    address = email("devices")
    first = sync_client(stack)
    first.auth.sign_up({"email": address, "password": PASSWORD})
    second = sync_client(stack)
    second.auth.sign_in_with_password({"email": address, "password": PASSWORD})
    user_id = first.auth.get_user().user.id  # type: ignore[union-attr]
    return first, second, user_id


def _sessions_of(stack: Stack, user_id: str) -> int:
    return int(
        scalar(stack.db_url, "select count(*) from auth.sessions where user_id = %s", user_id)
    )


def test_sign_out_scopes(stack: Stack) -> None:
    first, second, user_id = _two_devices(stack)
    first.auth.sign_out({"scope": "others"})
    assert _sessions_of(stack, user_id) == 1
    assert first.auth.get_user() is not None
    first.auth.sign_out({"scope": "local"})
    assert _sessions_of(stack, user_id) == 0
    assert first.auth.get_session() is None

    first, second, user_id = _two_devices(stack)
    token = second.auth.get_session().access_token  # type: ignore[union-attr]
    second.auth.sign_out()  # global
    assert _sessions_of(stack, user_id) == 0
    with pytest.raises(AuthApiError) as excinfo:
        first.auth.get_user(token)
    assert api_error(excinfo) == (403, "session_not_found")


# -- anonymous -----------------------------------------------------------------------------------


def test_anonymous_sign_in_then_adding_an_email(stack: Stack) -> None:
    client = sync_client(stack)
    response = client.auth.sign_in_anonymously({"options": {"data": {"full_name": "Guest"}}})
    assert response.session is not None and response.user is not None
    assert response.user.is_anonymous is True and response.user.email == ""
    claims = claims_of(response.session.access_token)
    assert claims["is_anonymous"] is True and claims["amr"][0]["method"] == "anonymous"
    assert fetch(
        stack.db_url,
        "select is_anonymous, full_name from auth_fixture.signups where user_id = %s",
        uuid.UUID(response.user.id),
    ) == [(True, "Guest")]
    with pytest.raises(AuthApiError) as excinfo:
        client.auth.update_user({"password": PASSWORD})
    assert api_error(excinfo) == (422, "validation_failed")
    address = email("converted")
    user = client.auth.update_user({"email": address, "password": PASSWORD}).user
    assert user.is_anonymous is False and user.email == address
    assert (
        sync_client(stack)
        .auth.sign_in_with_password({"email": address, "password": PASSWORD})
        .session
    )
