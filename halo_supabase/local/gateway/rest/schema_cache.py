"""What PostgREST knows about the database: relations, columns, relationships and functions.

Built from the catalog in three queries (`sql/schema_cache.sql`) and swapped whole on reload, so
a request always sees one consistent snapshot. Views get the foreign keys of their base tables: each view
column is traced to the base column it selects (from the view's stored query tree, as PostgREST
does), so `api` views over private tables embed one another like tables would.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from halo_supabase.local.gateway.rest.errors import ApiError
from halo_supabase.sql_files import load_queries

__all__ = ["Column", "Function", "Junction", "Param", "Relation", "Relationship", "SchemaCache"]

Cardinality = Literal["m2o", "o2m", "o2o", "m2m"]
Name = tuple[str, str]  # (schema, relation or function name)


_SQL = load_queries("halo_supabase.local.gateway.rest", "schema_cache.sql")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    element_type: str | None
    category: str  # pg_type.typcategory: S string, N numeric, A array, U user (json), ...
    nullable: bool
    default: str | None
    description: str | None


@dataclass
class Relation:
    oid: int
    schema: str
    name: str
    kind: str  # pg_class.relkind
    exposed: bool
    columns: dict[str, Column]
    primary_key: tuple[str, ...]
    unique_keys: list[frozenset[str]]
    description: str | None
    # column name → (base table oid, attnum) it reads; a table maps each column onto itself
    origins: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def qualified(self) -> Name:
        return (self.schema, self.name)


@dataclass(frozen=True)
class Junction:
    relation: Name
    source_constraint: str
    source_columns: tuple[str, ...]  # in the junction, referencing the source
    target_constraint: str
    target_columns: tuple[str, ...]  # in the junction, referencing the target


@dataclass(frozen=True)
class Relationship:
    """An embeddable link from `source` to `target` (joined on source_columns = target_columns)."""

    source: Name
    target: Name
    constraint: str
    source_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    cardinality: Cardinality
    junction: Junction | None = None

    @property
    def to_one(self) -> bool:
        return self.cardinality in ("m2o", "o2o")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    has_default: bool
    variadic: bool = False


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    volatility: str  # i, s, v
    returns_set: bool
    params: tuple[Param, ...]
    return_type: str
    return_kind: str  # pg_type.typtype: b base, c composite, p pseudo (void, record), d, e, r
    return_relation: int | None
    out_columns: tuple[Param, ...]
    description: str | None
    # Its body sets `response.headers` / `response.status`, which the gateway checks after the
    # statement: an invalid value must still roll the call back.
    sets_response: bool = False

    @property
    def returns_void(self) -> bool:
        return self.return_type == "void"

    @property
    def returns_rows(self) -> bool:
        """Rows with named columns (a table type, a composite or OUT/TABLE parameters)."""
        return self.return_relation is not None or bool(self.out_columns)

    @property
    def single_unnamed_body(self) -> bool:
        """One unnamed json/jsonb/text/bytea/xml parameter receives the whole request body."""
        return (
            len(self.params) == 1
            and not self.params[0].name
            and self.params[0].type in ("json", "jsonb", "text", "bytea", "xml")
        )


@dataclass
class SchemaCache:
    schemas: tuple[str, ...]
    relations: dict[Name, Relation]
    relationships: dict[Name, list[Relationship]]
    functions: dict[Name, list[Function]]
    by_oid: dict[int, Relation]

    @classmethod
    async def load(
        cls, conn: asyncpg.Connection | PoolConnectionProxy, schemas: tuple[str, ...]
    ) -> SchemaCache:
        rows = await conn.fetch(_SQL["relations"], list(schemas))
        by_oid = {int(row["oid"]): _relation(row) for row in rows}
        trees = {int(row["oid"]): row["view_tree"] for row in rows if row["view_tree"]}
        _trace_views(by_oid, trees)
        keys = await conn.fetch(_SQL["foreign_keys"])
        relationships = _relationships(by_oid, keys)
        functions: dict[Name, list[Function]] = {}
        for row in await conn.fetch(_SQL["functions"], list(schemas)):
            function = _function(row)
            functions.setdefault((function.schema, function.name), []).append(function)
        relations = {rel.qualified: rel for rel in by_oid.values() if rel.exposed}
        return cls(schemas, relations, relationships, functions, by_oid)

    def relationships_from(self, source: Name) -> list[Relationship]:
        return self.relationships.get(source, [])

    def function(
        self, schema: str, name: str, arguments: dict[str, Any], has_body: bool
    ) -> Function:
        """The function `/rpc/<name>` calls with these argument names (PGRST202 none, PGRST203 several)."""
        candidates = self.functions.get((schema, name), [])
        keys = set(arguments)
        matches = [
            f
            for f in candidates
            if keys <= {p.name for p in f.params}
            and {p.name for p in f.params if not p.has_default} <= keys
            and not (f.single_unnamed_body and keys)
        ]
        if not matches and has_body:
            matches = [f for f in candidates if f.single_unnamed_body]
        if len(matches) > 1:
            exact = [f for f in matches if {p.name for p in f.params} == keys]
            matches = exact if len(exact) == 1 else matches
        if not matches:
            listed = ", ".join(sorted(keys))
            raise ApiError(
                404,
                "PGRST202",
                f"Could not find the function {schema}.{name}({listed}) in the schema cache",
                f"Searched for the function {schema}.{name} with parameter{'s' if len(keys) != 1 else ''} "
                f"{listed or 'none'} or with a single unnamed json/jsonb parameter, but no matches were found "
                "in the schema cache.",
                None,
            )
        if len(matches) > 1:
            signatures = ", ".join(
                f"{schema}.{name}({', '.join(f'{p.name} => {p.type}' for p in f.params)})"
                for f in matches
            )
            raise ApiError(
                300,
                "PGRST203",
                f"Could not choose the best candidate function between: {signatures}",
                None,
                "Try renaming the parameters or the function itself in the database so function overloading can be resolved",
            )
        return matches[0]


def _relation(row: asyncpg.Record) -> Relation:
    columns = {
        c["name"]: Column(
            c["name"],
            c["type"],
            c["element_type"],
            c["category"],
            c["nullable"],
            c["default"],
            c["description"],
        )
        for c in json.loads(row["columns"])
    }
    by_num = {c["num"]: c["name"] for c in json.loads(row["columns"])}
    oid = int(row["oid"])
    return Relation(
        oid=oid,
        schema=row["schema"],
        name=row["name"],
        kind=row["kind"],
        exposed=row["exposed"],
        columns=columns,
        primary_key=tuple(by_num[n] for n in row["primary_key"] or ()),
        unique_keys=[
            frozenset(by_num[n] for n in key if n in by_num)
            for key in json.loads(row["unique_keys"])
        ],
        description=row["description"],
        origins={} if row["kind"] == "v" else {name: (oid, num) for num, name in by_num.items()},
    )


# A column name in a stored query tree escapes spaces and other specials with a backslash.
_TARGET_ENTRY = re.compile(
    r":resno (\d+) :resname ((?:\\.|[^\s\\])+) :ressortgroupref \d+ "
    r":resorigtbl (\d+) :resorigcol (\d+)"
)


def _top_level_targets(tree: str) -> list[tuple[str, int, int]]:
    """(column name, origin table oid, origin attnum) of the view query's own target list."""
    depth = 0
    start = -1
    i = 0
    while i < len(tree):
        char = tree[i]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 1 and tree.startswith(":targetList", i):
            start = i
            break
        i += 1
    if start < 0:
        return []
    entries: list[tuple[str, int, int]] = []
    depth = 1
    entry_start = -1
    paren = 0
    for j in range(start + len(":targetList"), len(tree)):
        char = tree[j]
        if char == "(" and depth == 1:
            paren += 1
        elif char == ")" and depth == 1:
            paren -= 1
            if paren == 0:
                break
        elif char == "{":
            depth += 1
            if depth == 2:
                entry_start = j
        elif char == "}":
            depth -= 1
            if depth == 1 and entry_start >= 0:
                found = _TARGET_ENTRY.findall(tree[entry_start:j])
                if found:
                    _, name, table, column = found[-1]
                    entries.append((re.sub(r"\\(.)", r"\1", name), int(table), int(column)))
    return entries


