"""Parsed requests → one parameterized SQL statement whose single row is the whole response.

Values never enter the SQL text: each becomes a `$n` parameter passed as text (or text[]) and
cast to the column's type inside PostgreSQL, so one statement shape serves every value. The
response body is built by PostgreSQL itself (`json_agg` over the selected rows, embeds as
`LEFT JOIN LATERAL` subqueries), as PostgREST does.

Every statement returns: total count (or NULL), rows in the page, body text, and the
`response.headers` / `response.status` settings a function may have set.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from halo_supabase.local.gateway.rest.errors import ApiError
from halo_supabase.local.gateway.rest.query_string import (
    IS_VALUES,
    TEXT_SEARCH,
    Column,
    Embed,
    Field,
    Filter,
    Logic,
    OrderTerm,
    QueryParams,
    SelectItem,
)
from halo_supabase.local.gateway.rest.schema_cache import Column as CacheColumn
from halo_supabase.local.gateway.rest.schema_cache import (
    Function,
    Relation,
    Relationship,
    SchemaCache,
)

__all__ = ["Body", "Statement", "StatementBuilder", "ident", "qualified"]

_COMPARISON = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_PATTERN = {"like": "LIKE", "ilike": "ILIKE", "match": "~", "imatch": "~*"}
_CONTAINMENT = {
    "cs": "@>",
    "cd": "<@",
    "ov": "&&",
    "sl": "<<",
    "sr": ">>",
    "nxl": "&>",
    "nxr": "&<",
    "adj": "-|-",
}
_TSQUERY = {
    "fts": "to_tsquery",
    "plfts": "plainto_tsquery",
    "phfts": "phraseto_tsquery",
    "wfts": "websearch_to_tsquery",
}
_RESPONSE_GUCS = (
    "nullif(current_setting('response.headers', true), ''), "
    "nullif(current_setting('response.status', true), '')"
)


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{ident(schema)}.{ident(name)}"


class Body:
    """How the page of rows becomes the response body."""

    JSON = "json"
    STRIPPED = "stripped"
    CSV = "csv"


@dataclass
class Statement:
    sql: str
    params: list[Any]


@dataclass(frozen=True)
class _Lateral:
    """An embed joined into its parent level."""

    alias: str
    to_one: bool


@dataclass
class _Level:
    """One FROM level: a relation under an alias, with what the request asks of it."""

    alias: str
    relation: Relation | None
    path: tuple[str, ...]
    laterals: list[str] = field(default_factory=list)
    embeds: dict[str, _Lateral] = field(default_factory=dict)  # by the embed's key
    conditions: list[str] = field(default_factory=list)  # from embeds: !inner
    filtered_by_embed: bool = False  # an `embed=is.null` filter
    order_columns: dict[tuple[str, str], str] = field(default_factory=dict)


class StatementBuilder:
    """Builds the statements for one request against one schema-cache snapshot."""

    def __init__(
        self, cache: SchemaCache, schema: str, params: QueryParams, *, max_rows: int | None
    ) -> None:
        self.cache = cache
        self.schema = schema
        self.query = params
        self.max_rows = max_rows
        self.values: list[Any] = []
        self._aliases = 0
        self._used_paths: set[tuple[str, ...]] = {()}

    # -- parameters and names --------------------------------------------------------------------

    def param(self, value: Any, cast: str = "text") -> str:
        self.values.append(value)
        return f"${len(self.values)}::{cast}"

    def _alias(self, prefix: str = "_t") -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    def relation(self, name: str) -> Relation:
        relation = self.cache.relations.get((self.schema, name))
        if relation is None:
            raise ApiError(
                404,
                "PGRST205",
                f"Could not find the table '{self.schema}.{name}' in the schema cache",
                None,
                _closest(
                    name,
                    [n for s, n in self.cache.relations if s == self.schema],
                    "table",
                    self.schema,
                ),
            )
        return relation

    # -- columns, fields and filters -------------------------------------------------------------

    @staticmethod
    def _column_type(level: _Level, name: str) -> str:
        if level.relation is None:
            return "text"
        column = level.relation.columns.get(name)
        if column is None:
            raise ApiError(400, "42703", f"column {level.relation.name}.{name} does not exist")
        return column.type

    def field_sql(self, level: _Level, fld: Field) -> tuple[str, str]:
        """SQL for a field and its type (json paths: text after ->>, jsonb after ->)."""
        type_ = self._column_type(level, fld.name)
        sql = f"{level.alias}.{ident(fld.name)}"
        if not fld.path:
            return sql, type_
        for arrow, key in fld.path:
            index = key[1:] if key.startswith("-") else key
            sql += f"{arrow}{self.param(int(key), 'int4') if index.isdigit() else self.param(key)}"
        return (f"({sql})", "text") if fld.path[-1][0] == "->>" else (f"({sql})::jsonb", "jsonb")

    def filter_sql(self, level: _Level, item: Filter | Logic) -> str:
        if isinstance(item, Logic):
            joiner = " AND " if item.operator == "and" else " OR "
            inner = joiner.join(self.filter_sql(level, child) for child in item.children)
            return f"{'NOT ' if item.negated else ''}({inner})"
        sql = self._predicate(level, item)
        return f"NOT ({sql})" if item.negated else sql

    def _predicate(self, level: _Level, f: Filter) -> str:
        embed = level.embeds.get(f.field.name) if not f.field.path else None
        if embed is not None and (
            level.relation is None or f.field.name not in level.relation.columns
        ):
            if f.operator != "is" or f.value not in ("null", "not_null"):
                raise ApiError(
                    400,
                    "PGRST100",
                    f'"failed to parse filter ({f.operator}.{f.value})"',
                    "only is.null and not.is.null filter on an embedded resource",
                )
            level.filtered_by_embed = True
            return f"{embed.alias}.body IS {IS_VALUES[str(f.value)]}"
        expr, type_ = self.field_sql(level, f.field)
        op = f.operator
        if op == "is":
            return f"{expr} IS {IS_VALUES[str(f.value)]}"
        if op in _COMPARISON or op in _PATTERN:
            sql_op = _COMPARISON.get(op) or _PATTERN[op]
            pattern = op in ("like", "ilike")
            if f.modifier in ("any", "all"):
                values = [_star(v) if pattern else v for v in f.value]
                cast = "text[]" if op in _PATTERN else f"text[]::{_array_of(type_)}"
                return f"{expr} {sql_op} {f.modifier.upper()}({self.param(values, cast)})"
            value = str(f.value)
            if op in _PATTERN:
                return f"{expr}::text {sql_op} {self.param(_star(value) if pattern else value)}"
            return f"{expr} {sql_op} {self.param(value, _cast_from_text(type_))}"
        if op == "in":
            return f"{expr} = ANY({self.param(list(f.value), f'text[]::{_array_of(type_)}')})"
        if op == "isdistinct":
            return f"{expr} IS DISTINCT FROM {self.param(str(f.value), _cast_from_text(type_))}"
        if op in TEXT_SEARCH:
            config = f"{self.param(f.modifier, 'text::regconfig')}, " if f.modifier else ""
            vector = expr if type_ == "tsvector" else f"to_tsvector({config}{expr})"
            return f"{vector} @@ {_TSQUERY[op]}({config}{self.param(str(f.value))})"
        # containment and range operators
        if type_ == "json":
            expr, type_ = f"{expr}::jsonb", "jsonb"
        return f"{expr} {_CONTAINMENT[op]} {self.param(str(f.value), _cast_from_text(type_))}"

    def where(self, level: _Level, *, extra: list[str] | None = None) -> str:
        self._used_paths.add(level.path)
        conditions = list(extra or [])
        conditions += [
            self.filter_sql(level, item) for item in self.query.filters.get(level.path, [])
        ]
        conditions += level.conditions
        return f" WHERE {' AND '.join(conditions)}" if conditions else ""

    def order_by(self, level: _Level) -> str:
        terms = self.query.order.get(level.path)
        if not terms:
            return ""
        return " ORDER BY " + ", ".join(self._order_term(level, term) for term in terms)

    def _order_term(self, level: _Level, term: OrderTerm) -> str:
        if term.relation is not None:
            lateral = level.order_columns.get((term.relation, term.field.name))
            embedded = level.embeds.get(term.relation)
            if lateral is None and embedded is not None and not embedded.to_one:
                raise ApiError(
                    400,
                    "PGRST118",
                    f"A related order on '{term.relation}' is not possible",
                    f"'{level.relation.name if level.relation else ''}' and '{term.relation}' "
                    "do not form a many-to-one or one-to-one relationship",
                    None,
                )
            if lateral is None:
                raise ApiError(
                    400,
                    "PGRST108",
                    f"'{term.relation}' is not an embedded resource in this request",
                    None,
                    f"Verify that '{term.relation}' is included in the 'select' query parameter.",
                )
            expr = lateral
        else:
            expr = self.field_sql(level, term.field)[0]
        direction = " DESC" if term.descending else " ASC"
        nulls = f" NULLS {term.nulls.upper()}" if term.nulls else ""
        return f"{expr}{direction}{nulls}"

    def page(self, level: _Level, *, limit: int | None = None, offset: int | None = None) -> str:
        limit = self.query.limit.get(level.path) if limit is None else limit
        offset = self.query.offset.get(level.path) if offset is None else offset
        if level.path == () and self.max_rows is not None:
            limit = self.max_rows if limit is None else min(limit, self.max_rows)
        sql = ""
        if limit is not None:
            sql += f" LIMIT {self.param(limit, 'int8')}"
        if offset:
            sql += f" OFFSET {self.param(offset, 'int8')}"
        return sql

    # -- select lists and embeds -----------------------------------------------------------------

    def select_list(
        self, level: _Level, items: tuple[SelectItem, ...]
    ) -> tuple[list[str], list[str]]:
        """(`expr AS key` entries, keys) for one level; embeds add laterals to the level."""
        entries: list[str] = []
        keys: list[str] = []
        for item in items:
            if item == "*":
                if level.relation is None:
                    entries.append(f"{level.alias}.*")
                    continue
                for name in level.relation.columns:
                    entries.append(f"{level.alias}.{ident(name)} AS {ident(name)}")
                    keys.append(name)
            elif isinstance(item, Column):
                expr, _ = self.field_sql(level, item.field)
                if item.cast:
                    expr = f"CAST({expr} AS {item.cast})"
                entries.append(f"{expr} AS {ident(item.key)}")
                keys.append(item.key)
            else:
                embedded_entries, embedded_keys = self._embed(level, item)
                entries += embedded_entries
                keys += embedded_keys
        return entries, keys

    def _embed(self, parent: _Level, embed: Embed) -> tuple[list[str], list[str]]:
        if parent.relation is None:
            raise ApiError(400, "PGRST200", "Could not find a relationship in the schema cache")
        relationship = self.resolve(parent.relation, embed)
        target = self.cache.relations[relationship.target]
        level = _Level(self._alias(), target, (*parent.path, embed.key))
        lateral = self._alias("_l")
        inner_entries, inner_keys = self.select_list(level, embed.items)
        source = f"{qualified(target.schema, target.name)} {level.alias}"
        pairs = zip(relationship.source_columns, relationship.target_columns, strict=True)
        if relationship.junction is None:
            join = [f"{level.alias}.{ident(t)} = {parent.alias}.{ident(s)}" for s, t in pairs]
        else:
            junction = relationship.junction
            junction_alias = self._alias("_j")
            on = " AND ".join(
                f"{junction_alias}.{ident(j)} = {level.alias}.{ident(t)}"
                for j, t in zip(junction.target_columns, relationship.target_columns, strict=True)
            )
            source += f" JOIN {qualified(*junction.relation)} {junction_alias} ON {on}"
            join = [
                f"{junction_alias}.{ident(j)} = {parent.alias}.{ident(s)}"
                for j, s in zip(junction.source_columns, relationship.source_columns, strict=True)
            ]
        laterals = "".join(level.laterals)
        where = self.where(level, extra=join)
        order = self.order_by(level)
        page = self.page(level)
        to_one = relationship.to_one
        entries: list[str] = []
        keys: list[str] = []
        if embed.spread:
            if to_one:
                body = f"SELECT {', '.join(inner_entries) or 'NULL'} FROM {source}{laterals}{where}{order}{page}"
            else:
                aggregates = [f"json_agg(_s.{ident(k)}) AS {ident(k)}" for k in inner_keys]
                body = (
                    f"SELECT {', '.join(aggregates) or 'NULL'} FROM (SELECT {', '.join(inner_entries) or 'NULL'} "
                    f"FROM {source}{laterals}{where}{order}{page}) _s"
                )
            for key in inner_keys:
                value = f"{lateral}.{ident(key)}"
                if not to_one:
                    value = f"coalesce({value}, '[]'::json)"
                entries.append(f"{value} AS {ident(key)}")
                keys.append(key)
            parent.laterals.append(f" LEFT JOIN LATERAL ({body}) {lateral} ON TRUE")
            if embed.join == "inner":
                parent.conditions.append(f"{lateral} IS NOT NULL")
            return entries, keys
        projection = (
            f"(SELECT row_to_json(_r) FROM (SELECT {', '.join(inner_entries)}) _r)"
            if inner_entries
            else "'{}'::json"
        )
        if to_one:
            extras = ""
            for term in self.query.order.get(parent.path, ()):
                if term.relation == embed.key:
                    column = f"_o{len(parent.order_columns)}"
                    expr, _ = self.field_sql(level, term.field)
                    extras += f", {expr} AS {column}"
                    parent.order_columns[(embed.key, term.field.name)] = f"{lateral}.{column}"
            body = (
                f"SELECT {projection} AS body{extras} FROM {source}{laterals}{where}{order} LIMIT 1"
            )
        else:
            body = (
                f"SELECT json_agg(_s.body) AS body FROM (SELECT {projection} AS body "
                f"FROM {source}{laterals}{where}{order}{page}) _s"
            )
        parent.laterals.append(f" LEFT JOIN LATERAL ({body}) {lateral} ON TRUE")
        parent.embeds[embed.key] = _Lateral(lateral, to_one)
        if embed.join == "inner":
            parent.conditions.append(f"{lateral}.body IS NOT NULL")
        if embed.items:
            value = f"{lateral}.body" if to_one else f"coalesce({lateral}.body, '[]'::json)"
            entries.append(f"{value} AS {ident(embed.key)}")
            keys.append(embed.key)
        return entries, keys

    def resolve(self, source: Relation, embed: Embed) -> Relationship:
        """The one relationship `embed` names from `source` (PGRST200 none, PGRST201 several)."""
        candidates = [
            r
            for r in self.cache.relationships_from(source.qualified)
            if r.target[0] == self.schema and r.target[1] == embed.name
        ]
        if not candidates:
            # Embedding by a foreign-key column or constraint name: `author_id(*)`, `fk_name(*)`.
            candidates = [
                r
                for r in self.cache.relationships_from(source.qualified)
                if r.cardinality in ("m2o", "o2o")
                and (r.constraint == embed.name or r.source_columns == (embed.name,))
            ]
        if embed.hint:
            hint = embed.hint
            candidates = [
                r
                for r in candidates
                if hint in (r.constraint, r.target[1])
                or r.source_columns == (hint,)
                or r.target_columns == (hint,)
                or (
                    r.junction is not None
                    and hint in (r.junction.relation[1], r.junction.source_constraint)
                )
            ]
        if not candidates:
            raise ApiError(
                400,
                "PGRST200",
                f"Could not find a relationship between '{source.name}' and '{embed.name}' in the schema cache",
                f"Searched for a foreign key relationship between '{source.name}' and "
                f"'{embed.name}{'!' + embed.hint if embed.hint else ''}' in the schema '{self.schema}', "
                "but no matches were found.",
                _closest(
                    embed.name,
                    sorted({r.target[1] for r in self.cache.relationships_from(source.qualified)}),
                    None,
                    self.schema,
                ),
            )
        if len(candidates) > 1:
            raise ApiError(
                300,
                "PGRST201",
                f"Could not embed because more than one relationship was found for '{source.name}' and '{embed.name}'",
                [_describe(source.name, r) for r in candidates],
                f"Try changing '{embed.name}' to one of the following: "
                + ", ".join(f"'{embed.name}!{_hint_for(r)}'" for r in candidates)
                + ". Find the desired relationship in the 'details' key.",
            )
        return candidates[0]

    # -- whole statements ------------------------------------------------------------------------

    def _response(self, source_cte: str, *, count: str, body: str) -> Statement:
        sql = (
            f"WITH pgrst_source AS ({source_cte}) "
            f"SELECT {count}, pg_catalog.count(_postgrest_t)::int8, {body}, {_RESPONSE_GUCS} "
            f"FROM (SELECT * FROM pgrst_source) _postgrest_t"
        )
        return Statement(sql, self.values)

    def read(
        self,
        relation: Relation,
        *,
        exact_count: bool,
        body: str,
        limit: int | None,
        offset: int | None,
    ) -> Statement:
        level = _Level("_t0", relation, ())
        entries, keys = self.select_list(level, self.query.select)
        source = f"{qualified(relation.schema, relation.name)} _t0"
        return self._read_from(
            level,
            source,
            entries,
            keys,
            exact_count=exact_count,
            body=body,
            limit=limit,
            offset=offset,
        )

    def _read_from(
        self,
        level: _Level,
        source: str,
        entries: list[str],
        keys: list[str],
        *,
        exact_count: bool,
        body: str,
        limit: int | None,
        offset: int | None,
        single_row: bool = False,
    ) -> Statement:
        where = self.where(level)
        self._check_paths()
        laterals = "".join(level.laterals)
        count = "NULL::int8"
        if exact_count:
            # Embeds change the count only when they filter the parent rows (!inner, is.null).
            needed = laterals if level.conditions or level.filtered_by_embed else ""
            count = f"(SELECT pg_catalog.count(*) FROM {source}{needed}{where})"
        cte = (
            f"SELECT {', '.join(entries) or 'NULL'} FROM {source}{laterals}{where}"
            f"{self.order_by(level)}{self.page(level, limit=limit, offset=offset)}"
        )
        return self._response(
            cte, count=count, body=self.body_sql(body, keys, single_row=single_row)
        )

    def count_only(self, relation: Relation) -> Statement:
        """The statement whose plan estimates the row count (Prefer: count=planned)."""
        level = _Level("_t0", relation, ())
        self.select_list(level, self.query.select)
        where = self.where(level)
        sql = f"SELECT 1 FROM {qualified(relation.schema, relation.name)} _t0{''.join(level.laterals)}{where}"
        return Statement(sql, self.values)

    def body_sql(self, body: str, keys: list[str], *, single_row: bool = False) -> str:
        """The aggregate turning the page into the body; `single_row` gives the first row alone."""
        if body == Body.CSV:
            header = self.param(",".join(_csv_header(k) for k in keys))
            row = " || ',' || ".join(_csv_cell(f"_postgrest_t.{ident(k)}") for k in keys) or "''"
            return f"{header} || coalesce(E'\\n' || string_agg({row}, E'\\n'), '')"
        rows = "json_agg(_postgrest_t)"
        if body == Body.STRIPPED:
            rows = f"json_strip_nulls({rows})"
        if single_row:
            return f"coalesce(({rows}->0)::text, 'null')"
        return f"coalesce({rows}, '[]')::text"

    def _check_paths(self) -> None:
        for path in (
            list(self.query.filters)
            + list(self.query.order)
            + list(self.query.limit)
            + list(self.query.offset)
        ):
            if path not in self._used_paths:
                raise ApiError(
                    400,
                    "PGRST108",
                    f"'{path[-1]}' is not an embedded resource in this request",
                    None,
                    f"Verify that '{path[-1]}' is included in the 'select' query parameter.",
                )

    # -- writes ----------------------------------------------------------------------------------

    def insert(
        self,
        relation: Relation,
        columns: list[str],
        payload: str,
        *,
        missing_default: bool,
        present_everywhere: set[str],
        resolution: str | None,
        returning: bool,
    ) -> tuple[str, _Level]:
        target = qualified(relation.schema, relation.name)
        for column in columns:
            self._column_type(_Level("_t0", relation, ()), column)
        body = self.param(payload, "json")
        selected = []
        for column in columns:
            value = f"_r.{ident(column)}"
            if missing_default and column not in present_everywhere:
                default = relation.columns[column].default or self._base_default(relation, column)
                value = (
                    f"CASE WHEN _e.j::jsonb ? {self.param(column)} THEN {value} "
                    f"ELSE {default or 'NULL'} END"
                )
            selected.append(value)
        sql = (
            f"INSERT INTO {target} AS _t0 ({', '.join(ident(c) for c in columns)}) "
            f"SELECT {', '.join(selected) or 'NULL'} FROM json_array_elements({body}) _e(j), "
            f"LATERAL json_populate_record(NULL::{target}, _e.j) _r"
        )
        if not columns:
            # `{}` inserts one row of defaults.
            self.values.pop()
            sql = f"INSERT INTO {target} AS _t0 DEFAULT VALUES"
        if resolution is not None:
            conflict = self.query.on_conflict or relation.primary_key
            if not conflict:
                raise ApiError(
                    400,
                    "PGRST100",
                    '"failed to parse on_conflict ()"',
                    "upsert needs on_conflict or a primary key",
                )
            for column in conflict:
                self._column_type(_Level("_t0", relation, ()), column)
            action = "DO NOTHING"
            if resolution == "merge-duplicates":
                updates = ", ".join(f"{ident(c)} = EXCLUDED.{ident(c)}" for c in columns)
                action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
            sql += f" ON CONFLICT ({', '.join(ident(c) for c in conflict)}) {action}"
        return self._returning(sql, relation, returning)

    def _base_default(self, relation: Relation, column: str) -> str | None:
        origin = relation.origins.get(column)
        base = self.cache.by_oid.get(origin[0]) if origin else None
        if base is None or origin is None or base.oid == relation.oid:
            return None
        for col in base.columns.values():
            if base.origins.get(col.name) == origin:
                return col.default
        return None

    def update(
        self, relation: Relation, columns: list[str], payload: str, *, returning: bool
    ) -> tuple[str, _Level]:
        target = qualified(relation.schema, relation.name)
        level = _Level("_t0", relation, ())
        for column in columns:
            self._column_type(level, column)
        body = self.param(payload, "json")
        sets = ", ".join(f"{ident(c)} = _r.{ident(c)}" for c in columns)
        sql = (
            f"UPDATE {target} AS _t0 SET {sets} FROM json_populate_record(NULL::{target}, {body}) _r"
            f"{self.where(level)}"
        )
        self._check_paths()
        return self._returning(sql, relation, returning)

    def delete(self, relation: Relation, *, returning: bool) -> tuple[str, _Level]:
        level = _Level("_t0", relation, ())
        sql = f"DELETE FROM {qualified(relation.schema, relation.name)} AS _t0{self.where(level)}"
        self._check_paths()
        return self._returning(sql, relation, returning)

    @staticmethod
    def _returning(sql: str, relation: Relation, returning: bool) -> tuple[str, _Level]:
        return (sql + " RETURNING _t0.*" if returning else sql), _Level("_t0", relation, ())

    def written(self, mutation: str, relation: Relation, *, body: str) -> Statement:
        """The rows a write returned, shaped by `select=` (embeds included)."""
        level = _Level("_t0", relation, ())
        entries, keys = self.select_list(level, self.query.select)
        laterals = "".join(level.laterals)
        sql = (
            f"WITH pgrst_mutation AS ({mutation}), pgrst_source AS (SELECT {', '.join(entries) or 'NULL'} "
            f"FROM pgrst_mutation _t0{laterals}) "
            f"SELECT NULL::int8, pg_catalog.count(_postgrest_t)::int8, {self.body_sql(body, keys)}, {_RESPONSE_GUCS} "
            f"FROM (SELECT * FROM pgrst_source) _postgrest_t"
        )
        return Statement(sql, self.values)

    # -- functions -------------------------------------------------------------------------------

    def call(
        self,
        function: Function,
        arguments: dict[str, Any] | None,
        raw_body: str | None,
        *,
        exact_count: bool,
        body: str,
        limit: int | None,
        offset: int | None,
    ) -> Statement:
        name = qualified(function.schema, function.name)
        if function.single_unnamed_body and raw_body is not None:
            invocation = f"{name}({self.param(raw_body, 'text::' + function.params[0].type)})"
            source_prefix = ""
        else:
            args = arguments or {}
            used = [p for p in function.params if p.name in args]
            if used:
                record = self.param(_json(args), "json")
                definition = ", ".join(f"{ident(p.name)} {p.type}" for p in used)
                source_prefix = f"json_to_record({record}) AS _args({definition}), LATERAL "
                # A variadic parameter takes its array in named notation only after VARIADIC.
                named = ", ".join(
                    f"{'VARIADIC ' if p.variadic else ''}{ident(p.name)} := _args.{ident(p.name)}"
                    for p in used
                )
                invocation = f"{name}({named})"
            else:
                source_prefix = ""
                invocation = f"{name}()"
        if function.returns_void:
            sql = f"SELECT {invocation}" + (
                f" FROM {source_prefix[: -len(', LATERAL ')]}" if source_prefix else ""
            )
            return Statement(
                f"WITH pgrst_source AS ({sql}) SELECT NULL::int8, 0::int8, ''::text, {_RESPONSE_GUCS} "
                "FROM (SELECT count(*) FROM pgrst_source) _postgrest_t",
                self.values,
            )
        if function.returns_rows:
            relation = (
                self.cache.by_oid.get(function.return_relation)
                if function.return_relation
                else None
            )
            if relation is None:
                relation = _pseudo_relation(function)
            level = _Level("_t0", relation, ())
            entries, keys = self.select_list(level, self.query.select)
            source = f"{source_prefix}{invocation} _t0"
            statement = self._read_from(
                level,
                source,
                entries,
                keys,
                exact_count=exact_count,
                body=body,
                limit=limit,
                offset=offset,
                single_row=not function.returns_set and body != Body.CSV,
            )
            return statement
        source = f"{source_prefix}{invocation} _t0(pgrst_scalar)"
        self._check_paths()
        if function.returns_set:
            level = _Level("_t0", None, ())
            where = self.where(level)
            cte = f"SELECT _t0.pgrst_scalar FROM {source}{where}{self.page(level, limit=limit, offset=offset)}"
            count = (
                f"(SELECT pg_catalog.count(*) FROM {source}{where})"
                if exact_count
                else "NULL::int8"
            )
            value = "coalesce(json_agg(_postgrest_t.pgrst_scalar), '[]')::text"
        else:
            cte = f"SELECT _t0.pgrst_scalar FROM {source}"
            count = "NULL::int8"
            value = "coalesce((json_agg(_postgrest_t.pgrst_scalar)->0)::text, 'null')"
        return self._response(cte, count=count, body=value)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _pseudo_relation(function: Function) -> Relation:
    """A function's OUT/TABLE parameters as the columns of a nameless relation."""
    columns = {
        p.name: CacheColumn(p.name, p.type, None, "X", True, None, None)
        for p in function.out_columns
    }
    return Relation(0, function.schema, function.name, "f", False, columns, (), [], None)


