"""The OpenAPI (Swagger 2.0) description PostgREST serves at the API root."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from halo_supabase.local.gateway.rest.schema_cache import Column, SchemaCache

__all__ = ["openapi_document"]

_FORMATS = {
    "integer": ("integer", "int32"),
    "bigint": ("integer", "int64"),
    "smallint": ("integer", "int16"),
    "numeric": ("number", None),
    "real": ("number", "float"),
    "double precision": ("number", "double"),
    "boolean": ("boolean", None),
    "json": ("object", None),
    "jsonb": ("object", None),
}


def _property(column: Column) -> dict[str, Any]:
    kind, fmt = _FORMATS.get(column.type, ("string", None))
    if column.type.endswith("[]"):
        return {"type": "array", "items": {"type": "string"}, "format": column.type}
    prop: dict[str, Any] = {"type": kind, "format": fmt or column.type}
    if column.default is not None:
        prop["default"] = column.default
    if column.description:
        prop["description"] = column.description
    return prop


def openapi_document(cache: SchemaCache, schema: str, base_url: str) -> dict[str, Any]:
    """Paths for every relation and function of `schema`, definitions for every relation."""
    paths: dict[str, Any] = {
        "/": {
            "get": {
                "produces": ["application/openapi+json", "application/json"],
                "responses": {"200": {"description": "OK"}},
                "summary": "OpenAPI description (this document)",
                "tags": ["Introspection"],
            }
        }
    }
    definitions: dict[str, Any] = {}
    for (relation_schema, name), relation in sorted(cache.relations.items()):
        if relation_schema != schema:
            continue
        ref = {"$ref": f"#/definitions/{name}"}
        operations: dict[str, Any] = {
            "get": {
                "tags": [name],
                "summary": relation.description,
                "responses": {
                    "200": {"description": "OK", "schema": {"type": "array", "items": ref}},
                    "206": {"description": "Partial Content"},
                },
            },
        }
        if relation.kind in ("r", "p", "v", "f"):
            for verb, status in (("post", "201"), ("patch", "204"), ("delete", "204")):
                operations[verb] = {"tags": [name], "responses": {status: {"description": "OK"}}}
        paths[f"/{name}"] = operations
        definitions[name] = {
            "type": "object",
            "description": relation.description,
            "required": [
                c.name for c in relation.columns.values() if not c.nullable and c.default is None
            ],
            "properties": {c.name: _property(c) for c in relation.columns.values()},
        }
    for (function_schema, name), functions in sorted(cache.functions.items()):
        if function_schema != schema:
            continue
        function = functions[0]
        parameters = [
            {
                "name": p.name,
                "in": "query",
                "required": not p.has_default,
                "type": "string",
                "format": p.type,
            }
            for p in function.params
            if p.name
        ]
        paths[f"/rpc/{name}"] = {
            "get": {
                "tags": ["(rpc) " + name],
                "summary": function.description,
                "parameters": parameters,
                "responses": {"200": {"description": "OK"}},
            },
            "post": {
                "tags": ["(rpc) " + name],
                "summary": function.description,
                "responses": {"200": {"description": "OK"}},
            },
        }
    parts = urlsplit(base_url)
    return {
        "swagger": "2.0",
        "info": {
            "title": "Halo Inbox REST API",
            "description": "PostgREST-compatible API of the local stack",
            "version": "14",
        },
        "host": parts.netloc,
        "basePath": "/rest/v1/",
        "schemes": [parts.scheme],
        "consumes": ["application/json", "application/vnd.pgrst.object+json", "text/csv"],
        "produces": ["application/json", "application/vnd.pgrst.object+json", "text/csv"],
        "paths": paths,
        "definitions": definitions,
    }
