"""The REST service driven by supabase-py, sync and async: every test runs with both clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from postgrest.exceptions import APIError
from supabase._async.client import create_client as acreate_client

from supabase import ClientOptions, create_client
from tests.stack.rest_data import SCHEMA, USER_A, USER_B, RestData, rest_fixture  # noqa: F401

A, B = str(USER_A), str(USER_B)


class Clients:
    """Makes clients of one flavour (sync or async) and runs their queries to completion."""

    def __init__(self, data: RestData, flavour: str, loop: asyncio.AbstractEventLoop) -> None:
        self.data = data
        self.flavour = flavour
        self.loop = loop

    def client(self, token: str | None = None, *, service: bool = False) -> Any:
        key = self.data.stack.service_role_key if service else self.data.stack.anon_key
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        options = ClientOptions(schema=SCHEMA, headers=headers)
        if self.flavour == "sync":
            return create_client(self.data.url, key, options=options)
        from supabase import AsyncClientOptions

        async_options = AsyncClientOptions(schema=SCHEMA, headers=headers)
        return self.loop.run_until_complete(
            acreate_client(self.data.url, key, options=async_options)
        )

    def run(self, query: Any) -> Any:
        result = query.execute()
        return self.loop.run_until_complete(result) if asyncio.iscoroutine(result) else result

    def error(self, query: Any) -> APIError:
        with pytest.raises(APIError) as caught:
            self.run(query)
        return caught.value


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(params=["sync", "async"])
def clients(
    request: pytest.FixtureRequest, rest: RestData, loop: asyncio.AbstractEventLoop
) -> Clients:
    return Clients(rest, request.param, loop)


@pytest.fixture
def alice(clients: Clients) -> Any:
    return clients.client(clients.data.token_a)


@pytest.fixture
def bob(clients: Clients) -> Any:
    return clients.client(clients.data.token_b)


# -- reading: filters ------------------------------------------------------------------------------


def names(response: Any, key: str = "name") -> list[Any]:
    return [row[key] for row in response.data]


def test_rls_user_sees_only_own_rows(clients: Clients, alice: Any, bob: Any) -> None:
    assert names(clients.run(alice.table("projects").select("name").order("id"))) == [
        "alpha",
        "apollo",
    ]
    assert names(clients.run(bob.table("projects").select("name"))) == ["beta"]


def test_anon_sees_only_what_it_was_granted(clients: Clients) -> None:
    anon = clients.client()
    assert [r["body"] for r in clients.run(anon.table("notes").select("body")).data] == [
        "hello world"
    ]
    error = clients.error(anon.table("projects").select("*"))
    assert error.code == "42501"


def test_service_role_bypasses_rls(clients: Clients) -> None:
    service = clients.client(service=True)
    assert names(clients.run(service.table("projects").select("name").order("id"))) == [
        "alpha",
        "apollo",
        "beta",
    ]


@pytest.mark.parametrize(
    ("apply", "expected"),
    [
        (lambda q: q.eq("name", "alpha"), ["alpha"]),
        (lambda q: q.neq("name", "alpha"), ["apollo", "beta"]),
        (lambda q: q.gt("score", 7), ["alpha"]),
        (lambda q: q.gte("score", 7), ["alpha", "beta"]),
        (lambda q: q.lt("score", 10), ["beta"]),
        (lambda q: q.lte("score", 10), ["alpha", "beta"]),
        (lambda q: q.like("name", "a*"), ["alpha", "apollo"]),
        (lambda q: q.ilike("name", "%LP%"), ["alpha"]),
        (lambda q: q.filter("name", "match", "^a.*o$"), ["apollo"]),
        (lambda q: q.filter("name", "imatch", "^B"), ["beta"]),
        (lambda q: q.in_("name", ["alpha", "beta", "x,y"]), ["alpha", "beta"]),
        (lambda q: q.is_("score", "null"), ["apollo"]),
        (lambda q: q.not_.is_("score", "null"), ["alpha", "beta"]),
        (lambda q: q.filter("score", "isdistinct", 10), ["apollo", "beta"]),
        (lambda q: q.text_search("search", "alpha"), ["alpha"]),
        (
            lambda q: q.text_search(
                "name", "apollo", options={"config": "english", "type": "plain"}
            ),
            ["apollo"],
        ),
        (
            lambda q: q.text_search("name", "alpha or beta", options={"type": "web_search"}),
            ["alpha", "beta"],
        ),
        (lambda q: q.text_search("name", "beta", options={"type": "phrase"}), ["beta"]),
        (lambda q: q.contains("period", "[2,3)"), ["alpha"]),
        (lambda q: q.contained_by("period", "[0,100)"), ["alpha", "apollo", "beta"]),
        (lambda q: q.overlaps("period", "[4,9)"), ["alpha", "beta"]),
        (lambda q: q.range_lt("period", (9, 11)), ["alpha", "beta"]),
        (lambda q: q.range_gt("period", (0, 9)), ["apollo"]),
        (lambda q: q.range_gte("period", (1, 9)), ["apollo", "beta"]),
        (lambda q: q.range_lte("period", (0, 6)), ["alpha"]),
        (lambda q: q.range_adjacent("period", (4, 10)), ["alpha", "apollo"]),
        (lambda q: q.or_("score.gt.8,name.eq.beta"), ["alpha", "beta"]),
        (lambda q: q.or_("name.eq.apollo,and(score.gte.7,score.lte.7)"), ["apollo", "beta"]),
        (lambda q: q.filter("name", "like(any)", "{al*,be*}"), ["alpha", "beta"]),
        (lambda q: q.filter("name", "not.in", '("alpha","apollo")'), ["beta"]),
        (lambda q: q.match({"status": "open", "name": "beta"}), ["beta"]),
        (lambda q: q.filter("name", "eq(any)", "{alpha,beta}"), ["alpha", "beta"]),
    ],
)
def test_filter_operators(
    clients: Clients, apply: Callable[[Any], Any], expected: list[str]
) -> None:
    service = clients.client(service=True)
    assert (
        names(clients.run(apply(service.table("projects").select("name")).order("name")))
        == expected
    )


def test_array_and_json_filters(clients: Clients, alice: Any) -> None:
    assert names(
        clients.run(alice.table("profiles").select("name").contains("tags", ["admin"]))
    ) == ["Alice"]
    assert names(
        clients.run(alice.table("profiles").select("name").overlaps("tags", ["dev"]).order("name"))
    ) == ["Alice", "Bob"]
    assert names(clients.run(alice.table("profiles").select("name").eq("data->>city", "Oslo"))) == [
        "Bob"
    ]
    assert names(
        clients.run(alice.table("profiles").select("name").contains("data", {"city": "Paris"}))
    ) == ["Alice"]


# -- reading: select, embeds, order, paging, counts ----------------------------------------------


def test_select_renames_casts_and_json_paths(clients: Clients, alice: Any) -> None:
    row = clients.run(
        alice.table("profiles")
        .select("who:name,age::text,city:data->>city,data->langs->0")
        .eq("id", A)
        .single()
    ).data
    assert row == {"who": "Alice", "age": "30", "city": "Paris", "0": "fr"}


def test_embeds_every_cardinality(clients: Clients, alice: Any) -> None:
    rows = clients.run(
        alice.table("projects")
        .select("name, owner:profiles(name), tasks(title, labels(name))")
        .order("id")
        .order("id", foreign_table="tasks")
        .order("name", foreign_table="tasks.labels")
    ).data
    assert rows[0] == {
        "name": "alpha",
        "owner": {"name": "Alice"},
        "tasks": [
            {"title": "write spec", "labels": [{"name": "bug"}, {"name": "urgent"}]},
            {"title": "ship it", "labels": [{"name": "feature"}]},
        ],
    }
    assert rows[1]["tasks"] == [{"title": "plan", "labels": []}]


def test_embed_hints_inner_filters_limits(clients: Clients, alice: Any) -> None:
    rows = clients.run(
        alice.table("tasks")
        .select(
            "title, assignee:profiles!assignee_id(name), reviewer:profiles!tasks_reviewer_id_fkey(name)"
        )
        .eq("id", 1)
    ).data
    assert rows == [
        {"title": "write spec", "assignee": {"name": "Alice"}, "reviewer": {"name": "Bob"}}
    ]
    inner = clients.run(
        alice.table("projects").select("name, tasks!inner(title)").eq("tasks.done", True)
    ).data
    assert inner == [{"name": "alpha", "tasks": [{"title": "write spec"}]}]
    limited = clients.run(
        alice.table("projects")
        .select("name, tasks(title)")
        .eq("id", 1)
        .order("position", foreign_table="tasks", desc=True, nullsfirst=False)
        .limit(1, foreign_table="tasks")
    ).data
    assert limited == [{"name": "alpha", "tasks": [{"title": "write spec"}]}]
    present = clients.run(
        alice.table("projects").select("name, tasks(id)").not_.is_("tasks", "null")
    ).data
    assert [r["name"] for r in present] == ["alpha", "apollo"]


def test_ambiguous_embed_is_300_pgrst201(clients: Clients, alice: Any) -> None:
    error = clients.error(alice.table("tasks").select("title, profiles(name)"))
    assert error.code == "PGRST201"
    assert len(error.details) == 2  # type: ignore[arg-type]


def test_unknown_relation_and_column(clients: Clients, alice: Any) -> None:
    assert clients.error(alice.table("projects").select("name, nowhere(*)")).code == "PGRST200"
    assert clients.error(alice.table("projects").select("nope")).code == "42703"
    assert clients.error(alice.table("projects").select("*").eq("nope", 1)).code == "42703"
    assert clients.error(alice.table("no_such_table").select("*")).code == "PGRST205"


def test_view_embeds_through_base_table_keys_and_spread(clients: Clients, alice: Any) -> None:
    rows = clients.run(
        alice.table("project_cards").select("title, profiles(name)").order("id")
    ).data
    assert rows == [
        {"title": "alpha", "profiles": {"name": "Alice"}},
        {"title": "apollo", "profiles": {"name": "Alice"}},
    ]
    spread = clients.run(
        alice.table("tasks").select("title, ...projects(project:name)").eq("id", 2)
    ).data
    assert spread == [{"title": "ship it", "project": "alpha"}]


def test_order_nulls_and_paging_with_counts(clients: Clients) -> None:
    service = clients.client(service=True)
    ordered = clients.run(
        service.table("tasks").select("id").order("position", nullsfirst=True).order("id")
    )
    assert [r["id"] for r in ordered.data][:1] == [3]
    page = clients.run(service.table("tasks").select("id", count="exact").order("id").range(1, 2))
    assert [r["id"] for r in page.data] == [2, 3]
    assert page.count >= 4
    head = clients.run(service.table("tasks").select("*", count="exact", head=True))
    assert head.count == page.count
    planned = clients.run(service.table("tasks").select("id", count="planned").limit(1))
    assert isinstance(planned.count, int)
    estimated = clients.run(service.table("tasks").select("id", count="estimated").limit(1))
    assert estimated.count == page.count


def test_single_and_maybe_single(clients: Clients, alice: Any) -> None:
    assert clients.run(alice.table("projects").select("name").eq("id", 1).single()).data == {
        "name": "alpha"
    }
    error = clients.error(alice.table("projects").select("name").single())
    assert error.code == "PGRST116"
    assert clients.run(alice.table("projects").select("name").eq("id", 3).maybe_single()) is None


def test_csv(clients: Clients, alice: Any) -> None:
    text = clients.run(alice.table("projects").select("id,name").order("id").csv()).data
    assert text == "id,name\n1,alpha\n2,apollo"


# -- writing ---------------------------------------------------------------------------------------


def test_insert_update_delete_round_trip(clients: Clients, alice: Any) -> None:
    created = clients.run(
        alice.table("projects").insert({"name": f"w-{clients.flavour}", "score": 1})
    ).data
    assert created[0]["owner_id"] == A and created[0]["status"] == "open"
    project = created[0]["id"]
    updated = clients.run(alice.table("projects").update({"status": "done"}).eq("id", project)).data
    assert updated == [{**created[0], "status": "done"}]
    deleted = clients.run(alice.table("projects").delete().eq("id", project)).data
    assert deleted[0]["id"] == project
    assert clients.run(alice.table("projects").select("id").eq("id", project)).data == []


def test_bulk_insert_missing_default_and_minimal(clients: Clients, alice: Any) -> None:
    rows = [{"name": f"b1-{clients.flavour}", "score": 3}, {"name": f"b2-{clients.flavour}"}]
    created = clients.run(alice.table("projects").insert(rows, default_to_null=False)).data
    assert [r["status"] for r in created] == ["open", "open"]
    assert created[1]["score"] is None
    minimal = clients.run(
        alice.table("projects").insert({"name": f"m-{clients.flavour}"}, returning="minimal")
    )
    assert minimal.data == []
    clients.run(alice.table("projects").delete().like("name", f"*-{clients.flavour}"))


def test_upsert_merge_and_ignore(clients: Clients, alice: Any) -> None:
    name = f"u-{clients.flavour}"
    first = clients.run(
        alice.table("projects").upsert(
            {"owner_id": A, "name": name, "score": 1}, on_conflict="owner_id,name"
        )
    ).data
    second = clients.run(
        alice.table("projects").upsert(
            {"owner_id": A, "name": name, "score": 2}, on_conflict="owner_id,name"
        )
    ).data
    assert first[0]["id"] == second[0]["id"] and second[0]["score"] == 2
    ignored = clients.run(
        alice.table("projects").upsert(
            {"owner_id": A, "name": name, "score": 9},
            on_conflict="owner_id,name",
            ignore_duplicates=True,
        )
    ).data
    assert ignored == []
    clients.run(alice.table("projects").delete().eq("name", name))


def test_user_cannot_write_other_users_rows(clients: Clients, bob: Any) -> None:
    assert clients.run(bob.table("projects").update({"name": "hacked"}).eq("id", 1)).data == []
    assert clients.run(bob.table("projects").delete().eq("id", 1)).data == []
    error = clients.error(bob.table("projects").insert({"owner_id": A, "name": "forged"}))
    assert error.code == "42501"
    service = clients.client(service=True)
    assert clients.run(service.table("projects").select("name").eq("id", 1).single()).data == {
        "name": "alpha"
    }


def test_write_errors_write_nothing(clients: Clients, alice: Any) -> None:
    name = f"dup-{clients.flavour}"
    error = clients.error(alice.table("projects").insert([{"name": name}, {"name": name}]))
    assert error.code == "23505"
    assert (
        clients.error(alice.table("projects").insert({"name": "x", "nope": 1})).code == "PGRST204"
    )
    assert clients.run(alice.table("projects").select("id").eq("name", name)).data == []


# -- functions -------------------------------------------------------------------------------------


def test_rpc_scalar_set_table_and_void(clients: Clients, alice: Any) -> None:
    assert clients.run(alice.rpc("add", {"a": 2, "b": 3})).data == 5
    assert clients.run(alice.rpc("add", {"a": 2})).data == 3
    assert clients.run(alice.rpc("add", {"a": 2, "b": 5}, get=True)).data == 7
    assert clients.run(alice.rpc("numbers", {"n": 3})).data == [1, 2, 3]
    assert clients.run(alice.rpc("whoami")).data == A
    projects = clients.run(
        alice.rpc("projects_of", {"owner": A}).select("name").eq("name", "apollo")
    ).data
    assert projects == [{"name": "apollo"}]
    assert clients.run(alice.rpc("project_names", {"prefix": "a"}).order("id", desc=True)).data == [
        {"id": 2, "name": "apollo"},
        {"id": 1, "name": "alpha"},
    ]
    assert clients.run(alice.rpc("echo", {"payload": {"k": [1, 2]}})).data == {"k": [1, 2]}
    assert clients.run(alice.rpc("echo_body", {"whole": True})).data == {"whole": True}
    assert clients.run(alice.rpc("sum_all", {"vals": [1, 2, 3]}, get=True)).data == 6
    assert clients.run(alice.rpc("sum_all", {"vals": [1, 2, 3]})).data == 6
    counted = clients.run(alice.rpc("numbers", {"n": 5}, count="exact").limit(2))
    assert counted.data == [1, 2] and counted.count == 5


def test_rpc_errors(clients: Clients, alice: Any) -> None:
    assert clients.error(alice.rpc("missing_fn", {})).code == "PGRST202"
    assert clients.error(alice.rpc("add", {"z": 1})).code == "PGRST202"
    error = clients.error(alice.rpc("fail", {"message": "boom"}))
    assert (error.code, error.message) == ("P0001", "boom")
    assert (
        clients.error(alice.rpc("rename_project", {"project": 1, "new_name": "x"}, get=True)).code
        == "25006"
    )


def test_rpc_void_changes_only_own_rows(clients: Clients, bob: Any) -> None:
    clients.run(bob.rpc("rename_project", {"project": 1, "new_name": "stolen"}))
    service = clients.client(service=True)
    assert clients.run(service.table("projects").select("name").eq("id", 1).single()).data == {
        "name": "alpha"
    }


def test_schema_switch_and_unknown_schema(clients: Clients, alice: Any) -> None:
    assert clients.run(alice.schema(SCHEMA).table("labels").select("name").eq("id", 1)).data == [
        {"name": "bug"}
    ]
    assert clients.error(alice.schema("secret").table("labels").select("*")).code == "PGRST106"


def test_bad_jwts_are_401(clients: Clients) -> None:
    for token, code in (
        (clients.data.expired_token, "PGRST303"),
        (clients.data.foreign_token, "PGRST301"),
        ("not-a-jwt", "PGRST301"),
    ):
        error = clients.error(clients.client(token).table("notes").select("*"))
        assert error.code == code


def test_order_by_to_one_embed_and_to_many_spread(clients: Clients, alice: Any) -> None:
    rows = clients.run(
        alice.table("tasks")
        .select("id, project:projects(name)")
        .order("project(name)", desc=True)
        .order("id")
    ).data
    assert [r["project"]["name"] for r in rows] == ["apollo", "alpha", "alpha"]
    spread = clients.run(alice.table("projects").select("name, ...tasks(title)").eq("id", 1)).data
    assert spread == [{"name": "alpha", "title": ["write spec", "ship it"]}]


def test_rpc_results_embed_like_tables(clients: Clients, alice: Any) -> None:
    rows = clients.run(
        alice.rpc("projects_of", {"owner": A}).select("name, tasks(title)").eq("id", 2)
    ).data
    assert rows == [{"name": "apollo", "tasks": [{"title": "plan"}]}]


def test_unfiltered_update_and_delete_are_refused(clients: Clients, alice: Any) -> None:
    assert clients.error(alice.table("projects").delete()).code == "21000"
    assert clients.error(alice.table("projects").update({"status": "x"})).code == "21000"
    assert len(clients.run(alice.table("projects").select("id")).data) == 2


def test_max_affected_rolls_back(clients: Clients, alice: Any) -> None:
    error = clients.error(
        alice.table("projects").update({"status": "bulk"}).in_("id", [1, 2]).max_affected(1)
    )
    assert error.code == "PGRST124"
    statuses = clients.run(alice.table("projects").select("status").in_("id", [1, 2])).data
    assert statuses == [{"status": "open"}, {"status": "open"}]


def test_view_on_view_with_quoted_columns_embeds(clients: Clients, alice: Any) -> None:
    rows = clients.run(
        alice.table("project labels")
        .select("title, profiles(name), tasks(title)")
        .eq("project id", 2)
    ).data
    assert rows == [
        {"title": "apollo", "profiles": {"name": "Alice"}, "tasks": [{"title": "plan"}]}
    ]


def test_jwt_with_unknown_role_is_401(clients: Clients) -> None:
    import time

    from halo_supabase.local.gateway.credentials import TokenService
    from halo_supabase.settings import load_settings

    token = TokenService(load_settings()).sign({"role": "nobody", "exp": int(time.time()) + 60})
    error = clients.error(clients.client(token).table("notes").select("*"))
    assert error.code == "22023"


def test_minimal_insert_needs_no_select_policy(clients: Clients, alice: Any) -> None:
    minimal = clients.run(alice.table("feedback").insert({"body": "nice"}, returning="minimal"))
    assert minimal.data == []
    assert clients.error(alice.table("feedback").insert({"body": "again"})).code == "42501"
    service = clients.client(service=True)
    bodies = [r["body"] for r in clients.run(service.table("feedback").select("body")).data]
    assert "nice" in bodies and "again" not in bodies


def test_related_order_needs_a_to_one_embed(clients: Clients, alice: Any) -> None:
    error = clients.error(
        alice.table("projects").select("name, tasks(title)").order("tasks(title)")
    )
    assert error.code == "PGRST118"
