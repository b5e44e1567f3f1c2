"""The Auth service mounted at `/auth/v1`: routes GoTrue's paths to the handlers and words every
failure as GoTrue does (see `errors.py`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from halo_supabase.local.gateway.app import GatewayContext
from halo_supabase.local.gateway.auth import admin, current_user, grants, metadata, signup
from halo_supabase.local.gateway.auth.config import AuthConfig
from halo_supabase.local.gateway.auth.errors import AuthError, render_error
from halo_supabase.local.gateway.auth.guards import Guards
from halo_supabase.local.gateway.auth.ratelimit import RateLimiter
from halo_supabase.local.gateway.auth.request import AuthRequest, Reply
from halo_supabase.local.gateway.auth.sessions import SessionStore
from halo_supabase.local.gateway.auth.state import AuthState
from halo_supabase.local.gateway.auth.tokens import AccessTokenIssuer
from halo_supabase.local.gateway.auth.users import UserStore
from halo_supabase.local.gateway.http import Receive, Request, Scope, Send, send_bytes, send_json

__all__ = ["AuthService", "create_service"]

log = logging.getLogger(__name__)

Handler = Callable[[AuthState, AuthRequest, dict[str, str]], Awaitable[Reply]]

_USER_ID = r"(?P<user_id>[^/]+)"
_ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(r"/signup"), {"POST": signup.signup}),
    (re.compile(r"/token"), {"POST": grants.token}),
    (re.compile(r"/user"), {"GET": current_user.get_user, "PUT": current_user.update_user}),
    (re.compile(r"/logout"), {"POST": current_user.logout}),
    (re.compile(r"/settings"), {"GET": metadata.settings}),
    (re.compile(r"/health"), {"GET": metadata.health}),
    (re.compile(r"/\.well-known/jwks\.json"), {"GET": metadata.jwks}),
    (re.compile(r"/admin/users"), {"GET": admin.list_users, "POST": admin.create_user}),
    (
        re.compile(rf"/admin/users/{_USER_ID}"),
        {"GET": admin.get_user, "PUT": admin.update_user, "DELETE": admin.delete_user},
    ),
]

# GoTrue endpoints the local stack does not serve: answered with a JSON error the clients can
# raise, instead of a bare 404 that reads as a wrong URL.
_UNAVAILABLE = re.compile(
    r"/(otp|verify|recover|resend|magiclink|invite|reauthenticate|authorize|callback|sso(/.*)?"
    r"|factors(/.*)?|passkeys(/.*)?|user/identities(/.*)?|admin/generate_link|admin/sso(/.*)?"
    r"|admin/users/[^/]+/factors(/.*)?|admin/audit)"
)


class AuthService:
    def __init__(self, context: GatewayContext) -> None:
        settings = context.settings
        config = AuthConfig.load(
            settings.supabase_dir / "config.toml", issuer=f"{settings.url}/auth/v1"
        )
        users = UserStore()
        sessions = SessionStore(users)
        self.state = AuthState(
            config=config,
            users=users,
            sessions=sessions,
            issuer=AccessTokenIssuer(context.tokens, config),
            guards=Guards(context.tokens, config, users, sessions),
            token_limiter=RateLimiter(config.token_requests_per_second, config.rate_limit_burst),
            signup_limiter=RateLimiter(config.signups_per_second, config.rate_limit_burst),
            # GoTrue limits PUT /user with its own bucket at the sign-up rate.
            user_update_limiter=RateLimiter(config.signups_per_second, config.rate_limit_burst),
            anonymous_limiter=RateLimiter(config.anonymous_per_second, config.anonymous_per_hour),
            dsn=context.db.dsn("supabase_auth_admin"),
        )

    async def startup(self) -> None:
        await self.state.open()

    async def shutdown(self) -> None:
        await self.state.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})
            return
        request = AuthRequest(Request.from_scope(scope, receive))
        path = request.http.path.rstrip("/") or "/"
        for pattern, methods in _ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                # chi answers a known path with an unknown method this way.
                await send_bytes(send, 405, b"", content_type=None)
                return
            await self._run(handler, request, match.groupdict(), send)
            return
        if _UNAVAILABLE.fullmatch(path):
            error = AuthError(
                501,
                "not_implemented",
                f"{request.method} /auth/v1{path} needs a mailer, SMS, MFA or an identity "
                "provider, which the local stack does not have (see docs/local-stack.md, Auth)",
            )
            body, headers = render_error(error, request.api_version)
            await send_json(send, 501, body, headers=headers)
            return
        await send_bytes(
            send, 404, b"404 page not found\n", content_type="text/plain; charset=utf-8"
        )

    async def _run(
        self, handler: Handler, request: AuthRequest, path: dict[str, str], send: Send
    ) -> None:
        try:
            reply = await handler(self.state, request, path)
        except AuthError as error:
            if error.status >= 500:
                log.warning(
                    "auth request failed",
                    extra={"action": "auth.error", "code": error.code},
                    exc_info=error.__cause__ is not None,
                )
            body, headers = render_error(error, request.api_version)
            await send_json(send, error.status, body, headers=headers)
            return
        except Exception:
            log.exception("auth handler crashed", extra={"action": "auth.crash"})
            failure = AuthError(
                500,
                "unexpected_failure",
                "Unexpected failure, please check server logs for more information",
            )
            body, headers = render_error(failure, request.api_version)
            await send_json(send, 500, body, headers=headers)
            return
        if reply.body is None:
            await send_bytes(send, reply.status, b"", content_type=None, headers=reply.headers)
        else:
            await send_json(send, reply.status, reply.body, headers=reply.headers)


def create_service(context: GatewayContext) -> AuthService:
    return AuthService(context)
