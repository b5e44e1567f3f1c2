"""The Storage service at /storage/v1: storage-api's HTTP routes over storage.buckets/objects."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from halo_supabase.local.gateway.app import GatewayContext
from halo_supabase.local.gateway.credentials import Credentials, CredentialsError
from halo_supabase.local.gateway.http import Message, Receive, Request, Scope, Send, send_json
from halo_supabase.local.gateway.storage import buckets, objects
from halo_supabase.local.gateway.storage.blobs import BlobStore
from halo_supabase.local.gateway.storage.call import Call, StorageParts
from halo_supabase.local.gateway.storage.errors import StorageError, from_credentials
from halo_supabase.local.gateway.storage.signing import UrlSigner

__all__ = ["StorageService", "create_service"]

log = logging.getLogger(__name__)

# The Supabase CLI's default `[storage] file_size_limit` ("50MiB"): the ceiling for any bucket.
MAX_FILE_SIZE = 50 * 1024 * 1024

Handler = Callable[[Call], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler
    # Public and signed-URL routes are authorized by the bucket or the URL token, not by a JWT.
    anonymous: bool = False


def _route(methods: str, pattern: str, handler: Handler, *, anonymous: bool = False) -> Route:
    regex = pattern.replace("{bucket}", "(?P<bucket>[^/]+)").replace("{name}", "(?P<name>.+)")
    return Route(frozenset(methods.split()), re.compile(f"^{regex}$"), handler, anonymous)


ROUTES = [
    _route("GET", "/bucket/?", buckets.list_buckets),
    _route("POST", "/bucket/?", buckets.create_bucket),
    _route("POST", "/bucket/{bucket}/empty/?", buckets.empty_bucket),
    _route("GET", "/bucket/{bucket}/?", buckets.get_bucket),
    _route("PUT", "/bucket/{bucket}/?", buckets.update_bucket),
    _route("DELETE", "/bucket/{bucket}/?", buckets.delete_bucket),
    _route("POST", "/object/list/{bucket}/?", objects.list_objects),
    _route("POST", "/object/move", objects.move_object),
    _route("POST", "/object/copy", objects.copy_object),
    _route(
        "GET HEAD",
        "/object/sign/{bucket}/{name}",
        partial(objects.download, access="signed"),
        anonymous=True,
    ),
    _route("POST", "/object/sign/{bucket}/{name}", objects.sign_url),
    _route("POST", "/object/sign/{bucket}/?", objects.sign_urls),
    _route("PUT", "/object/upload/sign/{bucket}/{name}", objects.upload_with_token, anonymous=True),
    _route("POST", "/object/upload/sign/{bucket}/{name}", objects.sign_upload_or_upload),
    _route(
        "GET HEAD",
        "/object/public/{bucket}/{name}",
        partial(objects.download, access="public"),
        anonymous=True,
    ),
    _route(
        "GET",
        "/object/info/public/{bucket}/{name}",
        partial(objects.download, access="public", info=True),
        anonymous=True,
    ),
    _route(
        "GET",
        "/object/info/authenticated/{bucket}/{name}",
        partial(objects.download, access="authenticated", info=True),
    ),
    _route(
        "GET",
        "/object/info/{bucket}/{name}",
        partial(objects.download, access="authenticated", info=True),
    ),
    _route(
        "GET HEAD",
        "/object/authenticated/{bucket}/{name}",
        partial(objects.download, access="authenticated"),
    ),
    _route(
        "GET HEAD", "/object/{bucket}/{name}", partial(objects.download, access="authenticated")
    ),
    _route("POST", "/object/{bucket}/{name}", objects.upload),
    _route("PUT", "/object/{bucket}/{name}", partial(objects.upload, upsert=True)),
    _route("DELETE", "/object/{bucket}/?", objects.remove_objects),
    _route("DELETE", "/object/{bucket}/{name}", objects.delete_object),
]

_ANON = Credentials("anon", {"role": "anon"}, None)


class StorageService:
    def __init__(self, context: GatewayContext) -> None:
        self.context = context
        self.parts = StorageParts(
            db=context.db,
            blobs=BlobStore(context.settings.state_dir / "storage"),
            signer=UrlSigner(context.tokens),
            max_file_size=MAX_FILE_SIZE,
        )

    async def startup(self) -> None:
        self.parts.blobs.root.mkdir(parents=True, exist_ok=True)

    async def shutdown(self) -> None:
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request.from_scope(scope, receive)
        sent = False

        async def tracking_send(message: Message) -> None:
            nonlocal sent
            sent = True
            await send(message)

        try:
            await self._dispatch(request, tracking_send)
        except StorageError as exc:
            if sent:
                raise
            await send_json(send, exc.http_status, exc.body())
        except Exception:
            log.exception("storage request failed", extra={"action": "storage.request"})
            if sent:
                raise
            error = StorageError(500, "InternalError", "Internal Server Error", error="Internal")
            await send_json(send, 500, error.body())

    async def _dispatch(self, request: Request, send: Send) -> None:
        for route in ROUTES:
            if request.method not in route.methods:
                continue
            match = route.pattern.match(request.path)
            if match is None:
                continue
            groups = match.groupdict()
            call = Call(
                parts=self.parts,
                request=request,
                send=send,
                credentials=_ANON if route.anonymous else self._credentials(request),
                bucket_id=groups.get("bucket") or "",
                name=groups.get("name") or "",
            )
            await route.handler(call)
            return
        raise StorageError.not_found_route(request.method, request.path)

    def _credentials(self, request: Request) -> Credentials:
        try:
            return self.context.tokens.resolve(request.headers, request.query())
        except CredentialsError as exc:
            raise from_credentials(exc) from None


def create_service(context: GatewayContext) -> StorageService:
    return StorageService(context)
