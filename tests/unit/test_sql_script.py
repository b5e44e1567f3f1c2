from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from halo_supabase.local.sql_script import Statement, line_of_position, split_statements


def texts(sql: str) -> list[str]:
    return [s.text for s in split_statements(sql)]


def test_splits_on_semicolons_and_drops_empty_statements() -> None:
    assert texts("select 1;; select 2;\n\n") == ["select 1", "select 2"]


def test_semicolons_inside_strings_identifiers_and_comments_do_not_split() -> None:
    sql = (
        "select 'a;b', \"odd;name\" from t; -- trailing; comment\n"
        "select /* block; /* nested; */ still */ 2;\n"
        "select E'it\\'s; fine';"
    )
    assert texts(sql) == [
        "select 'a;b', \"odd;name\" from t",
        "-- trailing; comment\nselect /* block; /* nested; */ still */ 2",
        "select E'it\\'s; fine'",
    ]


def test_dollar_quoted_bodies_stay_whole() -> None:
    sql = (
        "create function f() returns void language plpgsql as $body$\n"
        "begin perform 1; raise notice 'x;y'; end\n$body$;\n"
        "do $$ begin perform 2; end $$;"
    )
    result = texts(sql)
    assert len(result) == 2
    assert result[0].endswith("$body$")
    assert result[1] == "do $$ begin perform 2; end $$"


def test_positional_parameters_are_not_dollar_quotes() -> None:
    sql = "create function g(int) returns int language sql as 'select $1;';\nselect 3;"
    assert texts(sql) == [
        "create function g(int) returns int language sql as 'select $1;'",
        "select 3",
    ]


def test_begin_atomic_bodies_stay_whole() -> None:
    sql = (
        "create function h(x int) returns int language sql begin atomic\n"
        "  select case when x > 0 then 1 else 0 end;\n"
        "  select 2;\n"
        "end;\n"
        "select 4;"
    )
    result = texts(sql)
    assert len(result) == 2
    assert result[0].endswith("end")
    assert result[1] == "select 4"


def test_comment_only_chunks_are_not_statements() -> None:
    assert texts("-- nothing here;\n/* nor; here */") == []


def test_statements_know_their_first_line() -> None:
    sql = "-- header\n\nselect 1;\n\n  select\n  2;"
    statements = split_statements(sql)
    assert [s.line for s in statements] == [1, 5]


def test_error_position_maps_to_the_script_line() -> None:
    statement = Statement("select\n  1,\n  nope", line=10)
    assert line_of_position(statement, statement.text.index("nope") + 1) == 12
    assert line_of_position(statement, None) == 10


@given(st.lists(st.text(alphabet="abc xyz;'$\n-", max_size=20), max_size=6))
def test_plain_statements_round_trip(chunks: list[str]) -> None:
    # Statements without quotes or comments come back exactly as written.
    clean = [
        c.replace(";", "").replace("'", "").replace("$", "").replace("-", "").strip()
        for c in chunks
    ]
    clean = [c for c in clean if c]
    assert texts(";\n".join(clean)) == clean
