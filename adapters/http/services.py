"""What every route handler shares: the services of one process, the caller, headers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, QueryParameter
from psycopg_pool import ConnectionPool

from adapters.http.access import AccessControl, caller_in
from adapters.postgres.control_reads import PostgresControlReads
from projections.queue import QueueDepth
from services.api_keys import ApiKeys
from services.approvals import ApprovalService
from services.artifacts import ArtifactStore
from services.ask import AskService
from services.control import ControlService
from services.ports import Caller, LedgerPort
from services.queue import QueueService
from services.run_views import RunViews
from services.sessions import Sessions
from services.submit import SubmitService
from services.users import Users

__all__ = [
    "LAG_HEADER",
    "MIN_POSITION_HEADER",
    "POSITION_HEADER",
    "ApiServices",
    "IdempotencyKey",
    "MinPosition",
    "RunStatusName",
    "Svc",
    "caller_of",
    "services",
]

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        min_length=1,
        description="Replays with the same key and body return the original result.",
    ),
]
POSITION_HEADER = "Synaps-Position"
MIN_POSITION_HEADER = "Synaps-Min-Position"
LAG_HEADER = "Synaps-Projection-Lag"
RunStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]


@dataclass
class ApiServices:
    submit: SubmitService
    queue: QueueService
    runs: RunViews
    queue_depth: Callable[[str | None], list[QueueDepth]]  # of one tenant (None: all)
    ping_database: Callable[[], None]
    metrics: Callable[[], bytes]
    workers_alive: Callable[[], bool | None]  # None: this process runs no worker pool
    access: AccessControl
    keys: ApiKeys
    users: Users
    sessions: Sessions
    jwks: Callable[[], dict[str, Any]]
    control: ControlService
    control_reads: PostgresControlReads
    ledger: LedgerPort
    artifacts: ArtifactStore
    wait_for: Callable[[tuple[str, ...], int], bool]  # projections reach a position (<= 2 s)
    approvals: ApprovalService
    ask: AskService
    pool: ConnectionPool[Any]  # for simple read-model queries
    version: str = "0.1.0"
    on_startup: list[Callable[[], None]] = field(default_factory=list)
    on_shutdown: list[Callable[[], None]] = field(default_factory=list)


def caller_of(request: Request[Any, Any, Any]) -> Caller:
    """Who is calling: the principal the access middleware authenticated."""
    return caller_in(request.scope)


def services(state: State) -> ApiServices:
    return state["services"]  # type: ignore[no-any-return]


Svc = NamedDependency[ApiServices]


MinPosition = Annotated[
    int | None,
    QueryParameter(
        ge=0,
        description="Read your writes: wait (up to 2 s) until the read model includes "
        "this ledger position.",
    ),
]
