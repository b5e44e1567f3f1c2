"""PostgREST's query-string grammar, parsed without a database."""

from __future__ import annotations

import pytest

from halo_supabase.local.gateway.rest.errors import ApiError
from halo_supabase.local.gateway.rest.query_string import (
    Column,
    Embed,
    Field,
    Filter,
    Logic,
    OrderTerm,
    add_filters,
    parse_query,
    parse_select,
)


def test_select_aliases_casts_json_paths_and_embeds() -> None:
    items = parse_select(
        "id,who:name,age::text,city:data->>city,data->a->0,author:profiles!fk!inner(name),...tags(*)"
    )
    assert items[:5] == (
        Column(Field("id")),
        Column(Field("name"), "who"),
        Column(Field("age"), None, "text"),
        Column(Field("data", (("->>", "city"),)), "city"),
        Column(Field("data", (("->", "a"), ("->", "0")))),
    )
    assert items[5] == Embed("profiles", "author", "fk", "inner", False, (Column(Field("name")),))
    assert items[6] == Embed("tags", None, None, None, True, ("*",))
    assert items[4].key == "0"  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", ["count()", "id.sum()"])
def test_aggregates_are_refused(bad: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_select(bad)
    assert caught.value.code == "PGRST123"


def test_filters_logic_order_and_paging() -> None:
    params = parse_query(
        [
            ("select", "*"),
            ("or", '(a.eq.1,and(b.gt.2,c.in.("x,y",z)),not.or(d.is.null))'),
            ("tasks.order", "position.desc.nullslast,id"),
            ("order", "project(name).desc"),
            ("limit", "5"),
            ("tasks.offset", "2"),
            ("name", "not.ilike.*a*"),
            ("tags", "cs.{a,b}"),
            ("n", "eq(any).{1,2}"),
        ]
    )
    add_filters(params, params.plain)
    logic = params.filters[()][0]
    assert isinstance(logic, Logic) and logic.operator == "or"
    assert logic.children[0] == Filter(Field("a"), "eq", "1")
    nested = logic.children[1]
    assert isinstance(nested, Logic) and nested.children[1] == Filter(
        Field("c"), "in", ("x,y", "z")
    )
    assert logic.children[2] == Logic("or", (Filter(Field("d"), "is", "null"),), negated=True)
    assert params.filters[()][1] == Filter(Field("name"), "ilike", "*a*", negated=True)
    assert params.filters[()][3] == Filter(Field("n"), "eq", ("1", "2"), modifier="any")
    assert params.order[("tasks",)] == (
        OrderTerm(Field("position"), True, "last"),
        OrderTerm(Field("id")),
    )
    assert params.order[()] == (OrderTerm(Field("name"), True, None, "project"),)
    assert (params.limit, params.offset) == ({(): 5}, {("tasks",): 2})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("a", "eqq.1"),
        ("a", "1"),
        ("a", "in.1,2"),
        ("a", "is.maybe"),
        ("a", "eq(some).{1}"),
        ("limit", "-1"),
        ("order", "a.up"),
        ("or", "a.eq.1"),
    ],
)
def test_malformed_parameters_are_pgrst100(key: str, value: str) -> None:
    with pytest.raises(ApiError) as caught:
        params = parse_query([(key, value)])
        add_filters(params, params.plain)
    assert (caught.value.status, caught.value.code) == (400, "PGRST100")
