"""Read a run: its status, its tasks and its full history, from the ledger."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.command import Command
from domain.errors import NotFound
from domain.run import Run
from domain.task import Task, TaskStatus
from schemas.views import RunView, TaskView, event_view
from services.ports import Caller, LedgerPort

__all__ = ["RunQueries", "run_status", "task_view"]


def run_status(run: Run, tasks: list[Task]) -> str:
    return run.view_status(started=any(t.claimed_at is not None for t in tasks))


def task_view(task: Task) -> TaskView:
    return TaskView(
        task_id=task.id,
        kind=task.kind,
        queue=task.queue,
        priority=task.priority,
        status=task.status,
        attempt=task.attempt,
        max_attempts=task.max_attempts,
        created_at=task.created_on,
        available_at=task.available_at if task.status == TaskStatus.QUEUED else None,
        claimed_at=task.claimed_at,
        finished_at=task.finished_at,
        lease_expires_at=task.lease_expires_at,
        worker_id=task.worker_id,
        output=task.output,
        error=task.error,
        control_hash=task.control_hash,
    )


class RunQueries:
    def __init__(self, ledger: LedgerPort) -> None:
        self._ledger = ledger

    def get_run(self, run_id: UUID, caller: Caller) -> RunView:
        head: Run = self._ledger.get(run_id, Run)
        if not caller.sees(head.tenant):
            raise NotFound("run", run_id)
        correlation = str(run_id)
        entries = [
            e
            for e in self._ledger.history(
                [head.command_id, head.thread_id, head.id, *head.task_ids]
            )
            if e.event.correlation_id == correlation
        ]
        # Fold the same events into aggregates, so the view agrees with the history.
        state: dict[UUID, Any] = {}
        for entry in entries:
            event = entry.event
            if event.originator_id != head.thread_id:
                state[event.originator_id] = event.mutate(state.get(event.originator_id))
        run: Run = state[run_id]
        command: Command = state[run.command_id]
        tasks: list[Task] = [state[t] for t in run.task_ids if t in state]
        return RunView(
            run_id=run.id,
            command_id=run.command_id,
            thread_id=run.thread_id,
            kind=run.kind,
            tenant=run.tenant,
            status=run_status(run, tasks),
            input=command.input,
            output=next(
                (t.output for t in reversed(tasks) if t.status == TaskStatus.SUCCEEDED), None
            ),
            error=run.error,
            created_at=run.created_on,
            finished_at=run.finished_at,
            tasks=[task_view(t) for t in tasks],
            events=[event_view(e.position, e.event) for e in entries],
        )
