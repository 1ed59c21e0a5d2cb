"""REST for the control registry: versions, activation, rollback, history, snapshot."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from adapters.http.problems import problem_responses
from adapters.http.services import POSITION_HEADER, Svc, caller_of
from adapters.postgres.control_reads import ControlItemSummary
from domain.control import InvalidSpec, normalise_kind
from services.control import ControlChange, ControlHistory

__all__ = ["control_router"]


class Activate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[int, msgspec.Meta(ge=1)]
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Rollback(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class SnapshotView(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    hash: str
    items: dict[str, dict[str, dict[str, Any]]]


class ItemList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ControlItemSummary]


def _changed(change: ControlChange, status: int = 200) -> Response[ControlChange]:
    headers = {POSITION_HEADER: str(change.position)} if change.position is not None else {}
    return Response(change, status_code=status, headers=headers)


def _split(body: dict[str, Any]) -> tuple[dict[str, Any], str, bool]:
    spec = dict(body)
    reason = spec.pop("reason", "")
    activate = spec.pop("activate", False)
    if not isinstance(reason, str) or not isinstance(activate, bool):
        raise InvalidSpec("reason must be a string and activate a boolean")
    return spec, reason, activate


@post(
    "/{kind:str}/{name:str}/versions",
    sync_to_thread=True,
    status_code=201,
    summary="Add a version of a control item",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def add_version(
    kind: FromPath[str],
    name: FromPath[str],
    data: JSONBody[dict[str, Any]],
    request: Request[Any, Any, Any],
    svc: Svc,
) -> Response[ControlChange]:
    """Body: the item's spec (e.g. `{"template": "..."}` for a prompt) with an optional
    `reason`, and `"activate": true` to make it effective at once."""
    spec, reason, activate = _split(data)
    change = svc.control.add_version(
        kind, name, spec, reason, caller_of(request), activate=activate
    )
    return _changed(change, 201)


@post(
    "/{kind:str}/{name:str}/activate",
    sync_to_thread=True,
    status_code=200,
    summary="Activate a version",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def activate(
    kind: FromPath[str],
    name: FromPath[str],
    data: JSONBody[Activate],
    request: Request[Any, Any, Any],
    svc: Svc,
) -> Response[ControlChange]:
    return _changed(svc.control.activate(kind, name, data.version, data.reason, caller_of(request)))


@post(
    "/{kind:str}/{name:str}/rollback",
    sync_to_thread=True,
    status_code=200,
    summary="Go back to the previously active version",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def rollback(
    kind: FromPath[str],
    name: FromPath[str],
    request: Request[Any, Any, Any],
    svc: Svc,
    data: JSONBody[Rollback | None] = None,
) -> Response[ControlChange]:
    reason = data.reason if data else ""
    return _changed(svc.control.rollback(kind, name, reason, caller_of(request)))


@get(
    "/{kind:str}/{name:str}",
    sync_to_thread=True,
    summary="Versions and activations",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def history(
    kind: FromPath[str], name: FromPath[str], request: Request[Any, Any, Any], svc: Svc
) -> ControlHistory:
    return svc.control.history(kind, name, caller_of(request))


@get(
    "/snapshot",
    sync_to_thread=True,
    summary="The effective registry and its hash",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def snapshot(
    request: Request[Any, Any, Any],
    svc: Svc,
    min_position: Annotated[int | None, QueryParameter(ge=0)] = None,
) -> SnapshotView:
    """Read your writes: pass the `position` of a change as `min_position`."""
    if min_position is not None:
        svc.wait_for(("control",), min_position)
    snap = svc.control_reads.snapshot(caller_of(request).tenant)
    return SnapshotView(tenant=snap.tenant, hash=snap.hash, items=snap.items)


@get(
    "/",
    sync_to_thread=True,
    summary="Control items",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def list_items(
    request: Request[Any, Any, Any],
    svc: Svc,
    kind: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> ItemList:
    canonical = normalise_kind(kind) if kind else None
    return ItemList(items=svc.control_reads.items(caller_of(request).tenant, canonical))


# -- Synaps-compatible aliases ----------------------------------------------------------


class PromptActivation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None
    template: str | None = None
    variables: list[str] | None = None
    description: str | None = None
    reason: str = ""


@post(
    "/prompts/activate",
    sync_to_thread=True,
    status_code=200,
    summary="Activate a prompt (a version, or a new template)",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def activate_prompt(
    data: JSONBody[PromptActivation], request: Request[Any, Any, Any], svc: Svc
) -> Response[ControlChange]:
    caller = caller_of(request)
    if data.template is not None:
        spec: dict[str, Any] = {"template": data.template}
        if data.variables is not None:
            spec["variables"] = data.variables
        if data.description is not None:
            spec["description"] = data.description
        return _changed(
            svc.control.add_version("prompt", data.name, spec, data.reason, caller, activate=True)
        )
    if data.version is None:
        raise InvalidSpec("give a version to activate, or a template")
    return _changed(svc.control.activate("prompt", data.name, data.version, data.reason, caller))


def _register(
    kind: str, data: dict[str, Any], request: Request[Any, Any, Any], svc: Any
) -> Response[ControlChange]:
    body = dict(data)
    name = body.pop("name", None)
    if not isinstance(name, str) or not name:
        raise InvalidSpec("name is required")
    spec, reason, _ = _split(body)
    return _changed(
        svc.control.add_version(kind, name, spec, reason, caller_of(request), activate=True), 201
    )


@post(
    "/skills/register",
    sync_to_thread=True,
    status_code=201,
    summary="Register a skill",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def register_skill(
    data: JSONBody[dict[str, Any]], request: Request[Any, Any, Any], svc: Svc
) -> Response[ControlChange]:
    return _register("skill", data, request, svc)


@post(
    "/routing-rules/update",
    sync_to_thread=True,
    status_code=201,
    summary="Create or update a routing rule (active at once)",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def update_routing_rule(
    data: JSONBody[dict[str, Any]], request: Request[Any, Any, Any], svc: Svc
) -> Response[ControlChange]:
    return _register("routing_rule", data, request, svc)


control_router = Router(
    path="/v1/control",
    tags=["control"],
    route_handlers=[
        snapshot,
        list_items,
        activate_prompt,
        register_skill,
        update_routing_rule,
        add_version,
        activate,
        rollback,
        history,
    ],
)
