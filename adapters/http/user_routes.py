"""Users: register, list, disable."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody

from adapters.http.access import caller_in
from adapters.http.key_routes import TenantQuery
from adapters.http.problems import problem_responses
from adapters.http.services import Svc
from schemas.identity import CreateUser, DisableUser, UserList, UserView

__all__ = ["USER_ROUTES"]


@post(
    "/v1/users",
    tags=["users"],
    sync_to_thread=True,
    status_code=201,
    summary="Register a user",
    responses=problem_responses(400, 401, 403, 409, 422, 429),
)
def create_user(
    data: JSONBody[CreateUser], request: Request[Any, Any, Any], svc: Svc
) -> Response[UserView]:
    """Roles: viewer, operator, worker, admin; permissions beyond them may be granted."""
    return Response(svc.users.create(data, caller_in(request.scope)), status_code=201)


@get(
    "/v1/users",
    tags=["users"],
    sync_to_thread=True,
    summary="List users",
    responses=problem_responses(400, 401, 403, 429),
)
def list_users(request: Request[Any, Any, Any], svc: Svc, tenant: TenantQuery = None) -> UserList:
    return UserList(users=svc.users.list_users(caller_in(request.scope), tenant))


@post(
    "/v1/users/{user_id:uuid}/disable",
    tags=["users"],
    sync_to_thread=True,
    status_code=200,
    summary="Disable a user",
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429),
)
def disable_user(
    user_id: FromPath[uuid.UUID],
    request: Request[Any, Any, Any],
    svc: Svc,
    data: JSONBody[DisableUser | None] = None,
) -> UserView:
    """The user can no longer sign in; its sessions end at once."""
    reason = data.reason if data is not None else ""
    return svc.users.disable(user_id, reason, caller_in(request.scope))


USER_ROUTES = [create_user, list_users, disable_user]
