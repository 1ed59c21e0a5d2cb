"""Sign in, refresh, sign out, change the password, who am I, and our public keys.

The refresh token travels in the body (for the CLI) and in an HTTP-only,
Secure, SameSite=Strict cookie scoped to ``/v1/auth`` (for browsers).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody

from adapters.http.access import caller_in
from adapters.http.problems import problem_responses
from adapters.http.services import Svc
from schemas.identity import ChangePassword, Login, Refresh, TokenPair, WhoAmI
from services.ports import Caller
from services.refusals import Origin

__all__ = ["AUTH_ROUTES", "REFRESH_COOKIE"]

REFRESH_COOKIE = "synaps_refresh"
_COOKIE_PATH = "/v1/auth"


def _origin(request: Request[Any, Any, Any]) -> Origin:
    caller = caller_in(request.scope)
    return Origin.of(caller, f"{request.method} {request.url.path}")


def _with_cookie(pair: TokenPair) -> Response[TokenPair]:
    seconds = 7 * 24 * 3600
    return Response(
        pair,
        cookies=[
            Cookie(
                key=REFRESH_COOKIE,
                value=pair.refresh_token,
                max_age=seconds,
                path=_COOKIE_PATH,
                httponly=True,
                secure=True,
                samesite="strict",
            )
        ],
        headers={"Cache-Control": "no-store"},
    )


@post(
    "/v1/auth/login",
    tags=["auth"],
    sync_to_thread=True,
    status_code=200,
    summary="Sign in with email and password",
    responses=problem_responses(400, 401, 422, 429, 503),
    security=[],
)
def login(data: JSONBody[Login], request: Request[Any, Any, Any], svc: Svc) -> Response[TokenPair]:
    """A 15-minute access token and a 7-day refresh token (also set as a cookie)."""
    return _with_cookie(svc.sessions.login(data, _origin(request)))


@post(
    "/v1/auth/refresh",
    tags=["auth"],
    sync_to_thread=True,
    status_code=200,
    summary="Trade a refresh token for new tokens",
    responses=problem_responses(400, 401, 409, 422, 429, 503),
)
def refresh(
    request: Request[Any, Any, Any], svc: Svc, data: JSONBody[Refresh | None] = None
) -> Response[TokenPair]:
    """The refresh token (body or cookie) dies and a new one replaces it. Presenting
    one that died already revokes the whole session."""
    token = (data.refresh_token if data else None) or request.cookies.get(REFRESH_COOKIE)
    return _with_cookie(svc.sessions.refresh(token, _origin(request)))


@post(
    "/v1/auth/logout",
    tags=["auth"],
    sync_to_thread=True,
    status_code=204,
    summary="Sign out",
    responses=problem_responses(400, 401, 409, 422, 429),
    response_cookies=[
        Cookie(
            key=REFRESH_COOKIE,
            value="",
            max_age=0,
            path=_COOKIE_PATH,
            httponly=True,
            secure=True,
            samesite="strict",
            description="cleared",
        )
    ],
)
def logout(
    request: Request[Any, Any, Any], svc: Svc, data: JSONBody[Refresh | None] = None
) -> None:
    """Ends the session of the refresh token (body or cookie), or of the access token."""
    token = (data.refresh_token if data else None) or request.cookies.get(REFRESH_COOKIE)
    caller: Caller = caller_in(request.scope)
    svc.sessions.logout(token, caller, _origin(request))


@post(
    "/v1/auth/password",
    tags=["auth"],
    sync_to_thread=True,
    status_code=204,
    summary="Change your password",
    responses=problem_responses(400, 401, 403, 409, 422, 429),
)
def change_password(
    data: JSONBody[ChangePassword], request: Request[Any, Any, Any], svc: Svc
) -> None:
    """Every session of the user ends: sign in again with the new password."""
    svc.users.change_password(data, caller_in(request.scope))


@get(
    "/v1/auth/whoami",
    tags=["auth"],
    sync_to_thread=False,
    summary="Who the credentials belong to",
    responses=problem_responses(401, 429),
)
def whoami(request: Request[Any, Any, Any]) -> WhoAmI:
    caller = caller_in(request.scope)
    kind = caller.actor.split(":", 1)[0]
    return WhoAmI(
        actor=caller.actor,
        principal_id=caller.principal_id,
        kind={"key": "api_key"}.get(kind, kind),
        tenant=caller.tenant,
        roles=sorted(caller.roles),
        permissions=sorted(caller.permissions),
    )


@get(
    "/.well-known/jwks.json",
    tags=["auth"],
    sync_to_thread=False,
    summary="The public keys of our access tokens",
    responses=problem_responses(429),
    security=[],
)
def jwks(svc: Svc) -> dict[str, Any]:
    """Empty while tokens are signed with a shared secret (HS256)."""
    return svc.jwks()


AUTH_ROUTES = [login, refresh, logout, change_password, whoami, jwks]
