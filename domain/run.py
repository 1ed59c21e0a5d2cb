"""A Run: the execution of one command, ended when all of its tasks are terminal."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.aggregate import Aggregate
from domain.envelope import AggregateEvent, EventContext
from domain.errors import RunFinished
from domain.events import (
    RunCancelled,
    RunCreated,
    RunFailed,
    RunSucceeded,
    RunTaskAdded,
    RunTaskSettled,
)

__all__ = ["RUN_TERMINAL", "Run", "RunStatus"]


class RunStatus:
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


RUN_TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})


class Run(Aggregate):
    def __init__(
        self, command_id: UUID, thread_id: UUID, kind: str, task_ids: list[UUID], tenant: str
    ) -> None:
        self.command_id = command_id
        self.thread_id = thread_id
        self.kind = kind
        self.tenant = tenant
        self.task_ids = list(task_ids)
        self.open_tasks = set(task_ids)
        self.failed_task: UUID | None = None
        self.error: str | None = None
        # "running" is not recorded on the run: it is read from its tasks.
        self.status = RunStatus.QUEUED
        self.finished_at: datetime | None = None

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        command_id: UUID,
        thread_id: UUID,
        kind: str,
        task_ids: list[UUID],
        ctx: EventContext,
        now: datetime,
    ) -> Run:
        return cls.start(
            RunCreated,
            id=id,
            ctx=ctx,
            now=now,
            command_id=command_id,
            thread_id=thread_id,
            kind=kind,
            task_ids=task_ids,
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in RUN_TERMINAL

    def view_status(self, started: bool) -> str:
        """The status callers see: "running" once any task was claimed; it is read
        from the tasks, not recorded on the run."""
        if self.is_terminal:
            return str(self.status)
        return RunStatus.RUNNING if started else RunStatus.QUEUED

    def add_task(self, task_id: UUID, *, ctx: EventContext, now: datetime) -> None:
        if self.is_terminal:
            raise RunFinished(f"run {self.id} is {self.status}")
        self.record(RunTaskAdded, ctx=ctx, now=now, task_id=task_id)

    def settle(
        self, task_id: UUID, outcome: str, *, error: str | None, ctx: EventContext, now: datetime
    ) -> None:
        """A task of this run reached ``outcome`` (succeeded, dead or cancelled)."""
        if self.is_terminal or task_id not in self.open_tasks:
            return
        if len(self.open_tasks) > 1:
            self.record(RunTaskSettled, ctx=ctx, now=now, task_id=task_id, outcome=outcome)
            # a cancelled step (a denied approval) does not fail the run; a dead one does
            if outcome == "dead" and self.failed_task is None:
                self.failed_task = task_id
                self.error = error or outcome
            return
        if outcome == "cancelled":
            self.record(RunCancelled, ctx=ctx, now=now, reason=f"task {task_id} cancelled")
        elif outcome != "succeeded":
            self.record(RunFailed, ctx=ctx, now=now, task_id=task_id, error=error or outcome)
        elif self.failed_task is not None:
            self.record(
                RunFailed, ctx=ctx, now=now, task_id=self.failed_task, error=self.error or "failed"
            )
        else:
            self.record(RunSucceeded, ctx=ctx, now=now, task_id=task_id)

    def cancel(self, *, reason: str, ctx: EventContext, now: datetime) -> bool:
        """Cancel the run; False if it was already cancelled."""
        if self.status == RunStatus.CANCELLED:
            return False
        if self.is_terminal:
            raise RunFinished(f"run {self.id} already {self.status}")
        self.record(RunCancelled, ctx=ctx, now=now, reason=reason)
        return True

    def when(self, event: AggregateEvent) -> None:
        if isinstance(event, RunSucceeded | RunFailed | RunCancelled):
            self.finished_at = event.timestamp
        match event:
            case RunTaskAdded():
                self.task_ids.append(event.task_id)
                self.open_tasks.add(event.task_id)
            case RunTaskSettled():
                self.open_tasks.discard(event.task_id)
            case RunSucceeded():
                self.open_tasks.clear()
                self.status = RunStatus.SUCCEEDED
            case RunFailed():
                self.open_tasks.clear()
                self.status = RunStatus.FAILED
                self.failed_task = event.task_id
                self.error = event.error
            case RunCancelled():
                self.open_tasks.clear()
                self.status = RunStatus.CANCELLED
