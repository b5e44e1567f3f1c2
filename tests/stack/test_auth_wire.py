"""Auth's wire details the clients rely on but do not surface: GoTrue's two error shapes, body
decoding, the token endpoint's rate limit, metadata endpoints, and behaviour that depends on
`[auth]` in config.toml (checked on a second gateway with a tighter configuration)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from supabase import ClientOptions, create_client
from tests.stack.auth_support import (
    PASSWORD,
    client_address,
    email,
    fetch,
    gateway_with_auth_config,
    scalar,
    sync_client,
)
from tests.stack.conftest import Stack

VERSION = {"X-Supabase-Api-Version": "2024-01-01"}


_http = httpx.Client(timeout=30)


def post(
    stack: Stack, path: str, *, address: str | None = None, **kwargs: object
) -> httpx.Response:
    headers = {
        "apikey": stack.anon_key,
        "X-Forwarded-For": address or client_address(),
        **kwargs.pop("headers", {}),  # type: ignore[dict-item]
    }
    return _http.post(f"{stack.url}/auth/v1{path}", headers=headers, **kwargs)  # type: ignore[arg-type]


def users_named(stack: Stack, address: str) -> int:
    return int(scalar(stack.db_url, "select count(*) from auth.users where email = %s", address))


def test_error_shape_follows_the_api_version_header(stack: Stack) -> None:
    body = {"email": email("nobody"), "password": PASSWORD}
    current = post(stack, "/token?grant_type=password", json=body, headers=VERSION)
    assert current.status_code == 400
    assert current.json() == {"code": "invalid_credentials", "message": "Invalid login credentials"}
    assert current.headers["x-supabase-api-version"] == "2024-01-01"
    assert current.headers["x-sb-error-code"] == "invalid_credentials"
    for headers in (
        {},
        {"X-Supabase-Api-Version": "2023-05-01"},
        {"X-Supabase-Api-Version": "soon"},
    ):
        legacy = post(stack, "/token?grant_type=password", json=body, headers=headers)
        assert legacy.status_code == 400
        assert legacy.json() == {
            "code": 400,
            "error_code": "invalid_credentials",
            "msg": "Invalid login credentials",
        }
        assert "x-supabase-api-version" not in legacy.headers


def test_weak_password_carries_reasons_in_both_shapes(stack: Stack) -> None:
    body = {"email": email("weak"), "password": "abc"}
    current = post(stack, "/signup", json=body, headers=VERSION).json()
    assert current["code"] == "weak_password" and current["weak_password"] == {
        "reasons": ["length"]
    }
    legacy = post(stack, "/signup", json=body).json()
    assert legacy["error_code"] == "weak_password" and legacy["code"] == 422


def test_sign_in_with_a_password_below_todays_minimum_warns(stack: Stack) -> None:
    address = email("oldpw")
    # Admins may set any password (GoTrue checks strength on sign-up and change, not here).
    sync_client(stack, stack.service_role_key).auth.admin.create_user(
        {"email": address, "password": "abc123", "email_confirm": True}
    )
    response = post(
        stack, "/token?grant_type=password", json={"email": address, "password": "abc123"}
    )
    assert response.status_code == 200 and response.json()["access_token"]
    assert response.json()["weak_password"] == {
        "message": "Password should be at least 8 characters.",
        "reasons": ["length"],
    }


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"email": "x@example.com", "password": ', "application/json"),
        (b"email=x%40example.com&password=correct-horse-1", "application/x-www-form-urlencoded"),
        (b'{"email": 42, "password": "correct-horse-1"}', "application/json"),
        (b'["not", "an", "object"]', "application/json"),
        (b"", "application/json"),
    ],
)
def test_bodies_that_are_not_the_expected_json_are_bad_json(
    stack: Stack, content: bytes, content_type: str
) -> None:
    before = scalar(stack.db_url, "select count(*) from auth.users")
    response = post(
        stack, "/signup", content=content, headers={**VERSION, "Content-Type": content_type}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_json"
    assert response.json()["message"].startswith("Could not parse request body as JSON: ")
    assert scalar(stack.db_url, "select count(*) from auth.users") == before


def test_bad_json_on_put_user_changes_nothing(stack: Stack) -> None:
    client = sync_client(stack)
    session = client.auth.sign_up(
        {"email": email("putjson"), "password": PASSWORD, "options": {"data": {"a": 1}}}
    ).session
    assert session is not None
    response = _http.put(
        f"{stack.url}/auth/v1/user",
        content=b'{"data": {"a": 2}, "password": 12345678}',
        headers={
            **VERSION,
            "apikey": stack.anon_key,
            "Authorization": f"Bearer {session.access_token}",
        },
    )
    assert (response.status_code, response.json()["code"]) == (400, "bad_json")
    assert (
        scalar(
            stack.db_url,
            "select raw_user_meta_data ->> 'a' from auth.users where id = %s",
            session.user.id,
        )
        == "1"
    )


def test_oversized_body_is_refused_unread(stack: Stack) -> None:
    address = email("huge")
    body = b'{"email": "' + address.encode() + b'", "password": "correct-horse-1", "data": {"x": "'
    body += b"a" * (1 << 20) + b'"}}'
    response = post(stack, "/signup", content=body, headers=VERSION)
    assert response.status_code == 413
    assert response.json()["code"] == "request_entity_too_large"
    assert users_named(stack, address) == 0


def until_limited(send: Callable[[], httpx.Response], most: int = 80) -> list[httpx.Response]:
    """Send until the first 429 (or `most` requests); the bucket refills slowly, so on a busy
    machine a few more than the bucket's size may pass before it runs dry."""
    answers: list[httpx.Response] = []
    while len(answers) < most and (not answers or answers[-1].status_code != 429):
        answers.append(send())
    return answers


