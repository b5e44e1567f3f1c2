"""Edge Functions through supabase-py (sync and async) against real Deno workers."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from deno import find_deno_bin
from supabase_functions.errors import FunctionsHttpError

from halo_supabase.settings import LOCAL_PUBLISHABLE_KEY
from supabase import acreate_client, create_client
from tests.conftest import REPO
from tests.stack.conftest import FUNCTIONS_FIXTURE, Stack
from tests.stack.storage_fixture import (
    StorageWorld,
    client_as,
    storage_world_fixture,  # noqa: F401  (registers the session fixture)
    user_token,
)


@pytest.fixture(scope="module")
def functions(stack: Stack) -> Stack:
    """The stack with the echo worker booted (its first start downloads npm packages, longer
    than the clients' 5 s default timeout)."""
    response = httpx.post(
        f"{stack.url}/functions/v1/echo",
        headers={"Authorization": f"Bearer {stack.anon_key}"},
        json={},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    return stack


def test_invoke_forwards_body_headers_and_environment(functions: Stack) -> None:
    client = create_client(functions.url, functions.anon_key)
    data = client.functions.invoke(
        "echo",
        {"body": {"name": "Ada"}, "headers": {"x-custom": "kept"}, "responseType": "json"},
    )
    assert isinstance(data, dict)
    assert data["greeting"] == "Hello, Ada!"
    assert (data["method"], data["path"], data["custom"]) == ("POST", "/echo", "kept")
    assert data["contentType"] == "application/json"
    assert data["authorization"] == "Bearer eyJ"
    assert data["env"] == {
        "url": functions.url,
        "anon": True,
        "service": True,
        "db": True,
        "secret": "from-dotenv",
    }


def test_sub_paths_queries_and_methods_reach_the_function(functions: Stack) -> None:
    response = httpx.get(
        f"{functions.url}/functions/v1/echo/deep/path?x=1&y=two%20words",
        headers={"apikey": functions.anon_key},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["method"], body["path"], body["query"]) == (
        "GET",
        "/echo/deep/path",
        "?x=1&y=two%20words",
    )
    assert response.headers["x-fixture"] == "echo"
    client = create_client(functions.url, functions.anon_key)
    data = client.functions.invoke(
        "echo?q=1", {"method": "PUT", "body": "plain", "responseType": "json"}
    )
    assert isinstance(data, dict)
    assert (data["method"], data["query"], data["contentType"]) == ("PUT", "?q=1", "text/plain")


def test_bodies_stream_both_ways(functions: Stack) -> None:
    url = f"{functions.url}/functions/v1/echo/stream"
    arrivals = []
    with httpx.stream("GET", url, headers={"apikey": functions.anon_key}) as response:
        for chunk in response.iter_raw():
            arrivals.append((time.monotonic(), chunk))
    assert b"".join(chunk for _, chunk in arrivals) == b"one\ntwo\nthree\n"
    assert len(arrivals) >= 2 and arrivals[-1][0] - arrivals[0][0] > 0.05

    def upload() -> Iterator[bytes]:
        yield b'{"name": '
        yield b'"Streamed"}'

    response = httpx.post(
        f"{functions.url}/functions/v1/echo",
        headers={"apikey": functions.anon_key, "content-type": "application/json"},
        content=upload(),
    )
    assert response.json()["greeting"] == "Hello, Streamed!"


def test_verify_jwt_as_the_edge_runtime_answers(functions: Stack) -> None:
    url = f"{functions.url}/functions/v1/echo"
    missing = httpx.post(url)
    assert (missing.status_code, missing.json()) == (
        401,
        {"msg": "Error: Missing authorization header"},
    )
    forged = user_token(str(uuid.uuid4()), secret="not-the-project-secret-but-long-enough")
    bad = httpx.post(url, headers={"Authorization": f"Bearer {forged}"})
    assert (bad.status_code, bad.json()) == (401, {"msg": "Invalid JWT"})
    basic = httpx.post(url, headers={"Authorization": "Basic abc"})
    assert basic.json() == {"msg": "Error: Auth header is not 'Bearer {token}'"}
    with pytest.raises(FunctionsHttpError):
        client_as(functions, forged).functions.invoke("echo", {"body": {}})
    # verify_jwt = false in config.toml: no token needed, and the function sees none.
    open_ = httpx.get(f"{functions.url}/functions/v1/open", timeout=60)
    assert (open_.status_code, open_.json()) == (200, {"open": True, "authorization": None})
    # Preflights never need a token.
    assert httpx.options(url).status_code != 401


def test_opaque_publishable_key_stands_for_the_anon_jwt(functions: Stack) -> None:
    response = httpx.post(
        f"{functions.url}/functions/v1/echo",
        headers={
            "apikey": LOCAL_PUBLISHABLE_KEY,
            "Authorization": f"Bearer {LOCAL_PUBLISHABLE_KEY}",
        },
        json={"name": "Opaque"},
    )
    assert response.status_code == 200
    assert response.json()["authorization"] == "Bearer eyJ"  # rewritten to the anon JWT
    unknown = httpx.post(
        f"{functions.url}/functions/v1/echo", headers={"apikey": "sb_publishable_not_ours"}
    )
    assert (unknown.status_code, unknown.json()) == (401, {"msg": "Invalid JWT"})


def test_unknown_disabled_and_shared_folders_are_not_functions(functions: Stack) -> None:
    for name in ("nope", "disabled", "_shared", "echo%2e%2e"):
        response = httpx.post(
            f"{functions.url}/functions/v1/{name}", headers={"apikey": functions.anon_key}
        )
        assert (response.status_code, response.text) == (404, "Function not found")


def test_failures_are_5xx_and_the_gateway_keeps_serving(functions: Stack) -> None:
    headers = {"apikey": functions.anon_key}
    boot = httpx.get(f"{functions.url}/functions/v1/broken", headers=headers, timeout=60)
    assert (boot.status_code, boot.json()["code"]) == (503, "BOOT_ERROR")
    thrown = httpx.get(f"{functions.url}/functions/v1/echo/throw", headers=headers)
    assert (thrown.status_code, thrown.json()["code"]) == (500, "WORKER_ERROR")
    crashed = httpx.get(f"{functions.url}/functions/v1/echo/crash", headers=headers)
    assert (crashed.status_code, crashed.json()["code"]) == (500, "WORKER_ERROR")
    again = httpx.post(f"{functions.url}/functions/v1/echo", headers=headers, json={}, timeout=60)
    assert again.status_code == 200
    assert httpx.get(f"{functions.url}/health").status_code == 200


def test_editing_a_function_reloads_it(functions: Stack) -> None:
    folder = FUNCTIONS_FIXTURE / f"reload-{uuid.uuid4().hex[:8]}"
    try:
        folder.mkdir()
        source = 'Deno.serve(() => new Response("VERSION"));\n'
        (folder / "index.ts").write_text(source.replace("VERSION", "first"))
        url = f"{functions.url}/functions/v1/{folder.name}"
        headers = {"apikey": functions.anon_key}

        async def cold_burst() -> list[str]:
            # Eight first calls at once share one worker start (the per-function lock).
            async with httpx.AsyncClient(timeout=60) as client:
                calls = [client.get(url, headers=headers) for _ in range(8)]
                return [response.text for response in await asyncio.gather(*calls)]

        assert asyncio.run(cold_burst()) == ["first"] * 8
        (folder / "index.ts").write_text(source.replace("VERSION", "second"))
        assert httpx.get(url, headers=headers, timeout=60).text == "second"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_functions_call_back_into_the_stack_as_the_caller(
    functions: Stack, storage_world: StorageWorld
) -> None:
    as_user = client_as(functions, storage_world.token_a)
    seen = as_user.functions.invoke("echo/whoami", {"responseType": "json"})
    assert isinstance(seen, dict) and "sf-private" in seen["buckets"]
    as_anon = create_client(functions.url, functions.anon_key)
    assert as_anon.functions.invoke("echo/whoami", {"responseType": "json"}) == {
        "buckets": [],
        "error": None,
    }


async def test_async_client_invokes(functions: Stack) -> None:
    client = await acreate_client(functions.url, functions.anon_key)
    data = await client.functions.invoke(
        "echo", {"body": {"name": "Async"}, "responseType": "json"}
    )
    assert isinstance(data, dict) and data["greeting"] == "Hello, Async!"
    with pytest.raises(FunctionsHttpError):
        await client.functions.invoke("nope", {"body": {}})


def test_deno_tests_pass() -> None:
    """`deno test` over the project's functions and the fixture functions (their pure logic)."""
    roots = [p for p in (REPO / "supabase" / "functions", FUNCTIONS_FIXTURE) if p.is_dir()]
    done = subprocess.run(
        [find_deno_bin(), "test", "--allow-all", "--no-prompt", *map(str, roots)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "DENO_DIR": str(REPO / ".halo" / "deno"), "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "greeting names the caller ... ok" in done.stdout
