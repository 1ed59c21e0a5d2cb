"""Task chains and approvals on a real PostgreSQL: a completion queues the run's next
steps atomically; a step held for approval is never claimed before ``ApprovalGranted``;
a denial cancels it and runs the fallback step instead."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from domain.api_key import key_id_for
from domain.approval import approval_id_for
from domain.errors import InvalidTransition, NotFound
from schemas.commands import (
    ClaimTasks,
    CompleteTask,
    NeedsApproval,
    NextStep,
    NextTask,
    SubmitCommand,
)
from schemas.views import ClaimedTask
from services.ports import Caller
from synaps.bootstrap import Container, build
from synaps.wiring import api_app
from tests.conftest import ADMIN_KEY, settings_for_tests
from tests.fakes import FakeClock

pytestmark = pytest.mark.integration

USER = Caller(actor="user:ann", tenant="acme", request_id="req-1")
APPROVER = Caller(actor="user:bob", tenant="acme", request_id="req-2")
WORKER = Caller(actor="worker:w1", request_id="claim-1", all_tenants=True)
RESTART = {"tool": "rollout_restart", "args": {"namespace": "shop", "deployment": "checkout"}}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[Container]:
    c = build(settings_for_tests(database_url), clock=clock)
    yield c
    c.close()


def claim(app: Container, n: int = 10) -> list[ClaimedTask]:
    return app.queue.claim(ClaimTasks(worker_id="w1", max_tasks=n, lease_seconds=30), WORKER)


def topics(database_url: str, **where: Any) -> list[str]:
    ((column, value),) = where.items()
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            f"SELECT topic FROM synaps_events WHERE {column} = %s ORDER BY notification_id",
            (value,),
        ).fetchall()
    return [r[0].split(".v")[0] for r in rows]


def others(app: Container, run_id: uuid.UUID, first: ClaimedTask) -> list[uuid.UUID]:
    return [t.task_id for t in app.runs.get_run(run_id, USER).tasks if t.task_id != first.task_id]


def run_status(app: Container, run_id: uuid.UUID) -> str:
    return str(app.runs.get_run(run_id, USER).status)


def complete(app: Container, task: ClaimedTask, *steps: NextTask, result: Any = None) -> int:
    done = app.queue.complete(
        CompleteTask(task_id=task.task_id, attempt=task.attempt, output=result, next=list(steps)),
        WORKER,
    )
    return done.position


def held_step(on_denied: NextStep | None = None) -> NextTask:
    return NextTask(
        kind="devops.execute",
        input={"plan": "restart"},
        approval=NeedsApproval(
            tool_calls=[RESTART],
            summary="restart checkout: it leaks memory",
            evidence=["Last State: OOMKilled"],
            on_denied=on_denied,
        ),
    )


def start(app: Container) -> tuple[uuid.UUID, ClaimedTask]:
    submitted = app.submit.submit(SubmitCommand(kind="agent.plan", input={}), USER).submitted
    (first,) = claim(app)
    return submitted.run_id, first


def test_a_completion_queues_the_next_steps_in_its_own_transaction(
    app: Container, database_url: str
) -> None:
    run_id, first = start(app)
    position = complete(
        app, first, NextTask(kind="agent.collect", input={"ns": "shop"}, priority=5)
    )
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT topic FROM synaps_events WHERE notification_id >> 20 = %s"
            " ORDER BY notification_id",
            (position >> 20,),
        ).fetchall()
    written = [r[0].split(".v")[0] for r in rows]
    assert {"TaskSucceeded", "TaskQueued", "RunTaskAdded", "RunTaskSettled"} <= set(written)
    assert run_status(app, run_id) == "running"
    (second,) = claim(app)
    assert (second.kind, second.input) == ("agent.collect", {"ns": "shop"})
    assert second.run_id == run_id
    complete(app, second, result={"done": True})
    assert run_status(app, run_id) == "succeeded"


def test_a_held_step_is_never_claimed_before_the_approval_is_granted(
    app: Container, clock: FakeClock, database_url: str
) -> None:
    run_id, first = start(app)
    complete(app, first, held_step())
    for _ in range(3):
        clock.advance(365 * 86400)
        assert claim(app) == []
        app.queue.reap_expired_leases(WORKER)
    assert run_status(app, run_id) == "running"
    (task_id,) = [
        t.task_id for t in app.runs.get_run(run_id, USER).tasks if t.task_id != first.task_id
    ]
    approval = approval_id_for(task_id)
    assert topics(database_url, originator_id=approval) == ["ApprovalRequested"]

    decision = app.approvals.approve(approval, "looks right", APPROVER)
    assert decision.status == "granted" and decision.position is not None
    assert topics(database_url, originator_id=approval) == ["ApprovalRequested", "ApprovalGranted"]
    assert topics(database_url, originator_id=task_id)[-1] == "TaskHoldReleased"
    with psycopg.connect(database_url) as conn:
        actor = conn.execute(
            "SELECT convert_from(state, 'UTF8')::json->>'actor' FROM synaps_events"
            " WHERE originator_id = %s AND topic LIKE 'ApprovalGranted%%'",
            (approval,),
        ).fetchone()
    assert actor == ("user:bob",)
    (released,) = claim(app)
    assert released.task_id == task_id and released.kind == "devops.execute"
    # approving again changes nothing; denying now is refused
    assert app.approvals.approve(approval, "", APPROVER).position is None
    with pytest.raises(InvalidTransition):
        app.approvals.deny(approval, "", APPROVER)
    complete(app, released)
    assert run_status(app, run_id) == "succeeded"


def test_a_denial_cancels_the_held_step_and_runs_the_fallback_instead(
    app: Container, database_url: str
) -> None:
    run_id, first = start(app)
    complete(app, first, held_step(on_denied=NextStep(kind="agent.review", input={"x": 1})))
    (held_id,) = [
        t.task_id for t in app.runs.get_run(run_id, USER).tasks if t.task_id != first.task_id
    ]
    decision = app.approvals.deny(approval_id_for(held_id), "not during the sale", APPROVER)
    assert decision.status == "denied"
    assert topics(database_url, originator_id=held_id)[-1] == "TaskCancelled"
    (review,) = claim(app)
    assert review.kind == "agent.review" and review.input == {"x": 1}
    assert claim(app) == []  # the held step is gone for good
    complete(app, review, result={"executed": False})
    assert run_status(app, run_id) == "succeeded"
    with pytest.raises(InvalidTransition):
        app.approvals.approve(approval_id_for(held_id), "", APPROVER)


def test_a_denial_without_a_fallback_ends_the_run_unexecuted(app: Container) -> None:
    run_id, first = start(app)
    complete(app, first, held_step())
    (held_id,) = [
        t.task_id for t in app.runs.get_run(run_id, USER).tasks if t.task_id != first.task_id
    ]
    app.approvals.deny(approval_id_for(held_id), "no", APPROVER)
    assert run_status(app, run_id) == "cancelled"
    assert claim(app) == []


def test_approvals_of_another_tenant_are_not_found(app: Container) -> None:
    run_id, first = start(app)
    complete(app, first, held_step())
    (held_id,) = [
        t.task_id for t in app.runs.get_run(run_id, USER).tasks if t.task_id != first.task_id
    ]
    stranger = Caller(actor="user:eve", tenant="globex", request_id="r")
    with pytest.raises(NotFound):
        app.approvals.approve(approval_id_for(held_id), "", stranger)
    assert claim(app) == []


# -- REST ------------------------------------------------------------------------------


@pytest.fixture
def client(container: Container, admin_key: str) -> Iterator[TestClient]:  # type: ignore[type-arg]
    container.projector().start()
    with TestClient(api_app(container)) as c:
        c.headers["X-API-Key"] = admin_key
        yield c


def _held_run(client: TestClient) -> tuple[str, str]:  # type: ignore[type-arg]
    run_id = client.post("/v1/commands/submit", json={"kind": "agent.plan"}).json()["run_id"]
    (task,) = client.post("/v1/queue/claim", json={"worker_id": "w", "max_tasks": 1}).json()[
        "tasks"
    ]
    done = client.post(
        "/v1/queue/complete",
        json={
            "task_id": task["task_id"],
            "attempt": 1,
            "next": [
                {
                    "kind": "devops.execute",
                    "approval": {"tool_calls": [RESTART], "summary": "restart checkout"},
                }
            ],
        },
    )
    assert done.status_code == 200, done.text
    return run_id, done.json()["position"]


def test_rest_lists_pending_approvals_and_records_the_approver(client: TestClient) -> None:  # type: ignore[type-arg]
    run_id, position = _held_run(client)
    pending = client.get(
        "/v1/approvals", params={"status": "pending", "min_position": position}
    ).json()["approvals"]
    (approval,) = [a for a in pending if a["run_id"] == run_id]
    assert approval["tool_calls"] == [RESTART] and approval["summary"] == "restart checkout"
    assert client.get("/v1/queue/stats").json()["queues"][0]["ready"] == 0

    r = client.post(f"/v1/approvals/{approval['approval_id']}/approve", json={"reason": "ok"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "granted"
    shown = client.get(
        f"/v1/approvals/{approval['approval_id']}",
        params={"min_position": r.headers["Synaps-Position"]},
    )
    got = client.get(f"/v1/approvals/{approval['approval_id']}").json()
    assert shown.status_code == 200
    assert got["status"] == "granted"
    assert got["decided_by"] == f"key:{key_id_for(ADMIN_KEY)}" and got["reason"] == "ok"
    claimed = client.post("/v1/queue/claim", json={"worker_id": "w", "max_tasks": 5}).json()
    assert [t["kind"] for t in claimed["tasks"]] == ["devops.execute"]


def test_rest_deciding_needs_kubernetes_write(client: TestClient) -> None:  # type: ignore[type-arg]
    _held_run(client)
    read_only = client.post("/v1/keys", json={"type": "test"}).json()["key"]
    approval_id = str(uuid.uuid4())
    r = client.post(f"/v1/approvals/{approval_id}/approve", headers={"X-API-Key": read_only})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem")
    missing = client.post(f"/v1/approvals/{approval_id}/deny", json={"reason": "x"})
    assert missing.status_code == 404
    bad = client.post(f"/v1/approvals/{approval_id}/deny", json={"reason": 5})
    assert bad.status_code in (400, 422)
