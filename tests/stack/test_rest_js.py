"""The REST service through supabase-js on Node (tests/js/rest.mjs)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stack.js import run_js
from tests.stack.rest_data import SCHEMA, USER_A, RestData, rest_fixture  # noqa: F401


@pytest.fixture(scope="module")
def results(rest: RestData) -> dict[str, Any]:
    out: dict[str, Any] = run_js(rest.stack, "rest.mjs", SCHEMA, rest.token_a, rest.token_b)
    return out


def test_rls_through_supabase_js(results: dict[str, Any]) -> None:
    assert results["own_rows"]["data"] == [{"name": "alpha"}, {"name": "apollo"}]
    assert results["other_rows"]["data"] == [{"name": "beta"}]
    assert results["anon_notes"]["data"] == [{"body": "hello world"}]
    assert results["anon_projects"]["code"] == "42501"
    assert [r["name"] for r in results["service_all"]["data"]] == ["alpha", "apollo", "beta"]


def test_filters_and_embeds(results: dict[str, Any]) -> None:
    assert results["filters"]["data"] == [{"name": "alpha"}, {"name": "beta"}]
    assert results["or_nested"]["data"] == [{"name": "apollo"}, {"name": "beta"}]
    assert results["text_search"]["data"] == [{"name": "alpha"}, {"name": "beta"}]
    assert results["embed"]["data"] == [
        {
            "name": "alpha",
            "owner": {"name": "Alice"},
            "tasks": [
                {"title": "write spec", "labels": [{"name": "bug"}, {"name": "urgent"}]},
                {"title": "ship it", "labels": [{"name": "feature"}]},
            ],
        }
    ]
    assert results["inner"]["data"] == [{"name": "apollo", "tasks": [{"title": "plan"}]}]
    assert results["ambiguous"]["code"] == "PGRST201" and results["ambiguous"]["status"] == 300


def test_counts_single_csv(results: dict[str, Any]) -> None:
    assert (results["count_range"]["count"], results["count_range"]["status"]) == (3, 206)
    assert results["head_count"]["count"] == 3
    assert results["single"]["data"] == {"name": "alpha"}
    assert (results["single_none"]["code"], results["single_none"]["status"]) == ("PGRST116", 406)
    assert results["maybe_single"]["data"] is None and results["maybe_single"]["code"] is None
    assert results["csv"]["data"] == "id,name\n1,alpha\n2,apollo"


def test_writes(results: dict[str, Any]) -> None:
    assert results["insert"]["status"] == 201
    assert results["insert"]["data"]["owner_id"] == str(USER_A)
    assert (results["insert_minimal"]["status"], results["insert_minimal"]["data"]) == (201, None)
    assert results["update"]["data"] == [{"status": "done"}]
    assert results["bob_update"]["data"] == []
    assert results["bob_insert_forged"]["code"] == "42501"
    assert results["upsert"]["data"] == [{"id": results["insert"]["data"]["id"], "score": 9}]
    assert results["rollback"]["data"] == [{"name": "js-rollback"}]
    assert results["after_rollback"]["data"] == []
    assert sorted(r["name"] for r in results["delete"]["data"]) == ["js-minimal", "js-project"]


def test_rpc(results: dict[str, Any]) -> None:
    assert results["rpc_scalar"]["data"] == 3
    assert results["rpc_get"]["data"] == 6
    assert (results["rpc_set"]["data"], results["rpc_set"]["count"]) == ([2, 3], 4)
    assert results["rpc_table"]["data"] == [{"name": "apollo"}]
    assert results["rpc_head"]["count"] == 3
    assert (results["rpc_missing"]["code"], results["rpc_missing"]["status"]) == ("PGRST202", 404)
    assert (results["bad_schema"]["code"], results["bad_schema"]["status"]) == ("PGRST106", 406)
