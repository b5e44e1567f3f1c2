from __future__ import annotations

import time

import pytest

from halo_supabase.local.gateway.credentials import CredentialsError, Problem, TokenService
from halo_supabase.settings import (
    LOCAL_ANON_KEY,
    LOCAL_PUBLISHABLE_KEY,
    LOCAL_SECRET_KEY,
    LOCAL_SERVICE_ROLE_KEY,
    load_settings,
)


@pytest.fixture
def tokens() -> TokenService:
    return TokenService(load_settings(_env_file=None))


def test_demo_keys_verify_with_the_demo_secret(tokens: TokenService) -> None:
    assert tokens.decode(LOCAL_ANON_KEY)["role"] == "anon"
    assert tokens.decode(LOCAL_SERVICE_ROLE_KEY)["role"] == "service_role"


def test_user_token_wins_over_the_apikey(tokens: TokenService) -> None:
    user = tokens.sign({"sub": "u1", "role": "authenticated", "exp": int(time.time()) + 60})
    credentials = tokens.resolve({"apikey": LOCAL_ANON_KEY, "authorization": f"Bearer {user}"})
    assert credentials.role == "authenticated"
    assert credentials.user_id == "u1"


def test_opaque_keys_map_to_their_jwts(tokens: TokenService) -> None:
    assert tokens.resolve({"apikey": LOCAL_SECRET_KEY}).role == "service_role"
    assert (
        tokens.resolve(
            {"apikey": LOCAL_PUBLISHABLE_KEY, "authorization": f"Bearer {LOCAL_PUBLISHABLE_KEY}"}
        ).role
        == "anon"
    )
    with pytest.raises(CredentialsError) as caught:
        tokens.resolve({"apikey": "sb_secret_not_ours"})
    assert caught.value.problem is Problem.UNKNOWN_KEY


def test_no_credentials_act_as_anon(tokens: TokenService) -> None:
    credentials = tokens.resolve({})
    assert credentials.role == "anon" and credentials.token is None


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("not-a-jwt", Problem.MALFORMED),
        (LOCAL_ANON_KEY[:-4] + "AAAA", Problem.BAD_SIGNATURE),
    ],
)
def test_bad_tokens_say_why(tokens: TokenService, token: str, problem: Problem) -> None:
    with pytest.raises(CredentialsError) as caught:
        tokens.resolve({"authorization": f"Bearer {token}"})
    assert caught.value.problem is problem


def test_expired_token(tokens: TokenService) -> None:
    expired = tokens.sign({"role": "authenticated", "exp": int(time.time()) - 5})
    with pytest.raises(CredentialsError, match="JWT expired") as caught:
        tokens.resolve({"authorization": f"Bearer {expired}"})
    assert caught.value.problem is Problem.EXPIRED
