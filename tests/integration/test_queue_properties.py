"""Random interleavings of the queue's operations across workers keep its promises.

Checked after every step, against the ledger itself:
- no task is completed by two attempts (and no attempt is held by two claims);
- no accepted command is lost;
- a run is terminal exactly when all its tasks are;
- the queue read model equals the one rebuilt from the ledger.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from domain.errors import AlreadyCompleted, IdempotencyConflict, LeaseLost, RunFinished
from domain.events import (
    LeaseExpired,
    TaskCancelled,
    TaskClaimed,
    TaskFailed,
    TaskLeaseRenewed,
    TaskReleased,
    TaskSucceeded,
)
from domain.run import Run
from domain.task import Task
from projections.queue import QueueProjection, queue_row
from schemas.commands import ClaimTasks, CompleteTask, FailTask, RenewLease, SubmitCommand
from schemas.views import ClaimedTask
from services.ports import Caller
from services.queue import QueueService
from services.submit import SubmitService
from synaps.bootstrap import Container, build
from synaps.settings import Settings
from tests.fakes import FakeClock, SequentialIds

pytestmark = pytest.mark.integration

WORKERS = ("w1", "w2", "w3")
IDS = SequentialIds()
START = datetime(2026, 1, 1, tzinfo=UTC)
USER = Caller(actor="user", tenant="t", request_id="r")


@pytest.fixture
def machine_env(database_url: str) -> Iterator[tuple[Container, FakeClock, str]]:
    clock = FakeClock()
    container = build(Settings(database_url=database_url), clock=clock)
    container.queue = QueueService(container.ledger, clock, jitter=lambda: 0.5)
    container.submit = SubmitService(container.ledger, clock, new_id=IDS)
    yield container, clock, database_url
    container.close()


def test_queue_invariants_hold_under_random_interleavings(
    machine_env: tuple[Container, FakeClock, str],
) -> None:
    app, clock, database_url = machine_env
    CHECKS = psycopg.connect(database_url, autocommit=True)

    class QueueMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            CHECKS.execute("TRUNCATE synaps_events, synaps_queue")
            # every example starts from the same ids and time, so it replays exactly
            IDS.reset()
            clock.set(START)
            self.accepted: dict[uuid.UUID, uuid.UUID] = {}  # run -> task
            self.keys: dict[str, tuple[int, uuid.UUID]] = {}  # key -> (body, run)
            self.held: list[tuple[str, ClaimedTask]] = []
            self.claims: set[tuple[uuid.UUID, int]] = set()
            self.succeeded: dict[uuid.UUID, int] = {}

        # -- operations -----------------------------------------------------

        @initialize(
            n=st.integers(2, 6),
            max_attempts=st.integers(1, 3),
            first_claims=st.lists(st.sampled_from(WORKERS), max_size=3),
        )
        def some_work(self, n: int, max_attempts: int, first_claims: list[str]) -> None:
            for i in range(n):
                out = app.submit.submit(
                    SubmitCommand(kind="noop", input={"i": i}, max_attempts=max_attempts), USER
                )
                self.accepted[out.submitted.run_id] = out.submitted.task_ids[0]
            for worker in first_claims:
                self.claim(worker, 2, 5.0)

        @rule(
            key=st.none() | st.sampled_from(["k1", "k2", "k3"]),
            body=st.integers(0, 1),
            max_attempts=st.integers(1, 3),
            priority=st.integers(0, 2),
        )
        def submit(self, key: str | None, body: int, max_attempts: int, priority: int) -> None:
            command = SubmitCommand(
                kind="noop", input={"body": body}, max_attempts=max_attempts, priority=priority
            )
            if key is not None and key in self.keys:
                command = SubmitCommand(
                    kind="noop", input={"body": body}, max_attempts=1, priority=0
                )
            try:
                out = app.submit.submit(command, USER, key)
            except IdempotencyConflict:
                assert key in self.keys
                return
            if key is not None:
                if key in self.keys:
                    assert not out.created
                    assert self.keys[key][1] == out.submitted.run_id
                else:
                    assert out.created
                    self.keys[key] = (body, out.submitted.run_id)
            self.accepted[out.submitted.run_id] = out.submitted.task_ids[0]

        @rule(
            worker=st.sampled_from(WORKERS), n=st.integers(1, 3), lease=st.sampled_from([5.0, 30.0])
        )
        def claim(self, worker: str, n: int, lease: float) -> None:
            got = app.queue.claim(
                ClaimTasks(worker_id=worker, max_tasks=n, lease_seconds=lease),
                Caller(actor=f"worker:{worker}", request_id="c", all_tenants=True),
            )
            assert len(got) <= n
            for task in got:
                assert (task.task_id, task.attempt) not in self.claims, "attempt held twice"
                self.claims.add((task.task_id, task.attempt))
                self.held.append((worker, task))

        @precondition(lambda self: self.held)
        @rule(
            data=st.data(),
            action=st.sampled_from(
                ["complete", "complete twice", "fail", "fail for good", "renew"]
            ),
        )
        def act(self, data: st.DataObject, action: str) -> None:
            """A worker acts on a task it claimed at some point (its lease may be gone)."""
            worker, task = data.draw(st.sampled_from(self.held))
            caller = Caller(actor=f"worker:{worker}", request_id="x", all_tenants=True)
            try:
                if action.startswith("complete"):
                    request = CompleteTask(
                        task_id=task.task_id,
                        attempt=task.attempt,
                        output={"by": worker, "attempt": task.attempt},
                    )
                    for _ in range(2 if action == "complete twice" else 1):
                        result = app.queue.complete(request, caller)
                        if result.duplicate:
                            assert self.succeeded.get(task.task_id) == task.attempt
                        else:
                            assert task.task_id not in self.succeeded, "completed twice"
                            self.succeeded[task.task_id] = task.attempt
                elif action.startswith("fail"):
                    app.queue.fail(
                        FailTask(
                            task_id=task.task_id,
                            attempt=task.attempt,
                            error="boom",
                            retryable=action == "fail",
                        ),
                        caller,
                    )
                else:
                    app.queue.renew(
                        RenewLease(task_id=task.task_id, attempt=task.attempt, lease_seconds=10),
                        caller,
                    )
            except (LeaseLost, AlreadyCompleted):
                pass

        @rule(seconds=st.sampled_from([1.0, 6.0, 31.0, 120.0]))
        def time_passes(self, seconds: float) -> None:
            clock.advance(seconds)

        @rule()
        def reap(self) -> None:
            app.queue.reap_expired_leases(Caller(actor="reaper", request_id="x", all_tenants=True))

        @precondition(lambda self: self.accepted)
        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            run_id = data.draw(st.sampled_from(list(self.accepted)))
            with contextlib.suppress(RunFinished):
                app.queue.cancel_run(run_id, "test", USER)

        # -- promises -------------------------------------------------------

        def _tasks_and_runs(self) -> tuple[dict[uuid.UUID, Task], dict[uuid.UUID, Run]]:
            ids = [
                r[0]
                for r in CHECKS.execute(
                    "SELECT originator_id FROM synaps_events WHERE originator_version = 1"
                    " AND topic IN ('TaskQueued.v1', 'RunCreated.v1')"
                )
            ]
            loaded: dict[uuid.UUID, Any] = app.ledger.get_many(ids)
            tasks = {k: v for k, v in loaded.items() if isinstance(v, Task)}
            runs = {k: v for k, v in loaded.items() if isinstance(v, Run)}
            return tasks, runs

        @invariant()
        def promises_hold(self) -> None:
            tasks, runs = self._tasks_and_runs()
            successes = CHECKS.execute(
                "SELECT originator_id, count(*) FROM synaps_events"
                " WHERE topic = 'TaskSucceeded.v1' GROUP BY originator_id"
            ).fetchall()
            rows = QueueProjection.rows(CHECKS.cursor())
            assert all(count == 1 for _, count in successes), "a task completed twice"
            assert {t for t, _ in successes} == set(self.succeeded)
            for task_id, attempt in self.succeeded.items():
                assert tasks[task_id].attempt == attempt
            # fencing: only the attempt holding the lease renews, completes, fails or releases
            holder: dict[uuid.UUID, int | None] = {}
            for entry in app.ledger.history(list(tasks)):
                event = entry.event
                task_id = event.originator_id
                if isinstance(event, TaskClaimed):
                    assert holder.get(task_id) is None, "two attempts held at once"
                    holder[task_id] = event.attempt
                elif isinstance(
                    event, TaskLeaseRenewed | TaskSucceeded | TaskFailed | TaskReleased
                ):
                    assert event.attempt == holder.get(task_id), (
                        f"{event.type_name} by a stale attempt"
                    )
                    if not isinstance(event, TaskLeaseRenewed):
                        holder[task_id] = None
                elif isinstance(event, LeaseExpired | TaskCancelled):
                    holder[task_id] = None
            # no accepted command lost
            assert set(self.accepted) <= set(runs)
            for run_id, task_id in self.accepted.items():
                assert runs[run_id].task_ids == [task_id]
            # a run ends exactly when all its tasks have ended
            for run in runs.values():
                all_done = all(tasks[t].is_terminal for t in run.task_ids)
                assert run.is_terminal == all_done, (
                    run.status,
                    [tasks[t].status for t in run.task_ids],
                )
            # the inline read model equals a rebuild from the ledger
            rebuilt = sorted(
                (row for t in tasks.values() if (row := queue_row(t)) is not None),
                key=lambda r: r.task_id,
            )
            assert rows == rebuilt

    try:
        run_state_machine_as_test(
            QueueMachine,
            settings=settings(
                max_examples=100,
                stateful_step_count=40,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        CHECKS.close()
