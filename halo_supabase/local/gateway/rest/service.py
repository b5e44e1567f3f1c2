"""`/rest/v1`: PostgREST's HTTP surface over the gateway's per-request transactions.

One request is one transaction as the JWT's role (RLS applies) running one statement built by
`sql_builder`; the schema cache is reloaded on `NOTIFY pgrst, 'reload schema'`, which the
bootstrap's event triggers send after every DDL (so after `halo db migrate` too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from halo_supabase.local.gateway.app import GatewayContext
from halo_supabase.local.gateway.credentials import Credentials, CredentialsError
from halo_supabase.local.gateway.http import (
    BodyTooLarge,
    Receive,
    Request,
    Scope,
    Send,
    dumps,
    send_bytes,
)
from halo_supabase.local.gateway.rest.config import RestConfig
from halo_supabase.local.gateway.rest.errors import ApiError, from_credentials, from_postgres
from halo_supabase.local.gateway.rest.negotiation import (
    Media,
    Preferences,
    content_kind,
    negotiate,
    parse_range,
)
from halo_supabase.local.gateway.rest.openapi import openapi_document
from halo_supabase.local.gateway.rest.payload import check_columns, insert_columns, parse_payload
from halo_supabase.local.gateway.rest.query_string import (
    Column,
    Field,
    QueryParams,
    add_filters,
    parse_query,
)
from halo_supabase.local.gateway.rest.responses import (
    Response,
    error_response,
    page_response,
    response_headers,
    singular_error,
    status_override,
    write_response,
)
from halo_supabase.local.gateway.rest.schema_cache import Relation, SchemaCache
from halo_supabase.local.gateway.rest.sql_builder import Statement, StatementBuilder, ident

__all__ = ["RestService", "create_service"]

log = logging.getLogger(__name__)

_FIRST_LOAD_WAIT = 10.0  # seconds a request waits for the schema cache after startup


class _Rollback(Exception):
    """Carries a finished response out of a transaction that must not commit (Prefer: tx=rollback)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def create_service(context: GatewayContext) -> RestService:
    return RestService(context)


