"""REST for incident memory: the tenant's remembered incidents, newest first."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.params import FromPath, QueryParameter

from adapters.http.problems import problem_responses
from adapters.http.services import MinPosition, Svc, caller_of
from adapters.postgres.incident_reads import IncidentReads
from domain.errors import NotFound
from schemas.incident_memory import IncidentView

__all__ = ["INCIDENT_ROUTES"]

_Name = Annotated[str | None, QueryParameter(max_length=253, pattern=r"^[a-z0-9_.-]+$")]


class IncidentList(msgspec.Struct, frozen=True, kw_only=True):
    incidents: list[IncidentView]


@get(
    "/v1/incidents",
    tags=["incidents"],
    sync_to_thread=True,
    summary="List remembered incidents",
    responses=problem_responses(401, 403, 422, 429, 503),
)
def list_incidents(
    request: Request[Any, Any, Any],
    svc: Svc,
    root_cause: _Name = None,
    namespace: _Name = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    min_position: MinPosition = None,
) -> IncidentList:
    """One row per incident (a workload failing for one reason), with its occurrences."""
    if min_position is not None:
        svc.wait_for(("incidents",), min_position)
    reads = IncidentReads(svc.pool)
    found = reads.recent(
        caller_of(request).tenant, root_cause=root_cause, namespace=namespace, limit=limit
    )
    return IncidentList(incidents=found)


@get(
    "/v1/incidents/{incident_id:uuid}",
    tags=["incidents"],
    sync_to_thread=True,
    summary="Get an incident",
    responses=problem_responses(401, 403, 404, 429, 503),
)
def get_incident(
    incident_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], svc: Svc
) -> IncidentView:
    found = IncidentReads(svc.pool).get(caller_of(request).tenant, incident_id)
    if found is None:
        raise NotFound("incident", incident_id)
    return found


INCIDENT_ROUTES = [list_incidents, get_incident]
