"""The gateway's own surface: health, routing, CORS as browsers need it."""

from __future__ import annotations

import httpx

from tests.stack.conftest import Stack


def test_health(stack: Stack) -> None:
    response = httpx.get(f"{stack.url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_route_is_a_json_404(stack: Stack) -> None:
    response = httpx.get(f"{stack.url}/nowhere/v1/x")
    assert response.status_code == 404
    assert response.json() == {"message": "no Route matched with those values"}


def test_cors_preflight_echoes_requested_headers(stack: Stack) -> None:
    response = httpx.options(
        f"{stack.url}/rest/v1/anything",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-client-info, apikey, content-type, prefer",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "prefer" in response.headers["access-control-allow-headers"]
    assert "POST" in response.headers["access-control-allow-methods"]


def test_responses_expose_content_range_to_browsers(stack: Stack) -> None:
    response = httpx.get(f"{stack.url}/health", headers={"Origin": "http://localhost:3000"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "Content-Range" in response.headers["access-control-expose-headers"]
