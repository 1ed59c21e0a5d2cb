"""API keys: issue (the key is shown once), list, revoke."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from adapters.http.access import caller_in
from adapters.http.problems import problem_responses
from adapters.http.services import Svc
from schemas.identity import ApiKeyView, CreateApiKey, IssuedApiKey, KeyList, RevokeApiKey

__all__ = ["KEY_ROUTES"]

TenantQuery = Annotated[
    str | None,
    QueryParameter(
        name="tenant",
        required=False,
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Another tenant (needs tenants:manage).",
    ),
]


@post(
    "/v1/keys",
    tags=["keys"],
    sync_to_thread=True,
    status_code=201,
    summary="Issue an API key",
    responses=problem_responses(400, 401, 403, 409, 422, 429),
)
def create_key(
    data: JSONBody[CreateApiKey], request: Request[Any, Any, Any], svc: Svc
) -> Response[IssuedApiKey]:
    """The key is in this response only: the ledger keeps its SHA-256."""
    issued = svc.keys.issue(data, caller_in(request.scope))
    return Response(issued, status_code=201, headers={"Cache-Control": "no-store"})


@get(
    "/v1/keys",
    tags=["keys"],
    sync_to_thread=True,
    summary="List API keys",
    responses=problem_responses(400, 401, 403, 429),
)
def list_keys(request: Request[Any, Any, Any], svc: Svc, tenant: TenantQuery = None) -> KeyList:
    """The keys of your tenant (hints, never the keys), revoked ones included."""
    return KeyList(keys=svc.keys.list_keys(caller_in(request.scope), tenant))


@post(
    "/v1/keys/{key_id:uuid}/revoke",
    tags=["keys"],
    sync_to_thread=True,
    status_code=200,
    summary="Revoke an API key",
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429),
)
def revoke_key(
    key_id: FromPath[uuid.UUID],
    request: Request[Any, Any, Any],
    svc: Svc,
    data: JSONBody[RevokeApiKey | None] = None,
) -> ApiKeyView:
    """The key stops working on the next request (idempotent)."""
    reason = data.reason if data is not None else ""
    return svc.keys.revoke(key_id, reason, caller_in(request.scope))


KEY_ROUTES = [create_key, list_keys, revoke_key]
