"""What the HTTP handlers reach: the services of one process, as a dependency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.datastructures import State
from litestar.di import NamedDependency

from adapters.http.access import AccessControl
from projections.queue import QueueDepth
from services.api_keys import ApiKeys
from services.queue import QueueService
from services.runs import RunQueries
from services.sessions import Sessions
from services.submit import SubmitService
from services.users import Users

__all__ = ["ApiServices", "Svc", "services"]


@dataclass
class ApiServices:
    submit: SubmitService
    queue: QueueService
    runs: RunQueries
    queue_depth: Callable[[str | None], list[QueueDepth]]  # of one tenant (None: all)
    ping_database: Callable[[], None]
    metrics: Callable[[], bytes]
    workers_alive: Callable[[], bool | None]  # None: this process runs no worker pool
    access: AccessControl
    keys: ApiKeys
    users: Users
    sessions: Sessions
    jwks: Callable[[], dict[str, Any]]
    version: str = "0.1.0"


def services(state: State) -> ApiServices:
    return state["services"]  # type: ignore[no-any-return]


Svc = NamedDependency[ApiServices]