def _star(pattern: str) -> str:
    return pattern.replace("*", "%")


def _array_of(type_: str) -> str:
    return type_ if type_.endswith("]") else f"{type_}[]"


def _cast_from_text(type_: str) -> str:
    return "text" if type_ == "text" else f"text::{type_}"


def _csv_header(key: str) -> str:
    return '"' + key.replace('"', '""') + '"' if any(c in key for c in ',"\n\r') else key


def _csv_cell(expr: str) -> str:
    text = f"{expr}::text"
    return (
        f"coalesce(CASE WHEN {text} ~ '[,\"\\n\\r]' THEN '\"' || replace({text}, '\"', '\"\"') || '\"' "
        f"ELSE {text} END, '')"
    )


def _describe(source: str, r: Relationship) -> dict[str, str]:
    cardinality = {
        "m2o": "many-to-one",
        "o2m": "one-to-many",
        "o2o": "one-to-one",
        "m2m": "many-to-many",
    }
    if r.junction is not None:
        relationship = (
            f"{r.junction.relation[1]} using {r.junction.source_constraint}({', '.join(r.junction.source_columns)}) "
            f"and {r.junction.target_constraint}({', '.join(r.junction.target_columns)})"
        )
    else:
        relationship = (
            f"{r.constraint} using {source}({', '.join(r.source_columns)}) and "
            f"{r.target[1]}({', '.join(r.target_columns)})"
        )
    return {
        "cardinality": cardinality[r.cardinality],
        "embedding": f"{source} with {r.target[1]}",
        "relationship": relationship,
    }


def _hint_for(r: Relationship) -> str:
    return r.junction.relation[1] if r.junction is not None else r.constraint


def _closest(name: str, names: list[str], kind: str | None, schema: str) -> str | None:
    match = difflib.get_close_matches(name, names, n=1)
    if not match:
        return None
    if kind is None:
        return f"Perhaps you meant '{match[0]}' instead of '{name}'."
    return f"Perhaps you meant the {kind} '{schema}.{match[0]}'"
