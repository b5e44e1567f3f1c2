"""The Auth service's pure parts: GoTrue's error shapes, body decoding, durations, rate limit."""

from __future__ import annotations

import pytest

from halo_supabase.local.gateway.auth.errors import AuthError, render_error, weak_password
from halo_supabase.local.gateway.auth.params import SIGNUP, decode
from halo_supabase.local.gateway.auth.ratelimit import RateLimiter
from halo_supabase.local.gateway.auth.validation import ban_seconds, validate_phone


def test_render_error_picks_the_shape_from_the_version_header() -> None:
    error = AuthError(400, "invalid_credentials", "Invalid login credentials")
    assert render_error(error, "2024-01-01") == (
        {"code": "invalid_credentials", "message": "Invalid login credentials"},
        [("X-Supabase-Api-Version", "2024-01-01"), ("x-sb-error-code", "invalid_credentials")],
    )
    assert render_error(error, "2030-12-31")[0]["code"] == "invalid_credentials"
    for header in (None, "", "2023-12-31", "2024-13-01", "yesterday"):
        body, headers = render_error(error, header)
        assert body == {
            "code": 400,
            "error_code": "invalid_credentials",
            "msg": "Invalid login credentials",
        }
        assert headers == [("x-sb-error-code", "invalid_credentials")]
    body, headers = render_error(weak_password("too short", ["length"]), "2024-01-01")
    assert body["weak_password"] == {"reasons": ["length"]}
    assert headers == [("X-Supabase-Api-Version", "2024-01-01")]


def test_decode_follows_go_json_semantics() -> None:
    params = decode(
        b'{"EMAIL": "a@b.co", "password": null, "extra": [1], "data": {"k": 1}}', SIGNUP
    )
    assert params.text("email") == "a@b.co" and params.text("password") == ""
    assert params.mapping("data") == {"k": 1} and "extra" not in params
    assert decode(b"null", SIGNUP).text("email") == ""
    for raw, detail in (
        (b"", "unexpected end of JSON input"),
        (b'{"email": true}', "SignupParams.email of type string"),
        (b'{"data": "x"}', "SignupParams.data of type map[string]interface {}"),
        (b"[]", "Go value of type api.SignupParams"),
    ):
        with pytest.raises(AuthError) as excinfo:
            decode(raw, SIGNUP)
        assert excinfo.value.code == "bad_json" and detail in excinfo.value.message


def test_go_durations_and_phone_numbers() -> None:
    assert ban_seconds("24h") == 86400 and ban_seconds("1h30m") == 5400
    assert ban_seconds("1.5s") == 1.5 and ban_seconds("none") == 0 and ban_seconds("0") == 0
    for bad in ("", "forever", "10", "5d", "h"):
        with pytest.raises(AuthError):
            ban_seconds(bad)
    assert validate_phone("+1 555 0100 999") == "15550100999"
    with pytest.raises(AuthError):
        validate_phone("+0123")


def test_rate_limiter_refills_per_client() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=0.5, burst=3, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")
    now[0] += 2.0  # one request's worth at 0.5/s
    assert limiter.allow("a") and not limiter.allow("a")
