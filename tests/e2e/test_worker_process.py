"""Real `synaps worker` processes: killed mid-task, or asked to stop."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from schemas.commands import SubmitCommand
from services.ports import Caller
from synaps.bootstrap import Container
from tests.e2e.processes import eventually, running, synaps

pytestmark = pytest.mark.e2e

USER = Caller(actor="user", request_id="r")


def worker_args(worker_id: str, lease: float = 2.0) -> list[str]:
    return ["worker", "--worker-id", worker_id, "--concurrency", "1", "--lease-seconds", str(lease)]


def test_a_killed_worker_loses_its_lease_and_another_completes_the_task_once(
    container: Container, database_url: str, tmp_path: Path
) -> None:
    env = {"SYNAPS_DATABASE_URL": database_url}
    run_id = container.submit.submit(
        SubmitCommand(kind="sleep", input={"seconds": 1.5}), USER
    ).submitted.run_id

    def task() -> dict[str, object]:
        view = container.runs.get_run(run_id, USER).tasks[0]
        return {"status": view.status, "worker_id": view.worker_id, "attempt": view.attempt}

    with running(synaps(*worker_args("doomed"), env=env, log=tmp_path / "a.log")) as doomed:
        eventually(lambda: task()["worker_id"] == "doomed", what="the first worker's claim")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    assert task()["status"] == "running", "nothing completed the killed attempt"
    with running(synaps(*worker_args("rescuer"), env=env, log=tmp_path / "b.log")) as rescuer:
        eventually(
            lambda: container.runs.get_run(run_id, USER).status == "succeeded",
            timeout=30,
            what="the rescue",
        )
        rescuer.send_signal(signal.SIGTERM)
        assert rescuer.wait(30) == 0
    run = container.runs.get_run(run_id, USER)
    types = [e.type for e in run.events]
    assert types.count("TaskSucceeded") == 1
    claims = [
        (e.data["worker_id"], e.data["attempt"]) for e in run.events if e.type == "TaskClaimed"
    ]
    assert claims == [("doomed", 1), ("rescuer", 2)]
    expired = [e for e in run.events if e.type in ("LeaseExpired",)]
    assert [e.data["attempt"] for e in expired] == [1]
    succeeded = next(e for e in run.events if e.type == "TaskSucceeded")
    assert succeeded.data["attempt"] == 2 and succeeded.actor == "worker:rescuer"


def test_sigterm_lets_the_running_task_finish_before_exiting(
    container: Container, database_url: str, tmp_path: Path
) -> None:
    env = {"SYNAPS_DATABASE_URL": database_url}
    run_id = container.submit.submit(
        SubmitCommand(kind="sleep", input={"seconds": 1.0}), USER
    ).submitted.run_id
    with running(synaps(*worker_args("polite", lease=10), env=env, log=tmp_path / "w.log")) as w:
        eventually(
            lambda: container.runs.get_run(run_id, USER).status == "running", what="the claim"
        )
        w.send_signal(signal.SIGTERM)
        assert w.wait(30) == 0
    run = container.runs.get_run(run_id, USER)
    assert run.status == "succeeded"
    assert run.tasks[0].attempt == 1


def test_sigterm_releases_a_task_that_outlives_the_grace(
    container: Container, database_url: str, tmp_path: Path
) -> None:
    env = {"SYNAPS_DATABASE_URL": database_url}
    run_id = container.submit.submit(
        SubmitCommand(kind="sleep", input={"seconds": 60}), USER
    ).submitted.run_id
    args = [*worker_args("hasty", lease=10), "--shutdown-grace", "0.5"]
    with running(synaps(*args, env=env, log=tmp_path / "w.log")) as w:
        eventually(
            lambda: container.runs.get_run(run_id, USER).status == "running", what="the claim"
        )
        w.send_signal(signal.SIGTERM)
        assert w.wait(30) == 0
    run = container.runs.get_run(run_id, USER)
    assert run.tasks[0].status == "queued"
    assert run.events[-1].type == "TaskReleased"
