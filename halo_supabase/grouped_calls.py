"""Group commit for RPCs: callers that arrive while a call is in flight share the next call.

No timer: a caller on an idle group is sent at once, so grouping adds no delay at low load and
saves a request (a gateway round trip, a transaction, a commit) per caller at high load. Used for
job completions (`api.complete_jobs`) and inbound emails (`api.apply_inbound_emails`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupedCall"]

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupedCall(Generic[Item, Result]):
    """`await group(item)` returns the item's outcome from `send(items)`, which answers a list
    in the same order as its items; an outcome that is an exception is raised to that item's
    caller alone. When `send` itself raises (the gateway unreachable, ...), every caller of that
    call gets the error and may retry."""

    def __init__(
        self,
        send: Callable[[list[Item]], Awaitable[Sequence[Result | BaseException]]],
        max_items: int,
    ) -> None:
        self._send = send
        self.max_items = max_items
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        outcome: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, outcome))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await outcome

    async def _flush(self) -> None:
        while self._waiting:
            group = self._waiting[: self.max_items]
            del self._waiting[: self.max_items]
            try:
                results = await self._send([item for item, _ in group])
                if len(results) != len(group):
                    raise RuntimeError(
                        f"a grouped call answered {len(results)} outcomes for {len(group)} items"
                    )
            except Exception as exc:
                for _, outcome in group:
                    if not outcome.done():  # a cancelled caller (worker stopping) wants nothing
                        outcome.set_exception(exc)
                continue
            for (_, outcome), result in zip(group, results, strict=True):
                if outcome.done():
                    continue
                if isinstance(result, BaseException):
                    outcome.set_exception(result)
                else:
                    outcome.set_result(result)
