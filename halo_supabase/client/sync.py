"""`SyncHaloClient`: the async `HaloClient` called from synchronous code (tests, scripts).

Not a second implementation: every method is `HaloClient`'s, run on an event loop that the
wrapper keeps in a thread of its own, so it also works where another loop is already running.

    service = SyncHaloClient.connect(url, service_role_key)
    ticket = service.create_ticket(workspace_id, "Printer on fire")
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from halo_supabase.client.halo import HaloClient
from supabase import AsyncClientOptions

__all__ = ["SyncHaloClient"]

T = TypeVar("T")

CALL_TIMEOUT_SECONDS = 60.0


class SyncHaloClient:
    """`HaloClient`'s methods as blocking calls (`__getattr__` forwards them)."""

    def __init__(self, connect: Callable[[], Coroutine[Any, Any, HaloClient]]) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="halo-sync-client", daemon=True
        )
        self._thread.start()
        self.client = self.run(connect())

    @classmethod
    def connect(
        cls,
        url: str,
        key: str,
        options: AsyncClientOptions | None = None,
        *,
        access_token: str | None = None,
    ) -> SyncHaloClient:
        """See `HaloClient.connect`."""
        return cls(lambda: HaloClient.connect(url, key, options, access_token=access_token))

    def run(self, call: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT_SECONDS) -> T:
        """Run one coroutine on the wrapper's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(call, self._loop).result(timeout)

    def sign_in(self, email: str, password: str) -> str:
        """Sign in with a password; returns the access token. Later calls run as that user."""
        response = self.run(
            self.client.supabase.auth.sign_in_with_password({"email": email, "password": password})
        )
        if response.session is None:
            raise RuntimeError(f"{email} signed in without a session")
        return response.session.access_token

    def close(self) -> None:
        """Stop the wrapper's loop and thread."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method: Callable[..., Awaitable[Any]] = getattr(self.client, name)

        def blocking(*args: Any, **kwargs: Any) -> Any:
            return self.run(_awaited(method(*args, **kwargs)))

        return blocking


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable
