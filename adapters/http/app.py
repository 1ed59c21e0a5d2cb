"""The Litestar application: REST /v1, health, metrics, OpenAPI at /schema.

Nothing but ``/healthz``, ``/readyz`` and ``/metrics`` answers without passing
the access middleware (adapters/http/access.py): credentials, rate limits and
the permission of the endpoint's class (adapters/http/access_rules.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import Components, Reference, SecurityScheme, Tag
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from adapters.http.access import AccessMiddleware
from adapters.http.access_rules import undeclared
from adapters.http.approval_routes import APPROVAL_ROUTES
from adapters.http.artifact_routes import download_artifact, upload_artifact
from adapters.http.ask_routes import ASK_ROUTES
from adapters.http.auth_routes import AUTH_ROUTES
from adapters.http.control_routes import control_router
from adapters.http.incident_routes import INCIDENT_ROUTES
from adapters.http.key_routes import KEY_ROUTES
from adapters.http.problems import EXCEPTION_HANDLERS, Problem, problem_responses
from adapters.http.services import (
    LAG_HEADER,
    MIN_POSITION_HEADER,
    POSITION_HEADER,
    ApiServices,
    IdempotencyKey,
    RunStatusName,
    Svc,
    caller_of,
    services,
)
from adapters.http.user_routes import USER_ROUTES
from projections.queue import QueueDepth
from schemas.commands import (
    CancelRun,
    ClaimTasks,
    CompleteTask,
    FailTask,
    RenewLease,
    SubmitCommand,
)
from schemas.views import Claimed, Completion, RunList, RunView, Submitted

__all__ = ["ApiServices", "create_app"]


class CancelResult(msgspec.Struct, frozen=True, kw_only=True):
    run_id: uuid.UUID
    status: str
    position: int | None


class QueueStats(msgspec.Struct, frozen=True, kw_only=True):
    queues: list[QueueDepth]


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


# -- commands & runs ----------------------------------------------------------


@post(
    "/v1/commands/submit",
    tags=["commands"],
    sync_to_thread=True,
    status_code=201,
    summary="Submit a command",
    responses={
        200: ResponseSpec(Submitted, description="An idempotent replay: the original ids"),
        **problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
    },
)
def submit_command(
    data: JSONBody[SubmitCommand],
    request: Request[Any, Any, Any],
    svc: Svc,
    idempotency_key: IdempotencyKey = None,
) -> Response[Submitted]:
    """201 with new ids; 200 with the original ids when replayed with the same
    Idempotency-Key and body; 409 when the key was used with another body."""
    outcome = svc.submit.submit(data, caller_of(request), idempotency_key)
    return Response(
        outcome.submitted,
        status_code=201 if outcome.created else 200,
        headers={POSITION_HEADER: str(outcome.submitted.position)},
    )


@get(
    "/v1/runs/{run_id:uuid}",
    tags=["runs"],
    sync_to_thread=True,
    summary="Get a run",
    responses=problem_responses(401, 403, 404, 422, 429, 503),
)
def get_run(
    run_id: FromPath[uuid.UUID],
    request: Request[Any, Any, Any],
    svc: Svc,
    min_position: Annotated[
        int | None,
        QueryParameter(
            ge=0,
            description="Read your writes: wait (up to 2 s) until the views include this "
            "ledger position (from a write's `position` or `Synaps-Position` header).",
        ),
    ] = None,
    min_position_header: Annotated[
        int | None,
        HeaderParameter(name=MIN_POSITION_HEADER, ge=0, description="Same as min_position."),
    ] = None,
    wait: Annotated[
        float | None,
        QueryParameter(
            gt=0, le=60, description="Long poll: wait up to this many seconds for the run to end."
        ),
    ] = None,
) -> Response[RunView]:
    """The run, its tasks with their attempts, and its event history in ledger order.

    Answers from the projected views; `Synaps-Projection-Lag` says how many events
    up to `min_position` they had not applied yet (0: fully up to date)."""
    position = min_position if min_position is not None else min_position_header
    read = svc.runs.get(run_id, caller_of(request), min_position=position, wait_until_finished=wait)
    headers = {LAG_HEADER: str(read.lag)}
    if read.run.position is not None:
        headers[POSITION_HEADER] = str(read.run.position)
    return Response(read.run, headers=headers)


@get(
    "/v1/runs",
    tags=["runs"],
    sync_to_thread=True,
    summary="List runs",
    responses=problem_responses(401, 403, 422, 429, 503),
)
def list_runs(
    request: Request[Any, Any, Any],
    svc: Svc,
    status: Annotated[RunStatusName | None, QueryParameter()] = None,
    kind: Annotated[str | None, QueryParameter(max_length=128)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    after: Annotated[
        str | None,
        QueryParameter(max_length=40, description="`next_cursor` of the previous page"),
    ] = None,
) -> RunList:
    """Runs of the caller's tenant, newest first, with keyset pagination."""
    return svc.runs.list_runs(
        caller_of(request), status=status, kind=kind, limit=limit, cursor=after
    )


