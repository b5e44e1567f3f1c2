"""Auth through supabase-js 2.109 on Node: the browser client maps our answers to its error
classes and session handling exactly as it does against Supabase."""

from __future__ import annotations

import uuid

from tests.stack.auth_support import client_address, install_signup_trigger, scalar
from tests.stack.conftest import Stack
from tests.stack.js import run_js


def test_supabase_js_auth_flows(stack: Stack) -> None:
    install_signup_trigger(stack.db_url)
    prefix = f"js-{uuid.uuid4().hex[:8]}"
    out = run_js(stack, "auth.mjs", client_address(), prefix)

    assert out["signUp"] == {
        "error": None,
        "hasSession": True,
        "metadata": {"full_name": "Lin", "email_verified": True},
    }
    claims = out["claims"]
    assert claims["aud"] == "authenticated" and claims["role"] == "authenticated"
    assert claims["iss"] == f"{stack.url}/auth/v1" and claims["amr"][0]["method"] == "password"
    assert (
        scalar(
            stack.db_url,
            "select full_name from auth_fixture.signups where user_id = %s",
            claims["sub"],
        )
        == "Lin"
    )

    assert out["repeatedSignUp"] == {
        "name": "AuthApiError",
        "status": 422,
        "code": "user_already_exists",
    }
    assert out["weakPassword"] == {
        "name": "AuthWeakPasswordError",
        "status": 422,
        "code": "weak_password",
        "reasons": ["length"],
    }
    assert out["signIn"] == {"error": None, "userId": claims["sub"]}
    assert out["wrongPassword"] == {
        "name": "AuthApiError",
        "status": 400,
        "code": "invalid_credentials",
    }
    assert out["refresh"] == {"error": None, "rotated": True}
    assert out["getUser"]["error"] is None and out["getUser"]["email"].startswith(prefix)
    assert out["updateUser"] == {"error": None, "team": "billing"}
    assert out["forgedToken"] == {"name": "AuthApiError", "status": 403, "code": "bad_jwt"}
    assert out["anonymous"] == {"error": None, "isAnonymous": True}
    assert out["anonAdmin"] == {"name": "AuthApiError", "status": 403, "code": "not_admin"}
    listed = out["adminList"]
    assert listed["error"] is None and listed["count"] == 1
    assert listed["total"] >= 2 and listed["nextPage"] == 2
    # supabase-js keeps only the first digit of each page number in `Link` (its own parser, the
    # same against GoTrue); with one user per page the last page is the total.
    assert listed["lastPage"] == int(str(listed["total"])[0])
    assert out["adminCreate"] == {"error": None, "confirmed": True}
    assert out["adminDelete"] is None
    assert out["signOut"] is None
    assert out["refreshAfterSignOut"] == {
        "name": "AuthApiError",
        "status": 400,
        "code": "refresh_token_not_found",
    }
