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
    "COMMAND_EVENTS",
    "RUN_EVENTS",
    "TASK_EVENTS",
    "THREAD_EVENTS",
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
    "TaskHoldReleased",
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

    def summary(self) -> str:
        key = f", idempotency key {self.idempotency_key!r}" if self.idempotency_key else ""
        return f"command {self.kind} submitted to queue {self.queue}{key}"


# -- Thread ------------------------------------------------------------------


class ThreadStarted(AggregateCreated, frozen=True, kw_only=True):
    run_id: UUID

    def summary(self) -> str:
        return f"thread started for run {self.run_id}"


class ThreadRunAdded(AggregateEvent, frozen=True, kw_only=True):
    run_id: UUID

    def summary(self) -> str:
        return f"run {self.run_id} added to the thread"


# -- Run ---------------------------------------------------------------------


class RunCreated(AggregateCreated, frozen=True, kw_only=True):
    command_id: UUID
    thread_id: UUID
    kind: str
    task_ids: list[UUID]

    def summary(self) -> str:
        return f"run of {self.kind} created with {len(self.task_ids)} task(s)"


class RunTaskAdded(AggregateEvent, frozen=True, kw_only=True):
    task_id: UUID

    def summary(self) -> str:
        return f"task {self.task_id} added"


class RunTaskSettled(AggregateEvent, frozen=True, kw_only=True):
    """One of several open tasks of a run reached a terminal state."""

    task_id: UUID
    outcome: str

    def summary(self) -> str:
        return f"task {self.task_id} {self.outcome}"


class RunSucceeded(AggregateEvent, frozen=True, kw_only=True):
    task_id: UUID

    def summary(self) -> str:
        return "run succeeded"


class RunFailed(AggregateEvent, frozen=True, kw_only=True):
    task_id: UUID
    error: str

    def summary(self) -> str:
        return f"run failed: {_short(self.error)}"


class RunCancelled(AggregateEvent, frozen=True, kw_only=True):
    reason: str = ""

    def summary(self) -> str:
        return f"run cancelled{': ' + _short(self.reason) if self.reason else ''}"


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
    held: bool = False  # not claimable until released (e.g. by an approval)

    def summary(self) -> str:
        held = ", held" if self.held else ""
        return f"task {self.kind} queued on {self.queue} (priority {self.priority}{held})"


class TaskHoldReleased(AggregateEvent, frozen=True, kw_only=True):
    """A held task became claimable (its approval was granted)."""

    queue: str = ""
    reason: str = ""

    def summary(self) -> str:
        return "released to run" + (f": {_short(self.reason)}" if self.reason else "")


class TaskClaimed(AggregateEvent, frozen=True, kw_only=True):
    worker_id: str
    attempt: int
    lease_expires_at: datetime

    def summary(self) -> str:
        return (
            f"claimed by {self.worker_id}, attempt {self.attempt}, lease until "
            f"{self.lease_expires_at:%H:%M:%S}"
        )


class TaskLeaseRenewed(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    lease_expires_at: datetime

    def summary(self) -> str:
        return f"attempt {self.attempt} renewed its lease until {self.lease_expires_at:%H:%M:%S}"


class LeaseExpired(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    worker_id: str
    lease_expires_at: datetime

    queue: str = ""  # where the task becomes claimable again (for wakeups)

    def summary(self) -> str:
        return f"lease of attempt {self.attempt} ({self.worker_id}) expired"


class TaskReleased(AggregateEvent, frozen=True, kw_only=True):
    """The worker gave the lease back unfinished (e.g. shutting down); claimable now."""

    attempt: int
    reason: str = ""

    queue: str = ""  # where the task becomes claimable again (for wakeups)

    def summary(self) -> str:
        return f"attempt {self.attempt} released{': ' + _short(self.reason) if self.reason else ''}"


class TaskSucceeded(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    output: Any = None
    control_hash: str | None = None  # the control snapshot the attempt ran with
    usage: dict[str, Any] | None = None  # e.g. model token usage

    def summary(self) -> str:
        return f"attempt {self.attempt} succeeded"


class TaskFailed(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    error: str
    retryable: bool = True
    control_hash: str | None = None

    def summary(self) -> str:
        kind = "failed" if self.retryable else "failed for good"
        return f"attempt {self.attempt} {kind}: {_short(self.error)}"


class TaskRetryScheduled(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    delay_seconds: float
    available_at: datetime

    queue: str = ""  # where the task becomes claimable again (for wakeups)

    def summary(self) -> str:
        return f"retry after {self.delay_seconds:.1f} s"


class TaskDeadLettered(AggregateEvent, frozen=True, kw_only=True):
    attempt: int
    reason: str

    def summary(self) -> str:
        return f"dead-lettered: {_short(self.reason)}"


class TaskCancelled(AggregateEvent, frozen=True, kw_only=True):
    reason: str = ""

    def summary(self) -> str:
        return f"task cancelled{': ' + _short(self.reason) if self.reason else ''}"


def _short(text: str, limit: int = 160) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


COMMAND_EVENTS = (CommandSubmitted,)
THREAD_EVENTS = (ThreadStarted, ThreadRunAdded)
RUN_EVENTS = (RunCreated, RunTaskAdded, RunTaskSettled, RunSucceeded, RunFailed, RunCancelled)
TASK_EVENTS = (
    TaskQueued,
    TaskHoldReleased,
    TaskClaimed,
    TaskLeaseRenewed,
    LeaseExpired,
    TaskReleased,
    TaskSucceeded,
    TaskFailed,
    TaskRetryScheduled,
    TaskDeadLettered,
    TaskCancelled,
)

for _family, _events in (
    ("Command", COMMAND_EVENTS),
    ("Thread", THREAD_EVENTS),
    ("Run", RUN_EVENTS),
    ("Task", TASK_EVENTS),
):
    for _event in _events:
        _event.aggregate_type = _family
