"""PostgREST's query-string language, parsed into plain values: select, filters, order, paging.

Nothing here touches SQL; `sql_builder` turns the result into a parameterized statement. Parse
errors are PostgREST's `PGRST100` (400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from halo_supabase.local.gateway.rest.errors import ApiError

__all__ = [
    "Column",
    "Embed",
    "Field",
    "Filter",
    "Logic",
    "OrderTerm",
    "QueryParams",
    "SelectItem",
    "add_filters",
    "parse_filter",
    "parse_query",
    "parse_select",
]

OPERATORS = frozenset(
    [
        "eq",
        "neq",
        "gt",
        "gte",
        "lt",
        "lte",
        "like",
        "ilike",
        "match",
        "imatch",
        "in",
        "is",
        "isdistinct",
        "fts",
        "plfts",
        "phfts",
        "wfts",
        "cs",
        "cd",
        "ov",
        "sl",
        "sr",
        "nxl",
        "nxr",
        "adj",
    ]
)
# Operators that take `(any)` / `(all)`: a list of values compared with OR / AND.
QUANTIFIABLE = frozenset(
    ["eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch"]
)
TEXT_SEARCH = frozenset(["fts", "plfts", "phfts", "wfts"])
IS_VALUES = {
    "null": "NULL",
    "not_null": "NOT NULL",
    "true": "TRUE",
    "false": "FALSE",
    "unknown": "UNKNOWN",
}
RESERVED = frozenset({"select", "order", "limit", "offset", "on_conflict", "columns", "and", "or"})


def bad_param(what: str, text: str, details: str | None = None) -> ApiError:
    return ApiError(400, "PGRST100", f'"failed to parse {what} ({text})"', details)


@dataclass(frozen=True)
class Field:
    """A column, possibly followed by a JSON path (`data->a->>b`)."""

    name: str
    path: tuple[tuple[str, str], ...] = ()  # (arrow, key) pairs

    @property
    def default_key(self) -> str:
        """The JSON key PostgREST gives this field when it has no alias."""
        return self.path[-1][1] if self.path else self.name


@dataclass(frozen=True)
class Filter:
    field: Field
    operator: str
    value: str | tuple[str, ...]
    negated: bool = False
    modifier: str | None = None  # any / all, or a text search configuration


@dataclass(frozen=True)
class Logic:
    operator: Literal["and", "or"]
    children: tuple[Filter | Logic, ...]
    negated: bool = False


@dataclass(frozen=True)
class Column:
    field: Field
    alias: str | None = None
    cast: str | None = None

    @property
    def key(self) -> str:
        return self.alias or self.field.default_key


@dataclass(frozen=True)
class Embed:
    name: str
    alias: str | None
    hint: str | None
    join: Literal["inner", "left"] | None
    spread: bool
    items: tuple[SelectItem, ...]

    @property
    def key(self) -> str:
        return self.alias or self.name


SelectItem = Column | Embed | Literal["*"]


@dataclass(frozen=True)
class OrderTerm:
    field: Field
    descending: bool = False
    nulls: Literal["first", "last"] | None = None
    relation: str | None = None  # order by a column of a to-one embed: rel(col)


@dataclass
class QueryParams:
    select: tuple[SelectItem, ...] = ("*",)
    filters: dict[tuple[str, ...], list[Filter | Logic]] = field(default_factory=dict)
    order: dict[tuple[str, ...], tuple[OrderTerm, ...]] = field(default_factory=dict)
    limit: dict[tuple[str, ...], int] = field(default_factory=dict)
    offset: dict[tuple[str, ...], int] = field(default_factory=dict)
    on_conflict: tuple[str, ...] | None = None
    columns: tuple[str, ...] | None = None
    # Query parameters that are not PostgREST's own: filters, or arguments of a GET /rpc call.
    plain: list[tuple[str, str]] = field(default_factory=list)


def split_top(text: str, separator: str = ",") -> list[str]:
    """Split on `separator` outside parentheses, braces and double quotes."""
    parts: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == "\\" and i + 1 < len(text):
                current.append(text[i : i + 2])
                i += 2
                continue
            if char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append("".join(current))
            current = []
            i += 1
            continue
        current.append(char)
        i += 1
    parts.append("".join(current))
    return parts


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


_ARROW = re.compile(r"(->>|->)")
_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"')


def parse_field(text: str) -> Field:
    if text.startswith('"'):
        quoted = _QUOTED.match(text)
        if quoted is None:
            raise bad_param("field", text)
        name, rest = unquote(quoted.group(0)), text[quoted.end() :]
    else:
        parts = _ARROW.split(text, maxsplit=1)
        name, rest = parts[0], "".join(parts[1:])
    if not name:
        raise bad_param("field", text)
    path: list[tuple[str, str]] = []
    pieces = _ARROW.split(rest)
    if pieces[0]:
        raise bad_param("field", text)
    for arrow, key in zip(pieces[1::2], pieces[2::2], strict=True):
        if not key:
            raise bad_param("field", text)
        path.append((arrow, unquote(key)))
    return Field(name, tuple(path))


_OPERATOR = re.compile(r"([a-z]+)(?:\(([^)]*)\))?")


def parse_filter(field: Field, text: str, *, in_logic: bool = False) -> Filter:
    """`[not.]op[(modifier)].value` for one field."""
    body = text
    negated = body.startswith("not.")
    if negated:
        body = body[4:]
    operator_text, dot, value = body.partition(".")
    match = _OPERATOR.fullmatch(operator_text)
    if not dot or match is None or match.group(1) not in OPERATORS:
        raise bad_param(
            "filter", text, "unknown or malformed operator" if dot else "missing operator"
        )
    operator, modifier = match.group(1), match.group(2)
    if modifier is not None:
        if operator in TEXT_SEARCH:
            if not re.fullmatch(r"[A-Za-z_][\w.]*", modifier):
                raise bad_param("filter", text)
        elif operator not in QUANTIFIABLE or modifier not in ("any", "all"):
            raise bad_param("filter", text)
    if operator == "in":
        if not (value.startswith("(") and value.endswith(")")):
            raise bad_param("filter", text, 'expecting a list of values "(a,b)"')
        inner = value[1:-1]
        items = tuple(unquote(v) for v in split_top(inner)) if inner else ()
        return Filter(field, operator, items, negated)
    if operator == "is":
        if value.lower() not in IS_VALUES:
            raise bad_param(
                "filter", text, 'expecting "null", "not_null", "true", "false" or "unknown"'
            )
        return Filter(field, operator, value.lower(), negated)
    if modifier in ("any", "all"):
        if not (
            (value.startswith("{") and value.endswith("}"))
            or (value.startswith("(") and value.endswith(")"))
        ):
            raise bad_param("filter", text, 'expecting a list of values "{a,b}"')
        inner = value[1:-1]
        items = tuple(unquote(v) for v in split_top(inner)) if inner else ()
        return Filter(field, operator, items, negated, modifier)
    if in_logic:
        value = unquote(value)
    return Filter(field, operator, value, negated, modifier)


_LOGIC = re.compile(r"(not\.)?(and|or)\((.*)\)", re.DOTALL)


def parse_logic(operator: Literal["and", "or"], negated: bool, text: str) -> Logic:
    if not (text.startswith("(") and text.endswith(")")) or len(text) < 3:
        raise bad_param("logic tree", text, 'expecting "(filter,filter,...)"')
    children: list[Filter | Logic] = []
    for item in split_top(text[1:-1]):
        nested = _LOGIC.fullmatch(item)
        if nested:
            children.append(
                parse_logic(nested.group(2), bool(nested.group(1)), f"({nested.group(3)})")  # type: ignore[arg-type]
            )
            continue
        quoted = _QUOTED.match(item)
        if quoted:
            field_text, rest = quoted.group(0), item[quoted.end() + 1 :]
        else:
            field_text, _, rest = item.partition(".")
        if not rest:
            raise bad_param("logic tree", text, f"expecting a filter in {item!r}")
        children.append(parse_filter(parse_field(field_text), rest, in_logic=True))
    return Logic(operator, tuple(children), negated)


_EMBED = re.compile(
    r"(?:(?P<alias>[^:()!]+):)?(?P<spread>\.\.\.)?(?P<name>[^()!]+)(?P<hints>(?:![^()!]+)*)\((?P<inner>.*)\)",
    re.DOTALL,
)
_ALIAS = re.compile(r"([^:]+):(?!:)(.+)", re.DOTALL)


def parse_select(text: str) -> tuple[SelectItem, ...]:
    items: list[SelectItem] = []
    for raw in split_top(text):
        item = raw.strip()
        if not item:
            continue
        if item == "*":
            items.append("*")
            continue
        embed = _EMBED.fullmatch(item)
        if embed and not item.startswith('"'):
            name = embed.group("name")
            if name == "count" or name.endswith((".count", ".sum", ".avg", ".min", ".max")):
                raise ApiError(400, "PGRST123", "Use of aggregate functions is not allowed")
            hint: str | None = None
            join: Literal["inner", "left"] | None = None
            for part in filter(None, embed.group("hints").split("!")):
                if part in ("inner", "left"):
                    join = part
                elif hint is None:
                    hint = part
                else:
                    raise bad_param("select", text, f"more than one hint in {item!r}")
            if embed.group("spread") and embed.group("alias"):
                raise bad_param("select", text, "a spread embed cannot have an alias")
            items.append(
                Embed(
                    name,
                    embed.group("alias"),
                    hint,
                    join,
                    bool(embed.group("spread")),
                    parse_select(embed.group("inner")) if embed.group("inner").strip() else (),
                )
            )
            continue
        alias: str | None = None
        aliased = _ALIAS.fullmatch(item) if not item.startswith('"') else None
        if aliased and "->" not in aliased.group(1):
            alias, item = aliased.group(1), aliased.group(2)
        cast: str | None = None
        if "::" in item:
            item, cast = item.rsplit("::", 1)
            if not re.fullmatch(r"[A-Za-z_][\w ]*(\[\])?", cast):
                raise bad_param("select", text, f"invalid cast {cast!r}")
        if "(" in item or ")" in item:
            raise bad_param("select", text, f"unexpected parenthesis in {item!r}")
        items.append(Column(parse_field(item), alias, cast))
    return tuple(items)


def parse_order(text: str) -> tuple[OrderTerm, ...]:
    terms: list[OrderTerm] = []
    for raw in split_top(text):
        relation: str | None = None
        rest = raw
        related = re.fullmatch(r"([^()]+)\(([^()]+)\)(.*)", raw)
        if related:
            relation, rest = related.group(1), related.group(2) + related.group(3)
        quoted = _QUOTED.match(rest)
        if quoted:
            field_text, modifiers = quoted.group(0), rest[quoted.end() :].lstrip(".")
        else:
            field_text, _, modifiers = rest.partition(".")
        descending = False
        nulls: Literal["first", "last"] | None = None
        for modifier in filter(None, modifiers.split(".")):
            if modifier in ("asc", "desc"):
                descending = modifier == "desc"
            elif modifier in ("nullsfirst", "nullslast"):
                nulls = "first" if modifier == "nullsfirst" else "last"
            else:
                raise bad_param("order", raw, f"unexpected {modifier!r}")
        terms.append(OrderTerm(parse_field(field_text), descending, nulls, relation))
    return tuple(terms)


def _non_negative(name: str, value: str) -> int:
    if not value.isdigit():
        raise bad_param(name, value, f"{name} must be a non-negative integer")
    return int(value)


def parse_query(items: list[tuple[str, str]]) -> QueryParams:
    """All of PostgREST's own query parameters; the rest are kept in `plain`."""
    params = QueryParams()
    for key, value in items:
        embed_path, _, last = key.rpartition(".")
        path = tuple(embed_path.split(".")) if embed_path else ()
        if key == "select":
            params.select = parse_select(value) or ("*",)
        elif last == "order":
            params.order[path] = parse_order(value)
        elif last == "limit":
            params.limit[path] = _non_negative("limit", value)
        elif last == "offset":
            params.offset[path] = _non_negative("offset", value)
        elif key == "on_conflict":
            params.on_conflict = tuple(c.strip() for c in split_top(value))
        elif key == "columns":
            params.columns = tuple(unquote(c.strip()) for c in split_top(value))
        elif last in ("and", "or"):
            negated = path[-1:] == ("not",)
            target = path[:-1] if negated else path
            params.filters.setdefault(target, []).append(parse_logic(last, negated, value))  # type: ignore[arg-type]
        elif key in ("apikey",):
            continue
        else:
            params.plain.append((key, value))
    return params


def add_filters(params: QueryParams, items: list[tuple[str, str]]) -> None:
    """Horizontal filters `[embed.]column=op.value` (and `embed=is.null`) into `params.filters`."""
    for key, value in items:
        parts = split_top(key, ".")
        path = tuple(unquote(p) for p in parts[:-1])
        params.filters.setdefault(path, []).append(parse_filter(parse_field(parts[-1]), value))