class RestService:
    def __init__(self, context: GatewayContext) -> None:
        self.context = context
        self.config = RestConfig.from_settings(context.settings)
        self._cache: SchemaCache | None = None
        self._listener: asyncpg.Connection | None = None
        self._reload_task: asyncio.Task[None] | None = None
        self._reload_again = False
        self._loaded = asyncio.Event()

    # -- lifecycle and the schema cache ----------------------------------------------------------

    async def startup(self) -> None:
        # Listening and the first load run in the background so the gateway accepts connections
        # at once; requests that arrive before the first load wait for it (`current_cache`).
        self._reload_task = asyncio.get_running_loop().create_task(self._listen_then_load())

    async def _listen_then_load(self) -> None:
        # LISTEN before loading, so DDL committed during the load triggers another one.
        try:
            self._listener = await asyncpg.connect(self.context.db.dsn("postgres"))
            await self._listener.add_listener("pgrst", self._on_notify)
        except (OSError, asyncpg.PostgresError):
            log.exception(
                "cannot LISTEN for schema changes", extra={"action": "rest.listen.failed"}
            )
        await self._reload_loop()

    async def shutdown(self) -> None:
        if self._reload_task is not None:
            await asyncio.gather(self._reload_task, return_exceptions=True)
        if self._listener is not None:
            await self._listener.close()
            self._listener = None

    async def reload(self) -> None:
        async with self.context.db.admin() as conn:
            self._cache = await SchemaCache.load(conn, self.config.schemas)
        self._loaded.set()
        log.info("schema cache loaded", extra={"action": "rest.schema_cache.loaded"})

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if payload not in ("", "reload schema"):
            return
        if self._reload_task is not None and not self._reload_task.done():
            self._reload_again = True
            return
        self._reload_task = asyncio.get_running_loop().create_task(self._reload_loop())

    async def _reload_loop(self) -> None:
        while True:
            self._reload_again = False
            try:
                await self.reload()
            except Exception:
                log.exception(
                    "schema cache reload failed", extra={"action": "rest.schema_cache.failed"}
                )
            if not self._reload_again:
                return

    async def current_cache(self) -> SchemaCache:
        """The schema cache, waiting (a bounded time) for the first load after startup."""
        if self._cache is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._loaded.wait(), _FIRST_LOAD_WAIT)
        if self._cache is None:
            raise ApiError(
                503, "PGRST002", "Could not query the database for the schema cache. Retrying."
            )
        return self._cache

    # -- ASGI ------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request.from_scope(scope, receive)
        try:
            response = await self.handle(request)
        except ApiError as error:
            response = error_response(error)
        await send_bytes(
            send,
            response.status,
            response.body,
            content_type=response.content_type,
            headers=response.headers,
            head_only=request.method == "HEAD",
        )

    async def handle(self, request: Request) -> Response:
        try:
            credentials = self.context.tokens.resolve(request.headers)
        except CredentialsError as exc:
            raise from_credentials(exc) from None
        path = request.path_unquoted.strip("/")
        method = request.method
        if method not in ("GET", "HEAD", "POST", "PATCH", "DELETE"):
            raise ApiError(405, "PGRST117", f"Unsupported HTTP method: {method}")
        schema = self._profile(request)
        if not path:
            if method not in ("GET", "HEAD"):
                raise ApiError(405, "PGRST117", f"Unsupported HTTP method: {method}")
            negotiate(request.headers.get("accept"), root=True)
            document = openapi_document(
                await self.current_cache(), schema, self.context.settings.url
            )
            return Response(200, dumps(document), "application/openapi+json; charset=utf-8")
        media = negotiate(request.headers.get("accept"))
        prefs = Preferences.parse([v for k, v in request.header_list if k == "prefer"])
        params = parse_query(request.query_items())
        if path.startswith("rpc/"):
            return await self._rpc(request, credentials, schema, path[4:], params, media, prefs)
        add_filters(params, params.plain)
        cache = await self.current_cache()
        builder = StatementBuilder(cache, schema, params, max_rows=self.config.max_rows)
        relation = builder.relation(path)
        if method in ("GET", "HEAD"):
            return await self._read(request, credentials, schema, builder, relation, media, prefs)
        return await self._write(request, credentials, schema, builder, relation, media, prefs)

    def _profile(self, request: Request) -> str:
        header = "accept-profile" if request.method in ("GET", "HEAD") else "content-profile"
        schema = request.headers.get(header)
        if schema is None:
            return self.config.schemas[0]
        if schema not in self.config.schemas:
            raise ApiError(
                406,
                "PGRST106",
                f"Invalid schema: {schema}",
                None,
                f"Only the following schemas are exposed: {', '.join(self.config.schemas)}",
            )
        return schema

    # -- running statements ----------------------------------------------------------------------

    async def _run(
        self,
        request: Request,
        credentials: Credentials,
        schema: str,
        *,
        readonly: bool,
        rollback: bool,
        work: Callable[[PoolConnectionProxy], Awaitable[Response]],
        single_statement: bool = False,
    ) -> Response:
        search_path = ", ".join(ident(s) for s in (schema, *self.config.extra_search_path))
        try:
            async with self.context.db.as_request(
                credentials,
                method=request.method,
                path=request.path,
                headers=request.headers,
                search_path=search_path,
                readonly=readonly,
                single_statement=single_statement,
            ) as conn:
                response: Response = await work(conn)
                if rollback:
                    raise _Rollback(response)
                return response
        except _Rollback as done:
            return done.response
        except asyncpg.PostgresError as exc:
            raise from_postgres(
                exc, authenticated=credentials.token is not None and credentials.role != "anon"
            ) from None
        except (OSError, asyncpg.InterfaceError) as exc:
            log.warning("database unreachable", extra={"action": "rest.database.unreachable"})
            raise ApiError(
                503, "PGRST001", "Database client error. Retrying the connection.", str(exc), None
            ) from None

    async def _read(
        self,
        request: Request,
        credentials: Credentials,
        schema: str,
        builder: StatementBuilder,
        relation: Relation,
        media: Media,
        prefs: Preferences,
    ) -> Response:
        offset, limit = _paging(request, builder.query)

        def read(*, exact_count: bool) -> Statement:
            reader = StatementBuilder(
                builder.cache, schema, builder.query, max_rows=builder.max_rows
            )
            return reader.read(
                relation, exact_count=exact_count, body=media.body, limit=limit, offset=offset
            )

        counted = read(exact_count=True) if prefs.count in ("exact", "estimated") else None
        uncounted = read(exact_count=False) if prefs.count != "exact" else None
        planned = None
        if prefs.count in ("planned", "estimated"):
            planned = StatementBuilder(
                builder.cache, schema, builder.query, max_rows=None
            ).count_only(relation)
        max_rows = self.config.max_rows

        async def work(conn: PoolConnectionProxy) -> Response:
            total: int | None = None
            if planned is not None:
                total = await _planned_count(conn, planned)
            # `estimated`: the exact count while it is cheap (up to max_rows), else the planner's.
            exact = counted is not None and (
                prefs.count == "exact" or max_rows is None or (total or 0) <= max_rows
            )
            statement = counted if exact and counted is not None else uncounted
            assert statement is not None
            row = await _fetch_one(conn, statement)
            return page_response(row, row[0] if exact else total, offset or 0, media, prefs)

        return await self._run(
            request, credentials, schema, readonly=True, rollback=False, work=work
        )

    async def _write(
        self,
        request: Request,
        credentials: Credentials,
        schema: str,
        builder: StatementBuilder,
        relation: Relation,
        media: Media,
        prefs: Preferences,
    ) -> Response:
        method = request.method
        returning = prefs.returning in ("representation", "headers-only")
        if method in ("PATCH", "DELETE") and not builder.query.filters.get(()):
            # Supabase preloads pg-safeupdate for the API: no unfiltered bulk UPDATE/DELETE.
            verb = "UPDATE" if method == "PATCH" else "DELETE"
            raise ApiError(400, "21000", f"{verb} requires a WHERE clause", None, None)
        if method == "DELETE":
            mutation, _ = builder.delete(relation, returning=returning)
        else:
            rows = parse_payload(request.headers.get("content-type"), await self._body(request))
            if method == "PATCH":
                if isinstance(rows, list):
                    raise ApiError(400, "PGRST102", "Empty or invalid json", None, None)
                columns = list(builder.query.columns or rows.keys())
                if not columns:
                    return Response(
                        204 if not returning else 200,
                        b"" if not returning else b"[]",
                        headers=(("Content-Range", "*/*"),),
                    )
                check_columns(relation, columns)
                mutation, _ = builder.update(
                    relation, columns, json.dumps(rows), returning=returning
                )
            else:
                objects = rows if isinstance(rows, list) else [rows]
                if not all(isinstance(o, dict) for o in objects):
                    raise ApiError(400, "PGRST102", "Empty or invalid json", None, None)
                columns, everywhere = insert_columns(objects, builder.query.columns)
                check_columns(relation, columns)
                if builder.query.on_conflict:
                    check_columns(relation, list(builder.query.on_conflict))
                mutation, _ = builder.insert(
                    relation,
                    columns,
                    json.dumps(objects),
                    missing_default=prefs.missing_default,
                    present_everywhere=everywhere,
                    resolution=prefs.resolution,
                    returning=returning,
                )
        statement: Statement | None = None
        if returning:
            if prefs.returning == "headers-only":
                # Only the primary key is needed, for the Location header.
                builder.query.select = tuple(Column(Field(c)) for c in relation.primary_key) or (
                    "*",
                )
            statement = builder.written(mutation, relation, body=media.body)
        created = method == "POST"

        async def work(conn: PoolConnectionProxy) -> Response:
            if statement is None:
                tag = await conn.execute(mutation, *builder.values)
                count = (
                    int(tag.rsplit(" ", 1)[-1]) if tag and tag.rsplit(" ", 1)[-1].isdigit() else 0
                )
                _check_affected(count, media, prefs)
                return write_response(created, count, None, prefs, media)
            row = await _fetch_one(conn, statement)
            _check_affected(row[1], media, prefs)
            response = write_response(created, row[1], row, prefs, media)
            if prefs.returning == "headers-only" and row[1] and relation.primary_key:
                first = json.loads(row[2])[0]
                query = "&".join(
                    f"{quote(k)}=eq.{quote(str(first[k]))}" for k in relation.primary_key
                )
                response.headers += (("Location", f"/{relation.name}?{query}"),)
            return response

        return await self._run(
            request, credentials, schema, readonly=False, rollback=prefs.rollback, work=work
        )

    async def _body(self, request: Request) -> bytes:
        try:
            return await request.body(self.config.max_body_bytes)
        except BodyTooLarge as exc:
            raise ApiError(
                413,
                "PGRST102",
                f"Request body is larger than the {exc.limit} bytes allowed",
                None,
                "Send less data per request, or raise HALO_REST_MAX_BODY_BYTES.",
            ) from None

    # -- functions -------------------------------------------------------------------------------

    async def _rpc(
        self,
        request: Request,
        credentials: Credentials,
        schema: str,
        name: str,
        params: QueryParams,
        media: Media,
        prefs: Preferences,
    ) -> Response:
        cache = await self.current_cache()
        candidates = cache.functions.get((schema, name), [])
        raw_body: str | None = None
        arguments: dict[str, Any]
        if request.method in ("GET", "HEAD"):
            names = {p.name for f in candidates for p in f.params}
            # A repeated parameter (or any value of a variadic one) is an array argument.
            variadic = {p.name for f in candidates for p in f.params if p.variadic}
            arguments = {}
            for key, value in params.plain:
                if key in names:
                    previous = arguments.get(key, [] if key in variadic else None)
                    arguments[key] = value if previous is None else [*_as_list(previous), value]
            add_filters(params, [(k, v) for k, v in params.plain if k not in names])
        elif request.method == "POST":
            content_kind(request.headers.get("content-type"))
            body = (await self._body(request)).decode("utf-8", "replace")
            raw_body = body
            try:
                parsed = json.loads(body) if body.strip() else {}
            except json.JSONDecodeError:
                parsed = None
            arguments = parsed if isinstance(parsed, dict) else {}
            if parsed is None and not any(f.single_unnamed_body for f in candidates):
                raise ApiError(400, "PGRST102", "Empty or invalid json", None, None)
            add_filters(params, params.plain)
        else:
            raise ApiError(405, "PGRST117", f"Unsupported HTTP method: {request.method}")
        function = cache.function(schema, name, arguments, raw_body is not None)
        if function.single_unnamed_body and request.method == "POST":
            arguments = {}
        else:
            raw_body = None
        offset, limit = _paging(request, params)
        builder = StatementBuilder(cache, schema, params, max_rows=self.config.max_rows)
        statement = builder.call(
            function,
            arguments,
            raw_body,
            exact_count=prefs.count is not None,
            body=media.body,
            limit=limit,
            offset=offset,
        )
        readonly = request.method in ("GET", "HEAD") or function.volatility != "v"

        async def work(conn: PoolConnectionProxy) -> Response:
            row = await _fetch_one(conn, statement)
            if function.returns_void:
                return Response(status_override(row, 204), headers=response_headers(row, prefs))
            if not function.returns_set:
                body = row[2].encode()
                if media.single and function.returns_rows and body == b"null":
                    raise singular_error(0)
                return Response(
                    status_override(row, 200),
                    body,
                    media.content_type,
                    response_headers(row, prefs),
                )
            return page_response(row, row[0], offset or 0, media, prefs)

        return await self._run(
            request,
            credentials,
            schema,
            readonly=readonly,
            rollback=prefs.rollback,
            work=work,
            # One statement with nothing to check after it (a singular response must roll back
            # on zero rows, an invalid response GUC with a 500; tx=rollback must not commit):
            # commit with the statement.
            single_statement=not (
                readonly or prefs.rollback or media.single or function.sets_response
            ),
        )


