"""A Task: one unit of work on a named queue, leased to one worker at a time.

The attempt number is the fencing token: each claim starts a new attempt, and
only the current attempt may renew, complete or fail the task.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.aggregate import Aggregate
from domain.envelope import AggregateEvent, EventContext
from domain.errors import AlreadyCompleted, InvalidTransition, LeaseLost
from domain.events import (
    LeaseExpired,
    TaskCancelled,
    TaskClaimed,
    TaskDeadLettered,
    TaskFailed,
    TaskHoldReleased,
    TaskLeaseRenewed,
    TaskQueued,
    TaskReleased,
    TaskRetryScheduled,
    TaskSucceeded,
)
from domain.retry import RetryPolicy

__all__ = ["NEVER", "TERMINAL", "Task", "TaskStatus"]


class TaskStatus:
    HELD = "held"  # queued, but waiting to be released (an approval)
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    DEAD = "dead"
    CANCELLED = "cancelled"


TERMINAL = frozenset({TaskStatus.SUCCEEDED, TaskStatus.DEAD, TaskStatus.CANCELLED})
# A held task stays in the queue table, claimable at no time.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


class Task(Aggregate):
    def __init__(
        self,
        run_id: UUID,
        command_id: UUID,
        kind: str,
        input: Any,
        queue: str,
        priority: int,
        max_attempts: int,
        available_at: datetime,
        tenant: str,
        held: bool = False,
    ) -> None:
        self.run_id = run_id
        self.command_id = command_id
        self.kind = kind
        self.input = input
        self.queue = queue
        self.priority = priority
        self.max_attempts = max_attempts
        self.available_at = available_at
        self.tenant = tenant
        self.status = TaskStatus.HELD if held else TaskStatus.QUEUED
        self.attempt = 0
        self.worker_id: str | None = None
        self.lease_expires_at: datetime | None = None
        self.output: Any = None
        self.error: str | None = None
        self.claimed_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.control_hash: str | None = None
        self.usage: dict[str, Any] | None = None

    # -- decisions ----------------------------------------------------------

    @classmethod
    def queue_new(
        cls,
        *,
        id: UUID,
        run_id: UUID,
        command_id: UUID,
        kind: str,
        input: Any,
        queue: str,
        priority: int,
        max_attempts: int,
        available_at: datetime,
        ctx: EventContext,
        now: datetime,
        held: bool = False,
    ) -> Task:
        if max_attempts < 1:
            raise InvalidTransition("max_attempts must be at least 1")
        return cls.start(
            TaskQueued,
            id=id,
            ctx=ctx,
            now=now,
            run_id=run_id,
            command_id=command_id,
            kind=kind,
            input=input,
            queue=queue,
            priority=priority,
            max_attempts=max_attempts,
            available_at=available_at,
            held=held,
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def claimable_at(self) -> datetime | None:
        """When a claim may take this task; None if it never can again."""
        if self.status == TaskStatus.QUEUED:
            return self.available_at
        if self.status == TaskStatus.RUNNING:
            return self.lease_expires_at
        if self.status == TaskStatus.HELD:
            return NEVER
        return None

    def lease_has_expired(self, now: datetime) -> bool:
        return (
            self.status == TaskStatus.RUNNING
            and self.lease_expires_at is not None
            and self.lease_expires_at <= now
        )

    def claim(
        self, *, worker_id: str, lease_seconds: float, ctx: EventContext, now: datetime
    ) -> None:
        if self.lease_has_expired(now):
            self.expire_lease(ctx=ctx, now=now)
        if self.status != TaskStatus.QUEUED or self.available_at > now:
            raise InvalidTransition(f"task {self.id} is not claimable ({self.status})")
        self.record(
            TaskClaimed,
            ctx=ctx,
            now=now,
            worker_id=worker_id,
            attempt=self.attempt + 1,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
        )

    def expire_lease(self, *, ctx: EventContext, now: datetime) -> None:
        if not self.lease_has_expired(now):
            raise InvalidTransition(f"task {self.id} holds no expired lease")
        assert self.worker_id is not None
        assert self.lease_expires_at is not None
        self.record(
            LeaseExpired,
            ctx=ctx,
            now=now,
            queue=self.queue,
            attempt=self.attempt,
            worker_id=self.worker_id,
            lease_expires_at=self.lease_expires_at,
        )
        if self.attempt >= self.max_attempts:
            self.record(
                TaskDeadLettered,
                ctx=ctx,
                now=now,
                attempt=self.attempt,
                reason=f"lease expired on attempt {self.attempt} of {self.max_attempts}",
            )

    def renew(
        self, *, attempt: int, lease_seconds: float, ctx: EventContext, now: datetime
    ) -> None:
        self._check_holds_lease(attempt)
        self.record(
            TaskLeaseRenewed,
            ctx=ctx,
            now=now,
            attempt=attempt,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
        )

    def release_hold(self, *, reason: str, ctx: EventContext, now: datetime) -> None:
        """Let a held task be claimed from now on."""
        if self.status != TaskStatus.HELD:
            raise InvalidTransition(f"task {self.id} is not held ({self.status})")
        self.record(TaskHoldReleased, ctx=ctx, now=now, queue=self.queue, reason=reason)

    def release(self, *, attempt: int, reason: str, ctx: EventContext, now: datetime) -> None:
        """Give the lease back unfinished, so another worker can claim it at once."""
        self._check_holds_lease(attempt)
        self.record(
            TaskReleased, ctx=ctx, now=now, queue=self.queue, attempt=attempt, reason=reason
        )

    def succeed(
        self,
        *,
        attempt: int,
        output: Any,
        ctx: EventContext,
        now: datetime,
        control_hash: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> bool:
        """Record success; False when this exact completion was already recorded."""
        if self.status == TaskStatus.SUCCEEDED and self.attempt == attempt:
            if self.output == output:
                return False
            raise AlreadyCompleted(
                f"task {self.id} attempt {attempt} already succeeded with another output"
            )
        self._check_holds_lease(attempt)
        self.record(
            TaskSucceeded,
            ctx=ctx,
            now=now,
            attempt=attempt,
            output=output,
            control_hash=control_hash,
            usage=usage,
        )
        return True

    def fail(
        self,
        *,
        attempt: int,
        error: str,
        retryable: bool,
        policy: RetryPolicy,
        jitter: float,
        ctx: EventContext,
        now: datetime,
        control_hash: str | None = None,
    ) -> None:
        self._check_holds_lease(attempt)
        self.record(
            TaskFailed,
            ctx=ctx,
            now=now,
            attempt=attempt,
            error=error,
            retryable=retryable,
            control_hash=control_hash,
        )
        if retryable and attempt < self.max_attempts:
            delay = policy.delay(attempt, jitter)
            self.record(
                TaskRetryScheduled,
                ctx=ctx,
                now=now,
                queue=self.queue,
                attempt=attempt,
                delay_seconds=delay,
                available_at=now + timedelta(seconds=delay),
            )
        else:
            reason = (
                f"failed attempt {attempt} of {self.max_attempts}: {error}"
                if retryable
                else f"non-retryable failure: {error}"
            )
            self.record(TaskDeadLettered, ctx=ctx, now=now, attempt=attempt, reason=reason)

    def cancel(self, *, reason: str, ctx: EventContext, now: datetime) -> bool:
        if self.is_terminal:
            return False
        self.record(TaskCancelled, ctx=ctx, now=now, reason=reason)
        return True

    def _check_holds_lease(self, attempt: int) -> None:
        if self.status != TaskStatus.RUNNING or attempt != self.attempt:
            raise LeaseLost(self.id, attempt, self.attempt, self.status)

    # -- state --------------------------------------------------------------

    def when(self, event: AggregateEvent) -> None:
        match event:
            case TaskHoldReleased():
                self.status = TaskStatus.QUEUED
                self.available_at = event.timestamp
            case TaskClaimed():
                self.status = TaskStatus.RUNNING
                self.attempt = event.attempt
                self.worker_id = event.worker_id
                self.lease_expires_at = event.lease_expires_at
                self.claimed_at = event.timestamp
            case TaskLeaseRenewed():
                self.lease_expires_at = event.lease_expires_at
            case LeaseExpired():
                self.status = TaskStatus.QUEUED
                self.available_at = event.timestamp
                self.worker_id = None
                self.lease_expires_at = None
                self.error = f"lease of attempt {event.attempt} expired"
            case TaskReleased():
                self.status = TaskStatus.QUEUED
                self.available_at = event.timestamp
                self.worker_id = None
                self.lease_expires_at = None
            case TaskSucceeded():
                self.status = TaskStatus.SUCCEEDED
                self.output = event.output
                self.control_hash = event.control_hash
                self.usage = event.usage
                self.error = None
                self.lease_expires_at = None
                self.finished_at = event.timestamp
            case TaskFailed():
                self.error = event.error
                self.control_hash = event.control_hash
                self.lease_expires_at = None
            case TaskRetryScheduled():
                self.status = TaskStatus.QUEUED
                self.available_at = event.available_at
                self.worker_id = None
            case TaskDeadLettered():
                self.status = TaskStatus.DEAD
                self.lease_expires_at = None
                self.finished_at = event.timestamp
                if self.error is None:
                    self.error = event.reason
            case TaskCancelled():
                self.status = TaskStatus.CANCELLED
                self.lease_expires_at = None
                self.finished_at = event.timestamp