def _trace_views(by_oid: dict[int, Relation], trees: dict[int, str]) -> None:
    """Fill `origins` of each view with the base table columns its columns select."""
    direct = {oid: _top_level_targets(tree) for oid, tree in trees.items()}

    def resolve(oid: int, num_or_name: int | str, seen: frozenset[int]) -> tuple[int, int] | None:
        relation = by_oid.get(oid)
        if relation is None or oid in seen:
            return None
        if relation.kind != "v":
            return (oid, int(num_or_name)) if isinstance(num_or_name, int) else None
        targets = direct.get(oid, [])
        if isinstance(num_or_name, int):
            if not 0 < num_or_name <= len(targets):
                return None
            _, table, column = targets[num_or_name - 1]
        else:
            match = [t for t in targets if t[0] == num_or_name]
            if not match:
                return None
            _, table, column = match[0]
        if table == 0:
            return None
        return resolve(table, column, seen | {oid})

    for oid in trees:
        relation = by_oid.get(oid)
        if relation is None:
            continue
        for name in relation.columns:
            origin = resolve(oid, name, frozenset())
            if origin is not None:
                relation.origins[name] = origin


def _relationships(
    by_oid: dict[int, Relation], keys: list[asyncpg.Record]
) -> dict[Name, list[Relationship]]:
    # For each base (table oid, attnum): the exposed relations and column names showing it.
    shown: dict[tuple[int, int], list[tuple[Relation, str]]] = {}
    for relation in by_oid.values():
        if relation.exposed:
            for name, origin in relation.origins.items():
                shown.setdefault(origin, []).append((relation, name))

    def sources(table: int, attnums: list[int]) -> list[tuple[Relation, tuple[str, ...]]]:
        found: dict[int, tuple[Relation, list[str]]] = {}
        for position, num in enumerate(attnums):
            for relation, name in shown.get((table, num), []):
                entry = found.setdefault(relation.oid, (relation, [""] * len(attnums)))
                if not entry[1][position]:
                    entry[1][position] = name
        return [(rel, tuple(names)) for rel, names in found.values() if all(names)]

    result: dict[Name, list[Relationship]] = {}
    to_one_by_junction: dict[int, list[tuple[Relationship, frozenset[str]]]] = {}
    for key in keys:
        child, parent = by_oid.get(int(key["child"])), by_oid.get(int(key["parent"]))
        if child is None or parent is None:
            continue
        child_names = {num: name for name, (oid, num) in child.origins.items() if oid == child.oid}
        unique_child = (
            frozenset(child_names.get(n, "") for n in key["child_columns"]) in child.unique_keys
        )
        for c_rel, c_cols in sources(child.oid, list(key["child_columns"])):
            for p_rel, p_cols in sources(parent.oid, list(key["parent_columns"])):
                forward = Relationship(
                    c_rel.qualified,
                    p_rel.qualified,
                    key["name"],
                    c_cols,
                    p_cols,
                    "o2o" if unique_child else "m2o",
                )
                backward = Relationship(
                    p_rel.qualified,
                    c_rel.qualified,
                    key["name"],
                    p_cols,
                    c_cols,
                    "o2o" if unique_child else "o2m",
                )
                result.setdefault(forward.source, []).append(forward)
                result.setdefault(backward.source, []).append(backward)
                if c_rel.kind != "v" and c_rel.primary_key:
                    to_one_by_junction.setdefault(c_rel.oid, []).append(
                        (forward, frozenset(c_rel.primary_key))
                    )
    # A junction table: two foreign keys whose columns are all part of its primary key.
    for links in to_one_by_junction.values():
        for first, pk in links:
            for second, _ in links:
                if (
                    first is second
                    or not (set(first.source_columns) | set(second.source_columns)) <= pk
                ):
                    continue
                junction = Junction(
                    first.source,
                    first.constraint,
                    first.source_columns,
                    second.constraint,
                    second.source_columns,
                )
                many = Relationship(
                    first.target,
                    second.target,
                    second.constraint,
                    first.target_columns,
                    second.target_columns,
                    "m2m",
                    junction,
                )
                result.setdefault(many.source, []).append(many)
    return result


def _function(row: asyncpg.Record) -> Function:
    names: list[str] = list(row["arg_names"])
    modes: list[str] = list(row["arg_modes"]) or ["i"] * len(row["arg_types"])
    types: list[str] = list(row["arg_types"])
    inputs = [
        (names[i] if i < len(names) else "", types[i], m == "v")
        for i, m in enumerate(modes)
        if m in ("i", "b", "v")
    ]
    outputs = tuple(
        Param(names[i] if i < len(names) else "", types[i], False)
        for i, m in enumerate(modes)
        if m in ("o", "b", "t")
    )
    defaults = int(row["defaults"])
    params = tuple(
        Param(name, type_, has_default=i >= len(inputs) - defaults, variadic=variadic)
        for i, (name, type_, variadic) in enumerate(inputs)
    )
    return Function(
        schema=row["schema"],
        name=row["name"],
        volatility=row["volatility"],
        returns_set=row["returns_set"],
        params=params,
        return_type=row["return_type"],
        return_kind=row["return_kind"],
        return_relation=row["return_relation"],
        out_columns=outputs if len(outputs) > 1 or (row["return_kind"] == "p" and outputs) else (),
        description=row["description"],
        sets_response=bool(row["sets_response"]),
    )
