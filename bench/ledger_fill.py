"""Fill a ledger quickly with realistic histories, through the domain and the ledger.

Each command is a full no-op lifecycle (7 events: CommandSubmitted, ThreadStarted,
RunCreated, TaskQueued, TaskClaimed, TaskSucceeded, RunSucceeded), written many
commands per transaction.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from domain.command import Command
from domain.envelope import EventContext
from domain.run import Run
from domain.task import Task
from domain.thread import Thread
from synaps.bootstrap import Container

EVENTS_PER_COMMAND = 7


def lifecycle(i: int, now: datetime) -> list[object]:
    run_id, task_id, thread_id, command_id = (uuid.uuid4() for _ in range(4))
    ctx = EventContext(
        actor="bench", tenant="bench", correlation_id=str(run_id), causation_id=f"fill-{i}"
    )
    command = Command.submit(
        id=command_id,
        kind="noop",
        input={"i": i},
        queue="default",
        priority=0,
        max_attempts=3,
        not_before=None,
        thread_id=thread_id,
        run_id=run_id,
        task_ids=[task_id],
        idempotency_key=None,
        request_hash="-",
        ctx=ctx,
        now=now,
    )
    thread = Thread.begin(id=thread_id, run_id=run_id, ctx=ctx, now=now)
    run = Run.create(
        id=run_id,
        command_id=command_id,
        thread_id=thread_id,
        kind="noop",
        task_ids=[task_id],
        ctx=ctx,
        now=now,
    )
    task = Task.queue_new(
        id=task_id,
        run_id=run_id,
        command_id=command_id,
        kind="noop",
        input={"i": i},
        queue="default",
        priority=0,
        max_attempts=3,
        available_at=now,
        ctx=ctx,
        now=now,
    )
    worker = ctx.but(actor="worker:bench")
    later = now + timedelta(milliseconds=3)
    task.claim(worker_id="bench", lease_seconds=30, ctx=worker, now=later)
    task.succeed(attempt=1, output={"i": i}, ctx=worker, now=later)
    run.settle(task_id, "succeeded", error=None, ctx=worker, now=later)
    return [command, thread, run, task]


def fill(container: Container, events: int, per_transaction: int = 400) -> float:
    """Write about ``events`` events; returns events/s of the fill."""
    commands = max(1, events // EVENTS_PER_COMMAND)
    started = time.perf_counter()
    now = datetime.now(UTC)
    done = 0
    while done < commands:
        n = min(per_transaction, commands - done)
        unit = [a for i in range(done, done + n) for a in lifecycle(i, now)]
        container.ledger.commit(*unit)  # type: ignore[arg-type]
        done += n
    return commands * EVENTS_PER_COMMAND / (time.perf_counter() - started)
