from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.command import command_id_for_key
from domain.envelope import EventContext
from domain.errors import RunFinished
from domain.run import Run, RunStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CTX = EventContext(actor="a", tenant="t", correlation_id="c", causation_id="x")


def new_run(tasks: int) -> tuple[Run, list[uuid.UUID]]:
    ids = [uuid.uuid4() for _ in range(tasks)]
    run = Run.create(
        id=uuid.uuid4(),
        command_id=uuid.uuid4(),
        thread_id=uuid.uuid4(),
        kind="k",
        task_ids=ids,
        ctx=CTX,
        now=T0,
    )
    return run, ids


def test_a_run_succeeds_when_its_last_task_succeeds() -> None:
    run, (a, b) = new_run(2)
    run.settle(a, "succeeded", error=None, ctx=CTX, now=T0)
    assert run.status == RunStatus.QUEUED
    run.settle(b, "succeeded", error=None, ctx=CTX, now=T0)
    assert run.status == RunStatus.SUCCEEDED
    assert [e.type_name for e in run.collect_events()] == [
        "RunCreated",
        "RunTaskSettled",
        "RunSucceeded",
    ]


def test_a_dead_task_fails_the_run_once_all_tasks_are_terminal() -> None:
    run, (a, b) = new_run(2)
    run.settle(a, "dead", error="boom", ctx=CTX, now=T0)
    run.settle(b, "succeeded", error=None, ctx=CTX, now=T0)
    assert run.status == RunStatus.FAILED
    assert run.error == "boom"
    assert run.failed_task == a


def test_settling_twice_changes_nothing() -> None:
    run, (a,) = new_run(1)
    run.settle(a, "succeeded", error=None, ctx=CTX, now=T0)
    run.collect_events()
    run.settle(a, "succeeded", error=None, ctx=CTX, now=T0)
    assert run.collect_events() == []


def test_cancel_is_idempotent_but_refused_once_finished() -> None:
    run, (_a,) = new_run(1)
    assert run.cancel(reason="r", ctx=CTX, now=T0)
    assert not run.cancel(reason="r", ctx=CTX, now=T0)
    done, (b,) = new_run(1)
    done.settle(b, "succeeded", error=None, ctx=CTX, now=T0)
    with pytest.raises(RunFinished):
        done.cancel(reason="r", ctx=CTX, now=T0)


def test_idempotency_keys_map_to_stable_per_tenant_command_ids() -> None:
    assert command_id_for_key("t1", "k") == command_id_for_key("t1", "k")
    assert command_id_for_key("t1", "k") != command_id_for_key("t2", "k")
    assert command_id_for_key("t1", "k") != command_id_for_key("t1", "k2")