# -- helpers shared by reads, writes and calls -----------------------------------------------------


def _check_affected(count: int, media: Media, prefs: Preferences) -> None:
    """Refuse (and so roll back) a write that touched the wrong number of rows."""
    if media.single and count != 1:
        raise singular_error(count)
    if prefs.max_affected is not None and count > prefs.max_affected:
        raise ApiError(
            400,
            "PGRST124",
            "Query result exceeds max-affected preference constraint",
            f"The query affects {count} rows",
            None,
        )


async def _fetch_one(conn: PoolConnectionProxy, statement: Statement) -> asyncpg.Record:
    """The single row every built statement returns."""
    row = await conn.fetchrow(statement.sql, *statement.params)
    if row is None:  # pragma: no cover - the statements aggregate, so they always return a row
        raise ApiError(500, "PGRST000", "The database returned no row for the request")
    return row


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _paging(request: Request, params: QueryParams) -> tuple[int | None, int | None]:
    offset = params.offset.get(())
    limit = params.limit.get(())
    ranged = (
        parse_range(request.headers.get("range")) if request.method in ("GET", "HEAD") else None
    )
    if ranged is not None:
        first, count = ranged
        offset = first if offset is None else max(offset, first)
        if count is not None:
            limit = count if limit is None else min(limit, count)
    return offset, limit


async def _planned_count(conn: PoolConnectionProxy, statement: Statement) -> int:
    plan = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {statement.sql}", *statement.params)
    return int(json.loads(plan)[0]["Plan"]["Plan Rows"])
