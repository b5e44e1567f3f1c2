"""Wire details the clients cannot be made to send: bad input, headers, status codes, OpenAPI."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.stack.rest_data import SCHEMA, USER_A, RestData, rest_fixture  # noqa: F401


def call(
    data: RestData, method: str, path: str, *, token: str | None = None, **kwargs: Any
) -> httpx.Response:
    headers = {
        "apikey": data.stack.service_role_key,
        "Accept-Profile": SCHEMA,
        "Content-Profile": SCHEMA,
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(kwargs.pop("headers", {}))
    return httpx.request(method, f"{data.url}/rest/v1/{path}", headers=headers, **kwargs)


def count_projects(data: RestData) -> int:
    return int(data.sql("select count(*) from rest_fixture.projects")[0][0])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "projects?name=eqq.alpha", {}, 400, "PGRST100"),
        ("GET", "projects?name=alpha", {}, 400, "PGRST100"),
        ("GET", "projects?id=in.1,2", {}, 400, "PGRST100"),
        ("GET", "projects?or=(id.eq.1", {}, 400, "PGRST100"),
        ("GET", "projects?limit=ten", {}, 400, "PGRST100"),
        ("GET", "projects?order=id.sideways", {}, 400, "PGRST100"),
        ("GET", "projects?id=eq.notanumber", {}, 400, "22P02"),
        ("GET", "projects?select=id,tasks(id)&nowhere.id=eq.1", {}, 400, "PGRST108"),
        ("GET", "projects?select=count()", {}, 400, "PGRST123"),
        ("GET", "projects", {"headers": {"Accept": "application/xml"}}, 406, "PGRST107"),
        ("GET", "projects", {"headers": {"Accept-Profile": "private"}}, 406, "PGRST106"),
        (
            "POST",
            "projects",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "PGRST102",
        ),
        (
            "POST",
            "projects",
            {"content": b"<x/>", "headers": {"Content-Type": "application/xml"}},
            415,
            "PGRST107",
        ),
        (
            "POST",
            "projects",
            {"json": [{"name": "k1"}, {"name": "k2", "score": 1}]},
            400,
            "PGRST102",
        ),
        ("POST", "projects", {"json": {"name": "k3", "nope": 1}}, 400, "PGRST204"),
        (
            "POST",
            "projects",
            {"json": {"name": "k4", "owner_id": "aaaaaaaa-0000-4000-8000-00000000dead"}},
            409,
            "23503",
        ),
        (
            "POST",
            "projects",
            {"json": {"owner_id": "aaaaaaaa-0000-4000-8000-000000000001"}},
            400,
            "23502",
        ),
        ("PUT", "projects", {"json": {}}, 405, "PGRST117"),
        (
            "POST",
            "rpc/add",
            {"content": b"[1,", "headers": {"Content-Type": "application/json"}},
            400,
            "PGRST102",
        ),
    ],
)
def test_bad_input_gets_postgrest_status_and_code(
    rest: RestData,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = count_projects(rest)
    response = call(rest, method, path, **kwargs)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert set(response.json()) == {"code", "message", "details", "hint"}
    assert response.headers["proxy-status"] == f"PostgREST; error={code}"
    assert count_projects(rest) == before


def test_oversized_body_is_413_and_writes_nothing(rest: RestData) -> None:
    before = count_projects(rest)
    body = b"[" + b",".join(b'{"name": "%d"}' % i for i in range(700_000)) + b"]"
    response = call(
        rest, "POST", "projects", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "PGRST102"
    assert count_projects(rest) == before


def test_bad_jwt_shapes(rest: RestData) -> None:
    for token, code, message in (
        (rest.expired_token, "PGRST303", "JWT expired"),
        (rest.foreign_token, "PGRST301", "No suitable key or wrong key type"),
    ):
        response = call(rest, "GET", "notes", token=token)
        assert response.status_code == 401
        assert response.json() == {"code": code, "message": message, "details": None, "hint": None}
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_status_codes_and_content_range(rest: RestData) -> None:
    full = call(rest, "GET", "labels?order=id", headers={"Prefer": "count=exact"})
    assert (full.status_code, full.headers["content-range"]) == (200, "0-2/3")
    partial = call(
        rest, "GET", "labels?order=id&limit=1&offset=1", headers={"Prefer": "count=exact"}
    )
    assert (partial.status_code, partial.headers["content-range"]) == (206, "1-1/3")
    ranged = call(rest, "GET", "labels?order=id", headers={"Range": "0-1"})
    assert [r["id"] for r in ranged.json()] == [1, 2]
    assert ranged.headers["content-range"] == "0-1/*"
    beyond = call(rest, "GET", "labels?offset=10", headers={"Prefer": "count=exact"})
    assert (beyond.status_code, beyond.json()["code"]) == (416, "PGRST103")
    empty = call(rest, "GET", "labels?id=eq.99")
    assert (empty.status_code, empty.headers["content-range"], empty.json()) == (200, "*/*", [])


def test_prefer_return_variants_and_rollback(rest: RestData) -> None:
    minimal = call(
        rest,
        "POST",
        "projects",
        json={"name": "pref-min", "owner_id": "aaaaaaaa-0000-4000-8000-000000000001"},
        headers={"Prefer": "return=minimal"},
    )
    assert (minimal.status_code, minimal.content) == (201, b"")
    headers_only = call(
        rest,
        "POST",
        "projects",
        json={"name": "pref-h", "owner_id": "aaaaaaaa-0000-4000-8000-000000000001"},
        headers={"Prefer": "return=headers-only"},
    )
    assert headers_only.status_code == 201
    assert headers_only.headers["location"].startswith("/projects?id=eq.")
    patched = call(rest, "PATCH", "projects?name=eq.pref-min", json={"score": 5})
    assert (patched.status_code, patched.content) == (204, b"")
    represented = call(
        rest,
        "PATCH",
        "projects?name=eq.pref-min",
        json={"score": 6},
        headers={"Prefer": "return=representation"},
    )
    assert represented.status_code == 200 and represented.json()[0]["score"] == 6
    before = count_projects(rest)
    rolled = call(
        rest,
        "POST",
        "projects",
        json={"name": "pref-rb", "owner_id": "aaaaaaaa-0000-4000-8000-000000000001"},
        headers={"Prefer": "return=representation,tx=rollback"},
    )
    assert rolled.status_code == 201 and rolled.json()[0]["name"] == "pref-rb"
    assert "tx=rollback" in rolled.headers["preference-applied"]
    assert count_projects(rest) == before
    too_many = call(
        rest,
        "DELETE",
        "projects?name=like.pref-*",
        headers={"Accept": "application/vnd.pgrst.object+json", "Prefer": "return=representation"},
    )
    assert (too_many.status_code, too_many.json()["code"]) == (406, "PGRST116")
    assert count_projects(rest) == before  # the failed singular delete was rolled back
    assert call(rest, "DELETE", "projects?name=like.pref-*").status_code == 204


def test_rpc_get_head_response_gucs_and_stripped_nulls(rest: RestData) -> None:
    teapot = call(rest, "POST", "rpc/teapot", json={})
    assert (teapot.status_code, teapot.headers["x-brew"], teapot.json()) == (
        418,
        "earl grey",
        "short and stout",
    )
    head = call(rest, "HEAD", "rpc/numbers?n=4", headers={"Prefer": "count=exact"})
    assert (head.status_code, head.content, head.headers["content-range"]) == (200, b"", "0-3/4")
    stripped = call(
        rest,
        "GET",
        "projects?select=name,score&id=eq.2",
        headers={"Accept": "application/vnd.pgrst.array+json;nulls=stripped"},
    )
    assert stripped.json() == [{"name": "apollo"}]
    void = call(rest, "POST", "rpc/rename_project", json={"project": 999, "new_name": "x"})
    assert (void.status_code, void.content) == (204, b"")


def test_openapi_document(rest: RestData) -> None:
    response = call(rest, "GET", "", headers={"Accept": "application/openapi+json"})
    assert response.status_code == 200
    document = response.json()
    assert document["swagger"] == "2.0"
    assert "/projects" in document["paths"] and "/rpc/add" in document["paths"]
    assert document["definitions"]["projects"]["properties"]["score"]["type"] == "number"


def test_schema_cache_reloads_after_ddl(rest: RestData) -> None:
    import time

    rest.sql("create table rest_fixture.late (id int primary key)")
    rest.sql("grant select on rest_fixture.late to service_role")
    try:
        deadline = time.monotonic() + 5
        while call(rest, "GET", "late").status_code == 404:
            assert time.monotonic() < deadline, "the schema cache never saw the new table"
            time.sleep(0.05)
        assert call(rest, "GET", "late").json() == []
    finally:
        rest.sql("drop table rest_fixture.late")


def test_csv_body_insert_and_head(rest: RestData) -> None:
    body = b"name,owner_id,score\ncsv-one,aaaaaaaa-0000-4000-8000-000000000001,NULL\n"
    response = call(
        rest,
        "POST",
        "projects",
        content=body,
        headers={"Content-Type": "text/csv", "Prefer": "return=representation"},
    )
    assert response.status_code == 201, response.text
    assert response.json()[0]["name"] == "csv-one" and response.json()[0]["score"] is None
    head = call(rest, "HEAD", "projects?name=eq.csv-one", headers={"Prefer": "count=exact"})
    assert (head.status_code, head.content, head.headers["content-range"]) == (200, b"", "0-0/1")
    assert call(rest, "DELETE", "projects?name=eq.csv-one").status_code == 204


def test_function_raised_pgrst_error(rest: RestData) -> None:
    response = call(rest, "POST", "rpc/pay_up", json={})
    assert response.status_code == 402
    assert response.headers["x-quota"] == "0"
    assert response.json() == {
        "code": "HALO1",
        "message": "Payment required",
        "details": "quota used",
        "hint": "upgrade",
    }


def test_variadic_function_by_post_and_repeated_get_parameters(rest: RestData) -> None:
    assert call(rest, "POST", "rpc/joined", json={"parts": ["a", "b", "c"]}).json() == "a+b+c"
    assert call(rest, "GET", "rpc/joined?parts=x&parts=y").json() == "x+y"
    assert call(rest, "GET", "rpc/joined?parts=solo").json() == "solo"


def test_volatile_calls_run_as_their_caller_and_leave_pooled_connections_clean(
    rest: RestData,
) -> None:
    # A volatile call runs with session-level settings (it commits with its statement); every
    # later request on the same pooled connections must see only its own role and claims. More
    # rounds than the pool has connections, with failing calls among them.
    for _ in range(25):
        mine = call(rest, "POST", "rpc/caller", json={}, token=rest.token_a)
        assert mine.status_code == 200, mine.text
        assert mine.json().startswith("authenticated ") and str(USER_A) in mine.json()
        failed = call(rest, "POST", "rpc/fail", json={"message": "boom"}, token=rest.token_b)
        assert failed.status_code == 400
        service = call(rest, "GET", "rpc/caller_stable")
        assert service.json().startswith("service_role ") and str(USER_A) not in service.json()
    direct = rest.sql(
        "select count(*) from pg_stat_activity where usename = 'authenticator'"
        " and state = 'idle in transaction'"
    )
    assert direct == [(0,)]


def test_invalid_response_guc_still_rolls_a_volatile_call_back(rest: RestData) -> None:
    bad = call(
        rest, "POST", "rpc/rename_with_bad_status", json={"project": 3, "new_name": "renamed"}
    )
    assert (bad.status_code, bad.json()["code"]) == (500, "PGRST112")
    assert rest.sql("select name from rest_fixture.projects where id = 3") == [("beta",)]
