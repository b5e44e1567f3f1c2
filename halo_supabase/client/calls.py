"""The one road from Python to the `api` schema: a PostgREST request made by supabase-py's async
client, as any client of a Supabase project makes it.

:class:`ApiCalls` turns keyword arguments into a function's `p_`-prefixed JSON parameters
(UUIDs, datetimes and pydantic documents made JSON), validates results into models, and reads
views with equality filters. The concept modules of this package add one method per function on
top of it. Database errors are postgrest's `APIError`, whose `code` is the SQLSTATE the function
raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from postgrest import AsyncPostgrestClient
from pydantic import BaseModel

from halo_supabase.models import ViewModel
from supabase import AsyncClient

__all__ = ["ApiCalls", "jsonable"]

M = TypeVar("M", bound=BaseModel)
V = TypeVar("V", bound=ViewModel)


def jsonable(value: object) -> object:
    """A value as PostgREST's JSON body carries it."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    return value


class ApiCalls:
    """Calls into the `api` schema as whoever `supabase` is signed in as (or its key's role)."""

    def __init__(self, supabase: AsyncClient) -> None:
        self.supabase = supabase

    def _api(self) -> AsyncPostgrestClient:
        # Asked for each call: supabase-py rebuilds its PostgREST client (same HTTP session kind,
        # the new Authorization header) when the user signs in or the token is refreshed.
        return self.supabase.schema("api")

    async def _rpc(self, function: str, params: dict[str, object]) -> Any:
        """POST /rest/v1/rpc/<function> with `params` as the JSON body; the response's data."""
        # postgrest-py annotates params as dict[str, str] but sends any JSON body unchanged.
        response = await self._api().rpc(function, cast("dict[str, str]", params)).execute()
        return response.data

    async def _call(self, function: str, /, **arguments: object) -> Any:
        """Call `api.<function>`; arguments left as None are not sent (the SQL default applies)."""
        return await self._call_with_nulls(
            function, {name: value for name, value in arguments.items() if value is not None}
        )

    async def _call_with_nulls(self, function: str, arguments: Mapping[str, object]) -> Any:
        """Call `api.<function>` sending every argument, None as JSON null."""
        return await self._rpc(
            function, {f"p_{name}": jsonable(value) for name, value in arguments.items()}
        )

    async def _one(self, model: type[M], function: str, /, **arguments: object) -> M:
        return model.model_validate(await self._call(function, **arguments))

    async def _many(self, model: type[M], function: str, /, **arguments: object) -> list[M]:
        return [model.model_validate(row) for row in await self._call(function, **arguments) or []]

    # -- views ---------------------------------------------------------------------------------

    async def rows(
        self,
        model: type[V],
        *,
        limit: int = 1000,
        order_by: str | None = None,
        descending: bool = False,
        at_least: Mapping[str, object] | None = None,
        **equal: object,
    ) -> list[V]:
        """Rows of `model`'s view where each `equal` column equals its value and each `at_least`
        column is ≥ its value (RLS decides which rows the caller sees)."""
        query = self._api().from_(model.VIEW).select("*")
        for column, value in equal.items():
            query = query.eq(column, str(jsonable(value)))
        for column, value in (at_least or {}).items():
            query = query.gte(column, str(jsonable(value)))
        if order_by is not None:
            query = query.order(order_by, desc=descending)
        response = await query.limit(limit).execute()
        return [model.model_validate(row) for row in response.data]

    async def insert(self, model: type[V], values: Mapping[str, object]) -> V:
        """Insert one row through `model`'s view (where the view is writable and RLS allows)."""
        body = cast("dict[str, Any]", jsonable(dict(values)))
        response = await self._api().from_(model.VIEW).insert(body).execute()
        return model.model_validate(response.data[0])

    async def update(
        self, model: type[V], values: Mapping[str, object], **equal: object
    ) -> list[V]:
        """Update the rows of `model`'s view where each `equal` column equals its value."""
        body = cast("dict[str, Any]", jsonable(dict(values)))
        query = self._api().from_(model.VIEW).update(body)
        for column, value in equal.items():
            query = query.eq(column, str(jsonable(value)))
        response = await query.execute()
        return [model.model_validate(row) for row in response.data]

    async def delete(self, model: type[V], **equal: object) -> list[V]:
        """Delete the rows of `model`'s view where each `equal` column equals its value; returns
        them."""
        query = self._api().from_(model.VIEW).delete()
        for column, value in equal.items():
            query = query.eq(column, str(jsonable(value)))
        response = await query.execute()
        return [model.model_validate(row) for row in response.data]
