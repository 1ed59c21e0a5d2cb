"""REST for approvals: list what waits for a decision; approve or deny it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from psycopg.rows import dict_row

from adapters.http.problems import problem_responses
from adapters.http.services import POSITION_HEADER, MinPosition, Svc, caller_of
from domain.errors import NotFound
from projections.approvals import ApprovalRow
from services.approvals import Decision

__all__ = ["APPROVAL_ROUTES"]


class DecisionBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ApprovalList(msgspec.Struct, frozen=True, kw_only=True):
    approvals: list[ApprovalRow]


def _catch_up(svc: Any, position: int | None) -> None:
    if position is not None:
        svc.wait_for(("approvals",), position)


def _rows(svc: Any, where: str, params: list[Any]) -> list[ApprovalRow]:
    with svc.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        return [
            msgspec.convert(r, ApprovalRow)
            for r in cur.execute(
                f"SELECT * FROM synaps_approvals WHERE {where} ORDER BY requested_at LIMIT 500",
                params,
            )
        ]


@get(
    "/v1/approvals",
    tags=["approvals"],
    sync_to_thread=True,
    summary="List approvals",
    responses=problem_responses(401, 403, 422, 429, 503),
)
def list_approvals(
    request: Request[Any, Any, Any],
    svc: Svc,
    status: Annotated[Literal["pending", "granted", "denied"] | None, QueryParameter()] = None,
    run_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
    min_position: MinPosition = None,
) -> ApprovalList:
    """Approvals of the caller's tenant, oldest first (pending ones are what waits)."""
    _catch_up(svc, min_position)
    where = ["tenant = %s"]
    params: list[Any] = [caller_of(request).tenant]
    if status:
        where.append("status = %s")
        params.append(status)
    if run_id:
        where.append("run_id = %s")
        params.append(run_id)
    return ApprovalList(approvals=_rows(svc, " AND ".join(where), params))


@get(
    "/v1/approvals/{approval_id:uuid}",
    tags=["approvals"],
    sync_to_thread=True,
    summary="Get an approval",
    responses=problem_responses(401, 403, 404, 429, 503),
)
def get_approval(
    approval_id: FromPath[uuid.UUID],
    request: Request[Any, Any, Any],
    svc: Svc,
    min_position: MinPosition = None,
) -> ApprovalRow:
    _catch_up(svc, min_position)
    rows = _rows(svc, "approval_id = %s AND tenant = %s", [approval_id, caller_of(request).tenant])
    if not rows:
        raise NotFound("approval", approval_id)
    return rows[0]


def _decided(decision: Decision) -> Response[Decision]:
    headers = {POSITION_HEADER: str(decision.position)} if decision.position is not None else {}
    return Response(decision, headers=headers)


@post(
    "/v1/approvals/{approval_id:uuid}/approve",
    tags=["approvals"],
    sync_to_thread=True,
    status_code=200,
    summary="Approve the tool calls",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def approve(
    approval_id: FromPath[uuid.UUID],
    request: Request[Any, Any, Any],
    svc: Svc,
    data: JSONBody[DecisionBody | None] = None,
) -> Response[Decision]:
    """Releases the held step that runs the tool calls; recorded with you as the actor."""
    return _decided(
        svc.approvals.approve(approval_id, data.reason if data else "", caller_of(request))
    )


@post(
    "/v1/approvals/{approval_id:uuid}/deny",
    tags=["approvals"],
    sync_to_thread=True,
    status_code=200,
    summary="Deny the tool calls",
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
)
def deny(
    approval_id: FromPath[uuid.UUID],
    request: Request[Any, Any, Any],
    svc: Svc,
    data: JSONBody[DecisionBody | None] = None,
) -> Response[Decision]:
    """Cancels the held step: nothing is written to the cluster."""
    return _decided(
        svc.approvals.deny(approval_id, data.reason if data else "", caller_of(request))
    )


APPROVAL_ROUTES = [list_approvals, get_approval, approve, deny]