@post(
    "/v1/runs/{run_id:uuid}/cancel",
    tags=["runs"],
    sync_to_thread=True,
    status_code=200,
    summary="Cancel a run",
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
)
def cancel_run(
    run_id: FromPath[uuid.UUID],
    request: Request[Any, Any, Any],
    svc: Svc,
    data: JSONBody[CancelRun | None] = None,
) -> Response[CancelResult]:
    """Stops future claims of the run's tasks and marks it cancelled (idempotent)."""
    reason = data.reason if data is not None else ""
    run, position = svc.queue.cancel_run(run_id, reason, caller_of(request))
    headers = {POSITION_HEADER: str(position)} if position is not None else {}
    return Response(
        CancelResult(run_id=run.id, status=run.status, position=position), headers=headers
    )


# -- queue (for workers) --------------------------------------------------------


def _completion(c: Completion) -> Response[Completion]:
    headers = {POSITION_HEADER: str(c.position)} if c.position is not None else {}
    return Response(c, headers=headers)


@post(
    "/v1/queue/claim",
    tags=["queue"],
    sync_to_thread=True,
    status_code=200,
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
)
def claim_tasks(data: JSONBody[ClaimTasks], request: Request[Any, Any, Any], svc: Svc) -> Claimed:
    """Lease up to ``max_tasks`` ready tasks; each comes with its attempt (fencing token)."""
    caller = caller_of(request)
    worker = msgspec.structs.replace(caller, actor=f"worker:{data.worker_id}@{caller.actor}")
    return Claimed(tasks=svc.queue.claim(data, worker))


@post(
    "/v1/queue/renew",
    tags=["queue"],
    sync_to_thread=True,
    status_code=200,
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
)
def renew_lease(
    data: JSONBody[RenewLease], request: Request[Any, Any, Any], svc: Svc
) -> Response[Completion]:
    """Extend the lease; 409 lease_lost if the attempt is no longer current."""
    return _completion(svc.queue.renew(data, caller_of(request)))


@post(
    "/v1/queue/complete",
    tags=["queue"],
    sync_to_thread=True,
    status_code=200,
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
)
def complete_task(
    data: JSONBody[CompleteTask], request: Request[Any, Any, Any], svc: Svc
) -> Response[Completion]:
    """Record success. Repeating it with the same attempt and output is a no-op 200."""
    return _completion(svc.queue.complete(data, caller_of(request)))


@post(
    "/v1/queue/fail",
    tags=["queue"],
    sync_to_thread=True,
    status_code=200,
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
)
def fail_task(
    data: JSONBody[FailTask], request: Request[Any, Any, Any], svc: Svc
) -> Response[Completion]:
    """Record a failure: retried with backoff, or dead-lettered after max_attempts."""
    return _completion(svc.queue.fail(data, caller_of(request)))


@get(
    "/v1/queue/stats",
    tags=["queue"],
    sync_to_thread=True,
    responses=problem_responses(401, 403, 429, 503),
)
def queue_stats(request: Request[Any, Any, Any], svc: Svc) -> QueueStats:
    """Ready, scheduled and in-flight tasks of the caller's tenant and the oldest
    ready age, per queue."""
    return QueueStats(queues=svc.queue_depth(caller_of(request).tenant))


# -- operations -----------------------------------------------------------------


