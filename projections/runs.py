"""The runs and tasks read models: each run with its tasks' counts, each task with
a summary of its attempts.

Rows are produced by replaying the domain's own aggregates (a row holds the
aggregate's state and version), so the views follow the same rules as the
ledger and re-delivered events are recognised by their version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg.rows import dict_row

from domain.events import (
    RUN_EVENTS,
    TASK_EVENTS,
    LeaseExpired,
    RunCreated,
    TaskCancelled,
    TaskClaimed,
    TaskDeadLettered,
    TaskFailed,
    TaskQueued,
    TaskReleased,
    TaskSucceeded,
)
from domain.run import Run, RunStatus
from domain.task import Task
from projections.processor import Changes, Entry, Tables

__all__ = ["AttemptSummary", "ProjectionGap", "RunRow", "RunsProjection", "TaskRow"]

_encode = msgspec.json.Encoder().encode


class ProjectionGap(Exception):
    """An event arrived for an aggregate whose earlier events the view has not seen."""


class AttemptSummary(msgspec.Struct, kw_only=True):
    attempt: int
    worker_id: str
    claimed_at: datetime
    ended_at: datetime | None = None
    outcome: str | None = None  # succeeded, failed, expired, released, cancelled
    error: str | None = None


class TaskRow(msgspec.Struct, kw_only=True):
    task_id: UUID
    run_id: UUID
    command_id: UUID
    tenant: str
    kind: str
    queue: str
    priority: int
    status: str
    attempt: int
    max_attempts: int
    output: Any
    error: str | None
    worker_id: str | None
    available_at: datetime
    lease_expires_at: datetime | None
    claimed_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime
    position: int
    version: int
    attempts: list[AttemptSummary]
    control_hash: str | None = None


class RunRow(msgspec.Struct, kw_only=True):
    run_id: UUID
    tenant: str
    kind: str
    status: str
    command_id: UUID
    thread_id: UUID
    input: Any
    output: Any
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    created_position: int
    position: int
    version: int
    task_ids: list[UUID]
    open_task_ids: list[UUID]
    failed_task: UUID | None
    tasks_total: int
    tasks_queued: int
    tasks_running: int
    tasks_succeeded: int
    tasks_dead: int
    tasks_cancelled: int


RUNS_TOPICS = tuple(t for cls in (*RUN_EVENTS, *TASK_EVENTS) for t in cls.stored_topics())
_FAMILY: dict[type, str] = {
    **dict.fromkeys(RUN_EVENTS, "run"),
    **dict.fromkeys(TASK_EVENTS, "task"),
}


def task_from_row(row: TaskRow) -> Task:
    task = Task.__new__(Task)
    task.__base_init__(row.task_id, row.version, row.created_at)
    task.modified_on = row.updated_at
    task.run_id, task.command_id, task.tenant = row.run_id, row.command_id, row.tenant
    task.kind, task.input, task.queue = row.kind, None, row.queue  # input stays in the ledger
    task.priority, task.max_attempts = row.priority, row.max_attempts
    task.available_at, task.status, task.attempt = row.available_at, row.status, row.attempt
    task.worker_id, task.lease_expires_at = row.worker_id, row.lease_expires_at
    task.output, task.error = row.output, row.error
    task.claimed_at, task.finished_at = row.claimed_at, row.finished_at
    task.control_hash, task.usage = row.control_hash, None
    return task


def run_from_row(row: RunRow) -> Run:
    run = Run.__new__(Run)
    run.__base_init__(row.run_id, row.version, row.created_at)
    run.modified_on = row.updated_at
    run.command_id, run.thread_id, run.kind = row.command_id, row.thread_id, row.kind
    run.tenant, run.task_ids = row.tenant, list(row.task_ids)
    run.open_tasks = set(row.open_task_ids)
    run.failed_task, run.error, run.finished_at = row.failed_task, row.error, row.finished_at
    run.status = (
        row.status
        if row.status not in (RunStatus.QUEUED, RunStatus.RUNNING)
        else (RunStatus.QUEUED)
    )
    return run


class _RunState:
    """A run being projected: the aggregate plus what only the view keeps."""

    def __init__(self, run: Run, row: RunRow | None, created_position: int) -> None:
        self.run = run
        self.created_position = created_position
        self.input: Any = row.input if row else None
        self.output: Any = row.output if row else None
        self.started_at: datetime | None = row.started_at if row else None
        # tasks by status, moved one by one as each task's status changes
        self.counts: dict[str, int] = (
            {
                "queued": row.tasks_queued,
                "running": row.tasks_running,
                "succeeded": row.tasks_succeeded,
                "dead": row.tasks_dead,
                "cancelled": row.tasks_cancelled,
            }
            if row
            else dict.fromkeys(("queued", "running", "succeeded", "dead", "cancelled"), 0)
        )
        self.position = row.position if row else created_position

    def to_row(self) -> RunRow:
        run = self.run
        counts = self.counts
        return RunRow(
            run_id=run.id,
            tenant=run.tenant,
            kind=run.kind,
            status=run.view_status(started=self.started_at is not None),
            command_id=run.command_id,
            thread_id=run.thread_id,
            input=self.input,
            output=self.output,
            error=run.error,
            created_at=run.created_on,
            started_at=self.started_at,
            finished_at=run.finished_at,
            updated_at=run.modified_on,
            created_position=self.created_position,
            position=self.position,
            version=run.version,
            task_ids=list(run.task_ids),
            open_task_ids=[t for t in run.task_ids if t in run.open_tasks],
            failed_task=run.failed_task,
            tasks_total=len(run.task_ids),
            tasks_queued=counts["queued"],
            tasks_running=counts["running"],
            tasks_succeeded=counts["succeeded"],
            tasks_dead=counts["dead"],
            tasks_cancelled=counts["cancelled"],
        )


class _TaskState:
    def __init__(self, task: Task, attempts: list[AttemptSummary], position: int) -> None:
        self.task = task
        self.attempts = attempts
        self.position = position

    def to_row(self) -> TaskRow:
        t = self.task
        return TaskRow(
            task_id=t.id,
            run_id=t.run_id,
            command_id=t.command_id,
            tenant=t.tenant,
            kind=t.kind,
            queue=t.queue,
            priority=t.priority,
            status=t.status,
            attempt=t.attempt,
            max_attempts=t.max_attempts,
            output=t.output,
            error=t.error,
            worker_id=t.worker_id,
            available_at=t.available_at,
            lease_expires_at=t.lease_expires_at,
            claimed_at=t.claimed_at,
            finished_at=t.finished_at,
            created_at=t.created_on,
            updated_at=t.modified_on,
            position=self.position,
            version=t.version,
            attempts=self.attempts,
            control_hash=t.control_hash,
        )


def _upsert(table: str, key: str, columns: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
    return (
        f"INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, %s::json)"
        f" ON CONFLICT ({key}) DO UPDATE SET {assignments}"
    )


class RunsProjection:
    """Projects Run and Task events into ``synaps_runs`` and ``synaps_tasks``."""

    name = "runs"
    tables: tuple[str, ...] = ("synaps_runs", "synaps_tasks")
    topics: tuple[str, ...] | None = RUNS_TOPICS
    decodes = True

    def apply(self, cur: psycopg.Cursor[Any], entries: Sequence[Entry], tables: Tables) -> Changes:
        runs_table, tasks_table = tables["synaps_runs"], tables["synaps_tasks"]
        family = _FAMILY.get
        task_entries = [e for e in entries if family(type(e.event)) == "task"]
        tasks = self._load_tasks(cur, tasks_table, task_entries)
        run_ids = {t.task.run_id for t in tasks.values()}
        for entry in entries:
            event = entry.event
            if type(event) is TaskQueued:
                run_ids.add(event.run_id)
            elif family(type(event)) == "run":
                run_ids.add(event.originator_id)
        runs = self._load_runs(cur, runs_table, run_ids)
        changed_tasks: dict[UUID, _TaskState] = {}
        changed_runs: dict[UUID, _RunState] = {}
        for entry in entries:
            kind = family(type(entry.event))
            if kind == "task":
                applied = self._apply_task(tasks, entry)
                if applied is None:
                    continue
                task_state, before = applied
                task = task_state.task
                changed_tasks[task.id] = task_state
                run_state = runs.get(task.run_id)
                if run_state is None:
                    raise ProjectionGap(f"task {task.id}: run not seen")
                self._note_task_on_run(run_state, task, before, entry)
                changed_runs[run_state.run.id] = run_state
            elif kind == "run" and (run_state := self._apply_run(runs, entry)) is not None:
                changed_runs[run_state.run.id] = run_state
        # one projector writes these tables, so row order does not matter for locking
        if changed_tasks:
            cur.execute(
                _upsert(tasks_table, "task_id", TaskRow.__struct_fields__),
                (_encode([t.to_row() for t in changed_tasks.values()]).decode(),),
            )
        if changed_runs:
            cur.execute(
                _upsert(runs_table, "run_id", RunRow.__struct_fields__),
                (_encode([r.to_row() for r in changed_runs.values()]).decode(),),
            )
        changes = Changes()
        changes.ids["tasks"] = {str(t) for t in changed_tasks}
        changes.ids["runs"] = {str(r) for r in changed_runs}
        return changes

    # -- loading --------------------------------------------------------------

    @staticmethod
    def _load_tasks(
        cur: psycopg.Cursor[Any], table: str, entries: Sequence[Entry]
    ) -> dict[UUID, _TaskState]:
        # TaskQueued too: a re-delivered one must find its row to be recognised
        ids = list({e.event.originator_id for e in entries})
        if not ids:
            return {}
        with cur.connection.cursor(row_factory=dict_row) as dcur:
            rows = dcur.execute(f"SELECT * FROM {table} WHERE task_id = ANY(%s)", (ids,)).fetchall()
        states = {}
        for raw in rows:
            row = msgspec.convert(raw, TaskRow)
            states[row.task_id] = _TaskState(task_from_row(row), row.attempts, row.position)
        return states

    @staticmethod
    def _load_runs(cur: psycopg.Cursor[Any], table: str, ids: set[UUID]) -> dict[UUID, _RunState]:
        if not ids:
            return {}
        with cur.connection.cursor(row_factory=dict_row) as dcur:
            rows = dcur.execute(
                f"SELECT * FROM {table} WHERE run_id = ANY(%s)", (list(ids),)
            ).fetchall()
        states = {}
        for raw in rows:
            row = msgspec.convert(raw, RunRow)
            states[row.run_id] = _RunState(run_from_row(row), row, row.created_position)
        return states

    # -- applying -------------------------------------------------------------

    @staticmethod
    def _apply_task(
        tasks: dict[UUID, _TaskState], entry: Entry
    ) -> tuple[_TaskState, str | None] | None:
        """The task after the event, and its status before (None: it is new)."""
        event = entry.event
        state = tasks.get(event.originator_id)
        if type(event) is TaskQueued:
            if state is not None:
                return None  # seen before: a re-delivery
            state = tasks[event.originator_id] = _TaskState(event.mutate(None), [], entry.position)
            return state, None
        if state is None:
            raise ProjectionGap(f"{event.type_name} for task {event.originator_id} not seen queued")
        if event.originator_version <= state.task.version:
            return None
        before = state.task.status
        event.mutate(state.task)
        state.position = entry.position
        _summarise_attempt(state, event)
        return state, before

    @staticmethod
    def _apply_run(runs: dict[UUID, _RunState], entry: Entry) -> _RunState | None:
        event = entry.event
        state = runs.get(event.originator_id)
        if type(event) is RunCreated:
            if state is not None:
                return None
            state = runs[event.originator_id] = _RunState(event.mutate(None), None, entry.position)
            return state
        if state is None:
            raise ProjectionGap(f"{event.type_name} for run {event.originator_id} not seen created")
        if event.originator_version <= state.run.version:
            return None
        event.mutate(state.run)
        state.position = entry.position
        return state

    @staticmethod
    def _note_task_on_run(state: _RunState, task: Task, before: str | None, entry: Entry) -> None:
        event = entry.event
        now_counted, was_counted = (
            _COUNTED_AS.get(task.status, task.status),
            (None if before is None else _COUNTED_AS.get(before, before)),
        )
        if was_counted != now_counted:
            if was_counted is not None:
                state.counts[was_counted] -= 1
            state.counts[now_counted] += 1
        state.position = max(state.position, entry.position)
        if isinstance(event, TaskQueued) and task.id == state.run.task_ids[0]:
            state.input = event.input
        elif isinstance(event, TaskClaimed) and state.started_at is None:
            state.started_at = event.timestamp
        elif isinstance(event, TaskSucceeded):
            state.output = event.output


# a held task is counted with the queued ones (it is waiting, not running)
_COUNTED_AS = {"held": "queued"}

_OUTCOMES: dict[type, str] = {
    TaskSucceeded: "succeeded",
    TaskFailed: "failed",
    LeaseExpired: "expired",
    TaskReleased: "released",
    TaskCancelled: "cancelled",
    TaskDeadLettered: "dead",
}


def _summarise_attempt(state: _TaskState, event: Any) -> None:
    if isinstance(event, TaskClaimed):
        state.attempts.append(
            AttemptSummary(
                attempt=event.attempt, worker_id=event.worker_id, claimed_at=event.timestamp
            )
        )
        return
    current = state.attempts[-1] if state.attempts else None
    if current is None or current.ended_at is not None:
        return
    outcome = _OUTCOMES.get(type(event))
    if outcome is None:
        return
    current.ended_at = event.timestamp
    current.outcome = outcome
    if isinstance(event, TaskFailed):
        current.error = event.error
