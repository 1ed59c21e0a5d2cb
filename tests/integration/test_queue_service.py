"""The queue on a real PostgreSQL: submit, claim, renew, complete, fail, cancel, reap."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from domain.errors import (
    AlreadyCompleted,
    IdempotencyConflict,
    LeaseLost,
    NotFound,
    RunFinished,
)
from domain.retry import RetryPolicy
from schemas.commands import ClaimTasks, CompleteTask, FailTask, RenewLease, SubmitCommand
from schemas.views import ClaimedTask
from services.ports import Caller
from services.queue import QueueService
from synaps.bootstrap import Container, build
from synaps.settings import Settings
from tests.fakes import FakeClock

pytestmark = pytest.mark.integration

USER = Caller(actor="user:ann", tenant="acme", request_id="req-1")
WORKER = Caller(actor="worker:w1", request_id="claim-1", all_tenants=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[Container]:
    c = build(Settings(database_url=database_url), clock=clock)
    c.queue = QueueService(
        c.ledger, clock, retry_policy=RetryPolicy(base_seconds=10), jitter=lambda: 0.0
    )
    yield c
    c.close()


def event_types(database_url: str, aggregate_id: uuid.UUID) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT topic FROM synaps_events WHERE originator_id = %s ORDER BY originator_version",
            (aggregate_id,),
        ).fetchall()
    return [r[0].split(".v")[0] for r in rows]


def count_events(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM synaps_events").fetchone()
    assert row is not None
    return int(row[0])


def claim(app: Container, n: int = 10, worker: str = "w1", lease: float = 30) -> list[ClaimedTask]:
    return app.queue.claim(
        ClaimTasks(worker_id=worker, max_tasks=n, lease_seconds=lease),
        Caller(actor=f"worker:{worker}", request_id="c", all_tenants=True),
    )


def test_submit_records_command_thread_run_and_task_in_one_transaction(
    app: Container, database_url: str
) -> None:
    out = app.submit.submit(SubmitCommand(kind="noop", input={"a": 1}), USER).submitted
    assert out.position > 0
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT topic, notification_id >> 20 FROM synaps_events ORDER BY notification_id"
        ).fetchall()
    assert [r[0] for r in rows] == [
        "CommandSubmitted.v1",
        "ThreadStarted.v1",
        "RunCreated.v1",
        "TaskQueued.v1",
    ]
    assert len({r[1] for r in rows}) == 1, "one transaction"
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT max(notification_id) FROM synaps_events").fetchone()
    assert row is not None
    assert out.position == row[0]


def test_idempotent_submit_returns_the_same_ids_and_conflicts_on_another_body(
    app: Container, database_url: str
) -> None:
    first = app.submit.submit(SubmitCommand(kind="noop", input={"a": 1}), USER, "key-1")
    again = app.submit.submit(SubmitCommand(kind="noop", input={"a": 1}), USER, "key-1")
    assert first.created
    assert not again.created
    assert again.submitted == first.submitted
    before = count_events(database_url)
    with pytest.raises(IdempotencyConflict):
        app.submit.submit(SubmitCommand(kind="noop", input={"a": 2}), USER, "key-1")
    assert count_events(database_url) == before
    other_tenant = Caller(actor="x", tenant="other", request_id="r")
    elsewhere = app.submit.submit(SubmitCommand(kind="noop", input={"a": 1}), other_tenant, "key-1")
    assert elsewhere.created
    assert elsewhere.submitted.command_id != first.submitted.command_id


def test_concurrent_submits_with_one_key_create_one_command(
    app: Container, database_url: str
) -> None:
    results = []
    errors = []

    def go() -> None:
        try:
            results.append(app.submit.submit(SubmitCommand(kind="noop"), USER, "same"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({r.submitted.run_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM synaps_events WHERE topic = 'RunCreated.v1'")
        assert row.fetchone() == (1,)


def test_a_run_can_join_an_existing_thread_of_its_tenant(app: Container) -> None:
    first = app.submit.submit(SubmitCommand(kind="noop"), USER).submitted
    second = app.submit.submit(SubmitCommand(kind="noop", thread_id=first.thread_id), USER)
    assert second.submitted.thread_id == first.thread_id
    with pytest.raises(NotFound):
        app.submit.submit(SubmitCommand(kind="noop", thread_id=uuid.uuid4()), USER)
    stranger = Caller(actor="x", tenant="other", request_id="r")
    with pytest.raises(NotFound):
        app.submit.submit(SubmitCommand(kind="noop", thread_id=first.thread_id), stranger)


def test_claim_takes_up_to_n_by_priority_then_age(app: Container, clock: FakeClock) -> None:
    low = app.submit.submit(SubmitCommand(kind="noop", priority=0), USER).submitted
    clock.advance(1)
    high = app.submit.submit(SubmitCommand(kind="noop", priority=5), USER).submitted
    clock.advance(1)
    low2 = app.submit.submit(SubmitCommand(kind="noop", priority=0), USER).submitted
    clock.advance(1)
    claimed = claim(app, n=2)
    assert [c.run_id for c in claimed] == [high.run_id, low.run_id]
    assert all(c.attempt == 1 for c in claimed)
    assert [c.run_id for c in claim(app, n=5)] == [low2.run_id]
    assert claim(app) == []


def test_not_before_and_other_queues_are_respected(app: Container, clock: FakeClock) -> None:
    later = clock().replace(minute=10)
    app.submit.submit(SubmitCommand(kind="noop", not_before=later), USER)
    app.submit.submit(SubmitCommand(kind="noop", queue="gpu"), USER)
    assert claim(app) == []
    clock.advance(600)
    assert len(claim(app)) == 1
    gpu = app.queue.claim(ClaimTasks(worker_id="g", queues=["gpu"]), WORKER)
    assert len(gpu) == 1


def test_two_claimers_never_share_a_task(app: Container) -> None:
    for _ in range(60):
        app.submit.submit(SubmitCommand(kind="noop"), USER)
    got: dict[str, list[uuid.UUID]] = {}
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        barrier.wait()
        mine: list[uuid.UUID] = []
        while batch := claim(app, n=3, worker=name):
            mine.extend(t.task_id for t in batch)
        got[name] = mine

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    all_ids = [i for ids in got.values() for i in ids]
    assert len(all_ids) == 60
    assert len(set(all_ids)) == 60


def test_a_stale_attempt_is_fenced_and_changes_nothing(
    app: Container, clock: FakeClock, database_url: str
) -> None:
    run = app.submit.submit(SubmitCommand(kind="noop"), USER).submitted
    (first,) = claim(app, lease=10)
    clock.advance(11)
    (second,) = claim(app, worker="w2", lease=10)
    assert second.task_id == first.task_id
    assert second.attempt == 2
    before = count_events(database_url)
    for stale in (
        lambda: app.queue.complete(CompleteTask(task_id=first.task_id, attempt=1), WORKER),
        lambda: app.queue.renew(RenewLease(task_id=first.task_id, attempt=1), WORKER),
        lambda: app.queue.fail(FailTask(task_id=first.task_id, attempt=1, error="x"), WORKER),
    ):
        with pytest.raises(LeaseLost):
            stale()
    assert count_events(database_url) == before
    done = app.queue.complete(CompleteTask(task_id=second.task_id, attempt=2, output=7), WORKER)
    assert done.status == "succeeded"
    assert event_types(database_url, run.run_id) == ["RunCreated", "RunSucceeded"]
    assert event_types(database_url, first.task_id) == [
        "TaskQueued",
        "TaskClaimed",
        "LeaseExpired",
        "TaskClaimed",
        "TaskSucceeded",
    ]


def test_completing_twice_is_one_completion(app: Container, database_url: str) -> None:
    app.submit.submit(SubmitCommand(kind="noop"), USER)
    (task,) = claim(app)
    request = CompleteTask(task_id=task.task_id, attempt=task.attempt, output={"ok": 1})
    first = app.queue.complete(request, WORKER)
    second = app.queue.complete(request, WORKER)
    assert (first.status, second.status) == ("succeeded", "succeeded")
    assert not first.duplicate
    assert second.duplicate
    assert event_types(database_url, task.task_id).count("TaskSucceeded") == 1
    with pytest.raises(AlreadyCompleted):
        app.queue.complete(
            CompleteTask(task_id=task.task_id, attempt=task.attempt, output={"ok": 2}), WORKER
        )


def test_renew_extends_the_lease(app: Container, clock: FakeClock) -> None:
    app.submit.submit(SubmitCommand(kind="noop"), USER)
    (task,) = claim(app, lease=10)
    clock.advance(8)
    renewed = app.queue.renew(RenewLease(task_id=task.task_id, attempt=1, lease_seconds=10), WORKER)
    assert renewed.lease_expires_at == clock() + timedelta(seconds=10)
    clock.advance(5)
    assert claim(app, worker="w2") == [], "the renewed lease still holds"
    clock.advance(6)
    assert [t.attempt for t in claim(app, worker="w2")] == [2]


def test_failures_back_off_then_dead_letter_and_fail_the_run(
    app: Container, clock: FakeClock, database_url: str
) -> None:
    run = app.submit.submit(SubmitCommand(kind="noop", max_attempts=2), USER).submitted
    (task,) = claim(app)
    out = app.queue.fail(FailTask(task_id=task.task_id, attempt=1, error="boom"), WORKER)
    assert out.status == "queued"
    assert claim(app) == [], "waits for its backoff (5 s with zero jitter)"
    clock.advance(5)
    (again,) = claim(app)
    assert again.attempt == 2
    out = app.queue.fail(FailTask(task_id=task.task_id, attempt=2, error="boom again"), WORKER)
    assert out.status == "dead"
    view = app.runs.get_run(run.run_id, USER)
    assert view.status == "failed"
    assert view.tasks[0].status == "dead"
    assert view.tasks[0].error == "boom again"
    assert event_types(database_url, task.task_id)[-2:] == ["TaskFailed", "TaskDeadLettered"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM synaps_queue").fetchone() == (0,)


def test_cancel_stops_claims_and_fences_the_running_attempt(
    app: Container, database_url: str
) -> None:
    queued = app.submit.submit(SubmitCommand(kind="noop"), USER).submitted
    running = app.submit.submit(SubmitCommand(kind="noop", priority=9), USER).submitted
    (task,) = claim(app, n=1)
    assert task.run_id == running.run_id
    for run_id in (queued.run_id, running.run_id):
        run, position = app.queue.cancel_run(run_id, "no longer needed", USER)
        assert run.status == "cancelled"
        assert position is not None
        assert app.queue.cancel_run(run_id, "again", USER)[1] is None
    assert claim(app) == []
    with pytest.raises(LeaseLost):
        app.queue.complete(CompleteTask(task_id=task.task_id, attempt=1), WORKER)
    assert app.runs.get_run(running.run_id, USER).tasks[0].status == "cancelled"
    done = app.submit.submit(SubmitCommand(kind="noop"), USER).submitted
    (t,) = claim(app)
    app.queue.complete(CompleteTask(task_id=t.task_id, attempt=1), WORKER)
    with pytest.raises(RunFinished):
        app.queue.cancel_run(done.run_id, "too late", USER)
    with pytest.raises(NotFound):
        app.queue.cancel_run(done.run_id, "x", Caller(actor="x", tenant="other", request_id="r"))


def test_the_reaper_records_expired_leases_and_dead_letters_exhausted_tasks(
    app: Container, clock: FakeClock, database_url: str
) -> None:
    retry = app.submit.submit(SubmitCommand(kind="noop", max_attempts=2), USER).submitted
    last = app.submit.submit(SubmitCommand(kind="noop", max_attempts=1), USER).submitted
    claim(app, n=2, lease=10)
    assert app.queue.reap_expired_leases(WORKER) == 0
    clock.advance(11)
    assert app.queue.reap_expired_leases(WORKER) == 2
    assert app.runs.get_run(retry.run_id, USER).tasks[0].status == "queued"
    assert app.runs.get_run(last.run_id, USER).status == "failed"
    (again,) = claim(app)
    assert again.run_id == retry.run_id
    assert again.attempt == 2


def test_get_run_hides_other_tenants(app: Container) -> None:
    run = app.submit.submit(SubmitCommand(kind="noop"), USER).submitted
    with pytest.raises(NotFound):
        app.runs.get_run(run.run_id, Caller(actor="x", tenant="other", request_id="r"))