def test_token_endpoint_rate_limit_is_per_client_address(stack: Stack) -> None:
    address = client_address()
    answers = until_limited(
        lambda: post(
            stack, "/token?grant_type=password", address=address, content=b"{}", headers=VERSION
        )
    )
    # GoTrue's bucket holds 30 requests and refills at token_refresh (150) per 5 minutes.
    assert [a.status_code for a in answers[:30]] == [400] * 30
    assert answers[-1].status_code == 429 and len(answers) <= 40
    assert answers[-1].json() == {
        "code": "over_request_rate_limit",
        "message": "Request rate limit reached",
    }
    assert post(stack, "/token?grant_type=password", content=b"{}").status_code == 400
    # Without the header GoTrue cannot tell clients apart and does not limit (as under the CLI).
    unforwarded = [
        _http.post(
            f"{stack.url}/auth/v1/token?grant_type=password",
            content=b"{}",
            headers={"apikey": stack.anon_key},
        ).status_code
        for _ in range(40)
    ]
    assert unforwarded == [400] * 40


def test_sign_ups_and_anonymous_sign_ins_are_rate_limited_per_client(stack: Stack) -> None:
    address = client_address()
    weak = {"email": email("flood"), "password": "abc"}
    # The limit applies before validation, so cheap refused sign-ups drain the bucket too.
    answers = until_limited(lambda: post(stack, "/signup", address=address, json=weak))
    assert [a.status_code for a in answers[:30]] == [422] * 30  # sign_in_sign_ups: bucket of 30
    assert answers[-1].status_code == 429 and len(answers) <= 35
    assert post(stack, "/signup", json=weak).status_code == 422  # another client
    anonymous = client_address()
    answers = until_limited(lambda: post(stack, "/signup", address=anonymous, json={}))
    # anonymous_users: 30 per hour, so the bucket does not refill within the test.
    assert [a.status_code for a in answers] == [200] * 30 + [429]


