"""The task's lease rules, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.envelope import EventContext
from domain.errors import AlreadyCompleted, InvalidTransition, LeaseLost
from domain.retry import RetryPolicy
from domain.task import Task, TaskStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CTX = EventContext(actor="test", tenant="t1", correlation_id="run", causation_id="req")


def new_task(max_attempts: int = 3, available_at: datetime = T0) -> Task:
    return Task.queue_new(
        id=uuid.uuid4(),
        run_id=uuid.uuid4(),
        command_id=uuid.uuid4(),
        kind="noop",
        input={"a": 1},
        queue="default",
        priority=0,
        max_attempts=max_attempts,
        available_at=available_at,
        ctx=CTX,
        now=T0,
    )


def types(task: Task) -> list[str]:
    return [e.type_name for e in task.collect_events()]


def test_claim_starts_attempt_one_with_a_lease() -> None:
    task = new_task()
    task.claim(worker_id="w1", lease_seconds=30, ctx=CTX, now=T0)
    assert task.status == TaskStatus.RUNNING
    assert task.attempt == 1
    assert task.lease_expires_at == T0 + timedelta(seconds=30)
    assert types(task) == ["TaskQueued", "TaskClaimed"]


def test_not_before_keeps_a_task_unclaimable() -> None:
    task = new_task(available_at=T0 + timedelta(minutes=5))
    with pytest.raises(InvalidTransition):
        task.claim(worker_id="w1", lease_seconds=30, ctx=CTX, now=T0)
    task.claim(worker_id="w1", lease_seconds=30, ctx=CTX, now=T0 + timedelta(minutes=5))
    assert task.attempt == 1


def test_a_running_task_with_a_live_lease_cannot_be_claimed() -> None:
    task = new_task()
    task.claim(worker_id="w1", lease_seconds=30, ctx=CTX, now=T0)
    with pytest.raises(InvalidTransition):
        task.claim(worker_id="w2", lease_seconds=30, ctx=CTX, now=T0 + timedelta(seconds=29))


def test_an_expired_lease_is_reclaimed_with_a_new_attempt_and_fences_the_old_one() -> None:
    task = new_task()
    task.claim(worker_id="w1", lease_seconds=30, ctx=CTX, now=T0)
    later = T0 + timedelta(seconds=31)
    task.claim(worker_id="w2", lease_seconds=30, ctx=CTX, now=later)
    assert task.attempt == 2
    assert task.worker_id == "w2"
    assert types(task) == ["TaskQueued", "TaskClaimed", "LeaseExpired", "TaskClaimed"]
    with pytest.raises(LeaseLost):
        task.succeed(attempt=1, output="late", ctx=CTX, now=later)
    with pytest.raises(LeaseLost):
        task.renew(attempt=1, lease_seconds=30, ctx=CTX, now=later)
    assert task.succeed(attempt=2, output="ok", ctx=CTX, now=later)
    assert task.status == TaskStatus.SUCCEEDED


def test_the_current_attempt_may_complete_even_after_its_lease_time() -> None:
    task = new_task()
    task.claim(worker_id="w1", lease_seconds=30, ctx=CTX, now=T0)
    assert task.succeed(attempt=1, output=1, ctx=CTX, now=T0 + timedelta(hours=1))


def test_complete_is_idempotent_for_the_same_attempt_and_output() -> None:
    task = new_task()
    task.claim(worker_id="w1", lease_seconds=30, ctx=CTX, now=T0)
    assert task.succeed(attempt=1, output={"x": 1}, ctx=CTX, now=T0) is True
    assert task.succeed(attempt=1, output={"x": 1}, ctx=CTX, now=T0) is False
    with pytest.raises(AlreadyCompleted):
        task.succeed(attempt=1, output={"x": 2}, ctx=CTX, now=T0)
    assert types(task).count("TaskSucceeded") == 1


def test_failures_retry_with_growing_backoff_then_dead_letter() -> None:
    task = new_task(max_attempts=3)
    policy = RetryPolicy(base_seconds=1, cap_seconds=60)
    now = T0
    delays = []
    for attempt in (1, 2):
        task.claim(worker_id="w", lease_seconds=30, ctx=CTX, now=now)
        task.fail(
            attempt=attempt,
            error="boom",
            retryable=True,
            policy=policy,
            jitter=0.0,
            ctx=CTX,
            now=now,
        )
        assert task.status == TaskStatus.QUEUED
        delays.append((task.available_at - now).total_seconds())
        now = task.available_at
    assert delays == [0.5, 1.0]
    task.claim(worker_id="w", lease_seconds=30, ctx=CTX, now=now)
    task.fail(attempt=3, error="boom", retryable=True, policy=policy, jitter=0.5, ctx=CTX, now=now)
    assert task.status == TaskStatus.DEAD
    assert types(task)[-2:] == ["TaskFailed", "TaskDeadLettered"]


def test_a_non_retryable_failure_dead_letters_at_once() -> None:
    task = new_task(max_attempts=5)
    task.claim(worker_id="w", lease_seconds=30, ctx=CTX, now=T0)
    task.fail(
        attempt=1,
        error="bad input",
        retryable=False,
        policy=RetryPolicy(),
        jitter=0.1,
        ctx=CTX,
        now=T0,
    )
    assert task.status == TaskStatus.DEAD
    assert task.error == "bad input"


def test_lease_expiry_on_the_last_attempt_dead_letters() -> None:
    task = new_task(max_attempts=1)
    task.claim(worker_id="w", lease_seconds=10, ctx=CTX, now=T0)
    task.expire_lease(ctx=CTX, now=T0 + timedelta(seconds=11))
    assert task.status == TaskStatus.DEAD
    assert types(task)[-2:] == ["LeaseExpired", "TaskDeadLettered"]


def test_expire_lease_refuses_a_live_lease() -> None:
    task = new_task()
    task.claim(worker_id="w", lease_seconds=10, ctx=CTX, now=T0)
    with pytest.raises(InvalidTransition):
        task.expire_lease(ctx=CTX, now=T0 + timedelta(seconds=5))


def test_release_returns_the_task_to_the_queue_at_once() -> None:
    task = new_task()
    task.claim(worker_id="w", lease_seconds=10, ctx=CTX, now=T0)
    task.release(attempt=1, reason="shutdown", ctx=CTX, now=T0)
    assert task.status == TaskStatus.QUEUED
    assert task.claimable_at() == T0
    task.claim(worker_id="w2", lease_seconds=10, ctx=CTX, now=T0)
    assert task.attempt == 2


def test_cancel_stops_a_task_and_fences_its_worker() -> None:
    task = new_task()
    task.claim(worker_id="w", lease_seconds=10, ctx=CTX, now=T0)
    assert task.cancel(reason="stop", ctx=CTX, now=T0)
    assert task.claimable_at() is None
    assert not task.cancel(reason="again", ctx=CTX, now=T0)
    with pytest.raises(LeaseLost):
        task.succeed(attempt=1, output=None, ctx=CTX, now=T0)


def test_every_event_carries_the_context() -> None:
    task = new_task()
    task.claim(worker_id="w", lease_seconds=10, ctx=CTX.but(actor="worker:w"), now=T0)
    events = task.collect_events()
    assert [e.actor for e in events] == ["test", "worker:w"]
    assert {(e.tenant, e.correlation_id, e.causation_id) for e in events} == {("t1", "run", "req")}
