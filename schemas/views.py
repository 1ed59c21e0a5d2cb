"""Response bodies: what callers read back."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from msgspec import Struct

from domain.envelope import AggregateCreated, AggregateEvent

__all__ = [
    "ArtifactView",
    "AttemptView",
    "Claimed",
    "ClaimedTask",
    "Completion",
    "EventView",
    "RunList",
    "RunSummary",
    "RunView",
    "Submitted",
    "TaskCounts",
    "TaskView",
    "event_view",
    "redacted",
]


class Submitted(Struct, frozen=True, kw_only=True):
    command_id: UUID
    run_id: UUID
    thread_id: UUID
    task_ids: list[UUID]
    position: int


class ClaimedTask(Struct, frozen=True, kw_only=True):
    task_id: UUID
    run_id: UUID
    kind: str
    input: Any
    queue: str
    tenant: str
    attempt: int
    max_attempts: int
    lease_expires_at: datetime


class Claimed(Struct, frozen=True, kw_only=True):
    tasks: list[ClaimedTask]


class Completion(Struct, frozen=True, kw_only=True):
    """The outcome of renew/complete/fail: the task's state after it."""

    task_id: UUID
    attempt: int
    status: str
    lease_expires_at: datetime | None = None
    available_at: datetime | None = None
    position: int | None = None
    duplicate: bool = False


class EventView(Struct, frozen=True, kw_only=True):
    type: str
    position: int
    time: datetime
    actor: str
    aggregate_id: UUID
    aggregate_version: int
    tenant: str
    correlation_id: str
    causation_id: str
    data: dict[str, Any]


class AttemptView(Struct, frozen=True, kw_only=True):
    attempt: int
    worker_id: str
    claimed_at: datetime
    ended_at: datetime | None = None
    outcome: str | None = None
    error: str | None = None


class TaskView(Struct, frozen=True, kw_only=True):
    task_id: UUID
    kind: str
    queue: str
    priority: int
    status: str
    attempt: int
    max_attempts: int
    created_at: datetime
    available_at: datetime | None
    claimed_at: datetime | None
    finished_at: datetime | None
    lease_expires_at: datetime | None
    worker_id: str | None
    output: Any
    error: str | None
    attempts: list[AttemptView] = []
    control_hash: str | None = None  # the control snapshot the last attempt ran with


class RunView(Struct, frozen=True, kw_only=True):
    run_id: UUID
    command_id: UUID
    thread_id: UUID
    kind: str
    tenant: str
    status: str
    input: Any
    output: Any
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    tasks: list[TaskView]
    events: list[EventView]
    position: int | None = None  # the ledger position this view reflects
    artifacts: list[ArtifactView] = []


class ArtifactView(Struct, frozen=True, kw_only=True):
    artifact_id: UUID
    name: str
    version: int
    digest: str
    size: int
    content_type: str
    task_id: UUID | None
    created_at: datetime
    url: str  # where to download this version


class TaskCounts(Struct, frozen=True, kw_only=True):
    total: int
    queued: int
    running: int
    succeeded: int
    dead: int
    cancelled: int


class RunSummary(Struct, frozen=True, kw_only=True):
    run_id: UUID
    kind: str
    status: str
    tenant: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    error: str | None
    tasks: TaskCounts


class RunList(Struct, frozen=True, kw_only=True):
    runs: list[RunSummary]
    next_cursor: str | None


_ENVELOPE = frozenset(AggregateCreated.__struct_fields__) | {"type"}


def redacted(event_type: type[AggregateEvent] | None, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` of an event read as stored JSON, with its secret fields hidden."""
    hidden = event_type.REDACTED_FIELDS if event_type is not None else frozenset()
    return {k: "[redacted]" if k in hidden else v for k, v in data.items()}


def event_view(position: int, event: AggregateEvent) -> EventView:
    """An event as callers see it: envelope fields, and the rest as ``data``."""
    return EventView(
        type=event.type_name,
        position=position,
        time=event.timestamp,
        actor=event.actor,
        aggregate_id=event.originator_id,
        aggregate_version=event.originator_version,
        tenant=event.tenant,
        correlation_id=event.correlation_id,
        causation_id=event.causation_id,
        data={
            name: "[redacted]" if name in event.REDACTED_FIELDS else getattr(event, name)
            for name in event.__struct_fields__
            if name not in _ENVELOPE
        },
    )