@get(
    "/",
    tags=["service"],
    sync_to_thread=False,
    include_in_schema=True,
    responses=problem_responses(429),
)
def service_summary(svc: Svc) -> dict[str, Any]:
    """A JSON summary of the service."""
    return {
        "service": "synaps",
        "version": svc.version,
        "status": "ok",
        "links": {
            "openapi": "/schema/openapi.json",
            "docs": "/schema",
            "health": "/healthz",
            "ready": "/readyz",
            "metrics": "/metrics",
            "ask": "/api/ask",
        },
    }


@get("/healthz", tags=["service"], sync_to_thread=False)
def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@get("/readyz", tags=["service"], sync_to_thread=True)
def readyz(svc: Svc) -> Response[Health]:
    """200 when PostgreSQL answers and (if this process runs one) the worker pool runs."""
    checks: dict[str, str] = {}
    try:
        svc.ping_database()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"unreachable: {exc}"
    workers = svc.workers_alive()
    if workers is not None:
        checks["workers"] = "ok" if workers else "stopped"
    ready = all(v == "ok" for v in checks.values())
    return Response(
        Health(status="ready" if ready else "unavailable", checks=checks),
        status_code=200 if ready else 503,
    )


@get("/metrics", tags=["service"], sync_to_thread=True, media_type="text/plain; version=0.0.4")
def metrics(svc: Svc) -> bytes:
    """Prometheus metrics."""
    return svc.metrics()


SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "ApiKey": SecurityScheme(
        type="apiKey",
        name="X-API-Key",
        security_scheme_in="header",
        description="sk_live_ (read and write), sk_test_ (read), sk_admin_ (everything)",
    ),
    "Bearer": SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="an access token from /v1/auth/login, or an API key",
    ),
}
SECURED: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Bearer": []}]

_PROTECTED: list[Any] = [
    submit_command,
    get_run,
    list_runs,
    cancel_run,
    claim_tasks,
    renew_lease,
    complete_task,
    fail_task,
    queue_stats,
    control_router,
    download_artifact,
    upload_artifact,
    *APPROVAL_ROUTES,
    *ASK_ROUTES,
    *AUTH_ROUTES,
    *INCIDENT_ROUTES,
    *KEY_ROUTES,
    *USER_ROUTES,
]
_OPEN = [service_summary, healthz, readyz, metrics]


def create_app(api: ApiServices, *, debug: bool = False) -> Litestar:
    app = Litestar(
        route_handlers=[
            Router("/", route_handlers=_PROTECTED, security=SECURED),
            *_OPEN,
        ],
        dependencies={"svc": Provide(services, sync_to_thread=False)},
        middleware=[DefineMiddleware(AccessMiddleware, access=api.access)],
        state=State({"services": api}),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="synaps",
            version=api.version,
            description=(
                "A control plane for agent work on an event-sourced ledger. Send an API key"
                " (X-API-Key or Authorization: Bearer sk_...) or an access token from"
                " /v1/auth/login; every response carries RateLimit-* headers."
            ),
            path="/schema",
            components=Components(security_schemes=SECURITY_SCHEMES),
            tags=[
                Tag(name="commands", description="Submit work"),
                Tag(name="runs", description="Read and cancel runs"),
                Tag(name="queue", description="Claim and complete tasks (workers)"),
                Tag(name="control", description="Prompts, skills, tools, routing, policies"),
                Tag(name="artifacts", description="Outputs of runs, by content digest"),
                Tag(name="approvals", description="Decisions on tool calls that write"),
                Tag(name="agents", description="The DevOps teammate"),
                Tag(name="auth", description="Sign in, tokens, sessions"),
                Tag(name="keys", description="API keys (admin)"),
                Tag(name="users", description="Users (admin)"),
                Tag(name="service", description="Health, readiness, metrics"),
            ],
        ),
        signature_types=[Problem],
        on_startup=list(api.on_startup),
        on_shutdown=list(api.on_shutdown),
        logging_config=None,  # the process configures logging (synaps.logs)
        debug=debug,
    )
    routes = [
        (method, route.path)
        for route in app.routes
        for method in getattr(route, "methods", ())
        if not route.path.startswith("/schema")
    ]
    missing = undeclared(routes)
    if missing:
        raise RuntimeError(f"routes without an access rule: {', '.join(missing)}")
    return app