def test_unsupported_grant_and_logout_scope(stack: Stack) -> None:
    response = post(stack, "/token?grant_type=magic", json={}, headers=VERSION)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_credentials")
    client = sync_client(stack)
    session = client.auth.sign_up({"email": email("scope"), "password": PASSWORD}).session
    assert session is not None
    response = post(
        stack,
        "/logout?scope=everywhere",
        headers={**VERSION, "Authorization": f"Bearer {session.access_token}"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")
    response = httpx.get(f"{stack.url}/auth/v1/user", headers=VERSION)
    assert (response.status_code, response.json()["code"]) == (401, "no_authorization")


def test_settings_health_jwks_and_unknown_routes(stack: Stack) -> None:
    settings = httpx.get(f"{stack.url}/auth/v1/settings", headers={"apikey": stack.anon_key}).json()
    assert settings["external"]["email"] is True and settings["external"]["anonymous_users"] is True
    assert settings["disable_signup"] is False and settings["mailer_autoconfirm"] is True
    assert httpx.get(f"{stack.url}/auth/v1/health").json()["name"] == "GoTrue"
    assert httpx.get(f"{stack.url}/auth/v1/.well-known/jwks.json").json() == {"keys": []}
    assert httpx.get(f"{stack.url}/auth/v1/nowhere").status_code == 404
    with pytest.raises(AuthApiError) as excinfo:
        sync_client(stack).auth.reset_password_for_email(email("forgot"))
    assert (excinfo.value.status, excinfo.value.code) == (501, "not_implemented")
    assert httpx.delete(f"{stack.url}/auth/v1/signup").status_code == 405


# -- a gateway with a tighter [auth] ---------------------------------------------------------------


@pytest.fixture(scope="module")
def strict_url(stack: Stack) -> Iterator[str]:
    with gateway_with_auth_config(
        stack,
        refresh_token_reuse_interval=0,
        enable_confirmations=True,
        enable_anonymous_sign_ins=False,
        minimum_password_length=12,
    ) as url:
        yield url


def strict_client(url: str, stack: Stack):  # type: ignore[no-untyped-def]
    options = ClientOptions(auto_refresh_token=False, headers={"X-Forwarded-For": client_address()})
    return create_client(url, stack.anon_key, options=options)


def test_reusing_an_old_refresh_token_revokes_the_whole_session(
    stack: Stack, strict_url: str
) -> None:
    address = email("reuse")
    # Signed up where addresses are confirmed at once, signed in where reuse is never tolerated.
    sync_client(stack).auth.sign_up({"email": address, "password": "long-enough-password"})
    client = strict_client(strict_url, stack)
    first = client.auth.sign_in_with_password(
        {"email": address, "password": "long-enough-password"}
    ).session
    assert first is not None
    second = client.auth.refresh_session(first.refresh_token).session
    assert second is not None
    third = client.auth.refresh_session(second.refresh_token).session
    assert third is not None
    with pytest.raises(AuthApiError) as excinfo:
        strict_client(strict_url, stack).auth.refresh_session(first.refresh_token)
    assert (excinfo.value.status, excinfo.value.code) == (400, "refresh_token_already_used")
    session_id = fetch(
        stack.db_url,
        "select session_id from auth.refresh_tokens where token = %s",
        third.refresh_token,
    )[0][0]
    # Committed although the request failed: every token of the session is revoked.
    assert fetch(
        stack.db_url,
        "select bool_and(revoked) from auth.refresh_tokens where session_id = %s",
        session_id,
    ) == [(True,)]
    with pytest.raises(AuthApiError) as excinfo:
        strict_client(strict_url, stack).auth.refresh_session(third.refresh_token)
    assert excinfo.value.code == "refresh_token_already_used"


def test_within_the_reuse_interval_an_old_token_still_refreshes(stack: Stack) -> None:
    client = sync_client(stack)  # the project's config.toml: 10 s
    first = client.auth.sign_up({"email": email("window"), "password": PASSWORD}).session
    assert first is not None
    second = client.auth.refresh_session(first.refresh_token).session
    assert second is not None
    assert client.auth.refresh_session(second.refresh_token).session is not None
    assert sync_client(stack).auth.refresh_session(first.refresh_token).session is not None


def test_config_toml_drives_password_length_and_anonymous_sign_ins(
    stack: Stack, strict_url: str
) -> None:
    with pytest.raises(AuthWeakPasswordError) as weak:
        strict_client(strict_url, stack).auth.sign_up(
            {"email": email("len"), "password": "ten-chars!"}
        )
    assert "at least 12 characters" in weak.value.message
    with pytest.raises(AuthApiError) as excinfo:
        strict_client(strict_url, stack).auth.sign_in_anonymously()
    assert (excinfo.value.status, excinfo.value.code) == (422, "anonymous_provider_disabled")


def test_with_confirmations_on_sign_up_waits_for_the_email(stack: Stack, strict_url: str) -> None:
    address = email("confirm")
    signed_up = strict_client(strict_url, stack).auth.sign_up(
        {"email": address, "password": "long-enough-password"}
    )
    assert signed_up.session is None and signed_up.user is not None
    assert signed_up.user.confirmation_sent_at is not None
    assert signed_up.user.email_confirmed_at is None
    with pytest.raises(AuthApiError) as excinfo:
        strict_client(strict_url, stack).auth.sign_in_with_password(
            {"email": address, "password": "long-enough-password"}
        )
    assert (excinfo.value.status, excinfo.value.code) == (400, "email_not_confirmed")
    # A registered, confirmed address signing up again gets a look-alike user, not an error,
    # so the answer does not reveal who is registered.
    confirmed = email("known")
    sync_client(stack).auth.sign_up({"email": confirmed, "password": "long-enough-password"})
    again = strict_client(strict_url, stack).auth.sign_up(
        {"email": confirmed, "password": "long-enough-password"}
    )
    assert again.session is None and again.user is not None and again.user.email == confirmed
    real_id = scalar(stack.db_url, "select id::text from auth.users where email = %s", confirmed)
    assert again.user.id != real_id
