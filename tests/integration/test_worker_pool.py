"""The worker pool against a real PostgreSQL: run, renew, fail, retry, stop."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from schemas.commands import SubmitCommand
from schemas.views import ClaimedTask, RunView
from services.ports import Caller
from services.task_kinds import TaskContext, TaskError, builtin_kinds
from synaps.bootstrap import Container

pytestmark = pytest.mark.integration

USER = Caller(actor="user", request_id="r")


def wait_for(
    container: Container, run_id: uuid.UUID, status: set[str], timeout: float = 20
) -> RunView:
    deadline = time.monotonic() + timeout
    while True:
        run = container.runs.get_run(run_id, USER)
        if run.status in status:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run still {run.status}: {run.tasks}")
        time.sleep(0.05)


def submit(container: Container, kind: str, payload: Any = None, **kw: Any) -> uuid.UUID:
    command = SubmitCommand(kind=kind, input=payload, **kw)
    return container.submit.submit(command, USER).submitted.run_id


def test_noop_and_sleep_run_to_success(container: Container) -> None:
    pool = container.worker_pool(concurrency=4, worker_id="pool-1")
    pool.start()
    try:
        noop = submit(container, "noop", {"hello": "world"})
        sleep = submit(container, "sleep", {"seconds": 0.2})
        run = wait_for(container, noop, {"succeeded"})
        assert run.output == {"hello": "world"}
        assert run.tasks[0].worker_id == "pool-1"
        assert wait_for(container, sleep, {"succeeded"}).output == {"slept": 0.2}
    finally:
        pool.stop()


def test_a_long_task_keeps_its_lease_by_renewal(container: Container) -> None:
    pool = container.worker_pool(concurrency=1, lease_seconds=1.0)
    pool.start()
    try:
        run_id = submit(container, "sleep", {"seconds": 2.5})
        run = wait_for(container, run_id, {"succeeded"})
    finally:
        pool.stop()
    types = [e.type for e in run.events]
    assert types.count("TaskLeaseRenewed") >= 2
    assert "LeaseExpired" not in types
    assert run.tasks[0].attempt == 1


def test_failures_are_retried_then_dead_lettered(container: Container) -> None:
    calls: list[int] = []

    def flaky(task: ClaimedTask, ctx: TaskContext) -> Any:
        calls.append(task.attempt)
        if task.attempt < 2:
            raise RuntimeError("transient")
        return "ok"

    def broken(task: ClaimedTask, ctx: TaskContext) -> Any:
        raise TaskError("bad input", retryable=False)

    kinds = builtin_kinds()
    kinds.register("flaky", flaky)
    kinds.register("broken", broken)
    container.queue._policy = container.queue._policy.__class__(base_seconds=0.05)
    pool = container.worker_pool(kinds, concurrency=2)
    pool.start()
    try:
        flaky_run = wait_for(container, submit(container, "flaky"), {"succeeded", "failed"})
        broken_run = wait_for(container, submit(container, "broken"), {"failed"})
        unknown_run = wait_for(container, submit(container, "no-such-kind"), {"failed"})
    finally:
        pool.stop()
    assert flaky_run.status == "succeeded" and calls == [1, 2]
    assert [e.type for e in flaky_run.events].count("TaskRetryScheduled") == 1
    assert broken_run.tasks[0].attempt == 1 and broken_run.error == "bad input"
    assert unknown_run.error is not None and "no handler" in unknown_run.error


def test_async_handlers_run_too(container: Container) -> None:
    async def shout(task: ClaimedTask, ctx: TaskContext) -> Any:
        return str(task.input).upper()

    kinds = builtin_kinds()
    kinds.register("shout", shout)
    pool = container.worker_pool(kinds)
    pool.start()
    try:
        assert wait_for(container, submit(container, "shout", "hey"), {"succeeded"}).output == "HEY"
    finally:
        pool.stop()


def test_stop_releases_tasks_that_outlive_the_grace(container: Container) -> None:
    pool = container.worker_pool(concurrency=1, worker_id="leaving")
    pool.start()
    run_id = submit(container, "sleep", {"seconds": 30})
    wait_for(container, run_id, {"running"})
    started = time.monotonic()
    pool.stop(grace_seconds=0.3)
    assert time.monotonic() - started < 5
    run = container.runs.get_run(run_id, USER)
    assert run.tasks[0].status == "queued"
    assert [e.type for e in run.events][-1] == "TaskReleased"
    successor = container.worker_pool(concurrency=1, worker_id="next")
    successor.start()
    try:
        deadline = time.monotonic() + 10
        while container.runs.get_run(run_id, USER).tasks[0].attempt < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert container.runs.get_run(run_id, USER).tasks[0].worker_id == "next"
    finally:
        successor.stop(grace_seconds=0)
