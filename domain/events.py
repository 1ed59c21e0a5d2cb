"""Every event of the ledger's core aggregates (Command, Thread, Run, Task).

Names are past tense and are the wire ``type`` of the event. Adding a field
needs a default; a change that a default cannot express bumps
``schema_version`` and adds an upcaster on the class.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.envelope import AggregateCreated, AggregateEvent

__all__ = [
    "CommandSubmitted",
    "LeaseExpired",
    "RunCancelled",
    "RunCreated",
    "RunFailed",
    "RunSucceeded",
    "RunTaskAdded",
    "RunTaskSettled",
    "TaskCancelled",
    "TaskClaimed",
    "TaskDeadLettered",
    "TaskFailed",
    "TaskLeaseRenewed",
    "TaskQueued",
    "TaskReleased",
    "TaskRetryScheduled",
    "TaskSucceeded",
    "ThreadRunAdded",
    "ThreadStarted",
]

# -- Command -----------------------------------------------------------------


class CommandSubmitted(AggregateCreated, frozen=True, kw_only=True):
    kind: str
    input: Any = None
    queue: str = "default"
    priority: int = 0
    max_attempts: int = 3
    not_before: datetime | None = None
    thread_id: UUID
    run_id: UUID
    task_ids: list[UUID]
    idempotency_key: str | None = None
    request_hash: str


# -- Thread ------------------------------------------------------------------


class ThreadStarted(AggregateCreated, frozen=True, kw_only=True):
    run_id: UUID


class ThreadRunAdded(AggregateEvent, frozen=True, kw_only=True):
    run_id: UUID


# -- Run ---------------------------------------------------------------------


class RunCreated(AggregateCreated, frozen=True, kw_only=True):
    command_id: UUID
    thread_id: UUID
    kind: str
    task_ids: list[UUID]


class RunTaskAdded(AggregateEvent, frozen=True, kw_only=True):
    task_id: UUID


class RunTaskSettled(AggregateEvent, frozen=True, kw_only=True):
    """One of several open tasks of a run reached a terminal state."""

    task_id: UUID
    outcome: str


class RunSucceeded(AggregateEvent, frozen=True, kw_only=True):
    task_id: UUID


class RunFailed(AggregateEvent, frozen=True, kw_only=True):
    task_id: UUID
    error: str


class RunCancelled(AggregateEvent, frozen=True, kw_only=True):
    reason: str = ""


# -- Task --------------------------------------------------------------------


class TaskQueued(AggregateCreated, frozen=True, kw_only=True):
    run_id: UUID
    command_id: UUID
    kind: str
    input: Any = None
    queue: str = "default"
    priority: int = 0
    max_attempts: int = 3
    available_at: datetime


class TaskClaimed(AggregateEvent, frozen=True, kw_only=True):
    worker_id: str
    attempt: int
    lease_expires_at: datetime


class TaskLeaseRenewed(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    lease_expires_at: datetime


class LeaseExpired(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    worker_id: str
    lease_expires_at: datetime


class TaskReleased(AggregateEvent, frozen=True, kw_only=True):
    """The worker gave the lease back unfinished (e.g. shutting down); claimable now."""

    attempt: int
    reason: str = ""


class TaskSucceeded(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    output: Any = None


class TaskFailed(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    error: str
    retryable: bool = True


class TaskRetryScheduled(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    delay_seconds: float
    available_at: datetime


class TaskDeadLettered(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    reason: str


class TaskCancelled(AggregateEvent, frozen=True, kw_only=True):
    reason: str = ""
