"""The agent pack end to end on a real PostgreSQL and a real worker pool: every step a
task of the run, a write never before ``ApprovalGranted``, a denial ends the run with
the plan unexecuted, a destructive call refused, and POST /api/ask for Syntra clients."""

from __future__ import annotations

import asyncio
import json
import queue
import shutil
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest
from kubernetes_asyncio.client import Configuration
from litestar.testing import TestClient

from adapters.k8s.sources import evidence_source_factory
from adapters.k8s.writer import connect_writer
from domain.approval import approval_id_for
from domain.task import TaskStatus
from schemas.commands import SubmitCommand
from schemas.views import RunView
from services.agents.deps import AgentDeps
from services.agents.pack import register_agent_pack
from services.agents.ports import ClusterWriter
from services.agents.state import Kinds
from services.agents.tool_catalog import BUILTIN_TOOLS
from services.ports import Caller
from services.task_kinds import builtin_kinds
from synaps.bootstrap import Container
from synaps.wiring import api_app
from tests.kube_api_server import FakeKubeApi, serve_cluster

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
OWN = REPO / "tests" / "fixtures" / "k8s"
OOM = OWN / "own-oom-01-jvm-xmx"  # payments/ledger-service, OOMKilled: a memory patch
HEALTHY = OWN / "own-healthy-01-old-restarts-jobs"
USER = Caller(actor="user:ann", tenant="default", request_id="req-1")
APPROVER = Caller(actor="user:bob", tenant="default", request_id="req-2")
TERMINAL = ("succeeded", "failed", "cancelled")

WriterFactory = Callable[[], AbstractAsyncContextManager[ClusterWriter]]


def start_agents(
    container: Container, dump: Path, writer: WriterFactory | None = None
) -> AgentDeps:
    deps = AgentDeps(
        providers={},
        artifacts=container.artifacts,
        approvals=container.approvals,
        evidence=evidence_source_factory(dump_dir=str(dump)),
        writer=writer,
        memory=container.incident_memory(),
    )
    kinds = builtin_kinds()
    register_agent_pack(kinds, deps)
    container.projector().start()
    container.worker_pool(kinds=kinds, concurrency=2).start()
    return deps


def wait_for(
    container: Container, run_id: uuid.UUID, done: Callable[[RunView], bool], timeout: float = 30
) -> RunView:
    deadline = time.monotonic() + timeout
    while not done(view := container.runs.get_run(run_id, USER)):
        assert time.monotonic() < deadline, [(t.kind, t.status, t.error) for t in view.tasks]
        time.sleep(0.05)
    return view


def held(view: RunView) -> bool:
    return any(t.status == TaskStatus.HELD for t in view.tasks) or view.status in TERMINAL


def finished(view: RunView) -> bool:
    return view.status in TERMINAL


def diagnose(container: Container, namespace: str, workload: str) -> uuid.UUID:
    command = SubmitCommand(
        kind=Kinds.DIAGNOSE, input={"namespace": namespace, "workload": workload}
    )
    return container.submit.submit(command, USER).submitted.run_id


def count_events(database_url: str, topic: str) -> int:
    """How many events of this type the ledger holds (each test has its own database)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM synaps_events WHERE topic LIKE %s", (f"{topic}.v%",)
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def http(container: Container, admin_key: str) -> Iterator[TestClient[Any]]:
    with TestClient(api_app(container)) as client:
        client.headers["X-API-Key"] = admin_key
        yield client


def approval_of(http: TestClient[Any], view: RunView) -> dict[str, Any]:
    (task,) = [t for t in view.tasks if t.kind == Kinds.EXECUTE]
    approval_id = approval_id_for(task.task_id)
    response = http.get(
        f"/v1/approvals/{approval_id}", params={"min_position": view.events[-1].position}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_diagnosis_is_a_chain_of_tasks_that_waits_for_an_approval(
    container: Container, http: TestClient[Any]
) -> None:
    start_agents(container, OOM)
    run_id = diagnose(container, "payments", "ledger-service")
    view = wait_for(container, run_id, held)
    kinds = [t.kind for t in view.tasks]
    assert kinds == [
        Kinds.DIAGNOSE,
        Kinds.COLLECT,
        Kinds.ANALYZE,
        Kinds.DEVOPS,
        Kinds.EXECUTE,
    ], kinds
    by_kind = {t.kind: t for t in view.tasks}
    assert by_kind[Kinds.EXECUTE].status == TaskStatus.HELD
    assert all(by_kind[k].status == TaskStatus.SUCCEEDED for k in kinds[:-1])
    assert view.status == "running"
    report = by_kind[Kinds.ANALYZE].output["diagnosis"]
    assert report["root_cause"]["type"] == "oom_killed"
    devops = by_kind[Kinds.DEVOPS].output
    writes = [p for p in devops["proposed"] if p["status"] == "awaiting_approval"]
    assert [w["tool"] for w in writes] == ["patch_resources"], devops["proposed"]
    assert writes[0]["args"]["namespace"] == "payments"
    # the approval names exactly those calls, with the decisive evidence
    approval = approval_of(http, view)
    assert approval["status"] == "pending"
    assert approval["run_id"] == str(run_id)
    assert [c["tool"] for c in approval["tool_calls"]] == ["patch_resources"]
    assert any("OOMKilled" in line for line in approval["evidence"])


def test_approved_writes_are_not_executed_when_writing_is_not_enabled(
    container: Container, http: TestClient[Any]
) -> None:
    start_agents(container, OOM, writer=None)
    run_id = diagnose(container, "payments", "ledger-service")
    approval = approval_of(http, wait_for(container, run_id, held))
    decided = http.post(f"/v1/approvals/{approval['approval_id']}/approve", json={"reason": "ok"})
    assert decided.status_code == 200, decided.text
    view = wait_for(container, run_id, finished)
    assert view.status == "succeeded", [(t.kind, t.status, t.error) for t in view.tasks]
    execute = next(t for t in view.tasks if t.kind == Kinds.EXECUTE)
    assert execute.output["executed"] == []
    checks = {c["check"]: c for c in view.output["review"]}
    assert not checks["remediation_executed"]["ok"]
    assert "not enabled" in checks["remediation_executed"]["detail"]
    assert count_events(container.settings.database_url, "ApprovalGranted") == 1


def test_a_denied_approval_ends_the_run_with_the_plan_unexecuted(
    container: Container, http: TestClient[Any]
) -> None:
    start_agents(container, OOM)
    run_id = diagnose(container, "payments", "ledger-service")
    approval = approval_of(http, wait_for(container, run_id, held))
    denied = http.post(f"/v1/approvals/{approval['approval_id']}/deny", json={"reason": "no"})
    assert denied.status_code == 200, denied.text
    view = wait_for(container, run_id, finished)
    by_kind = {t.kind: t for t in view.tasks}
    assert by_kind[Kinds.EXECUTE].status == TaskStatus.CANCELLED
    assert by_kind[Kinds.REVIEW].status == TaskStatus.SUCCEEDED
    checks = {c["check"]: c for c in view.output["review"]}
    assert checks["remediation_executed"] == {
        "check": "remediation_executed",
        "ok": False,
        "detail": "the approval was denied: the plan was not executed",
    }
    again = http.post(f"/v1/approvals/{approval['approval_id']}/approve", json={})
    assert again.status_code == 409, again.text
    first = view.output["incident"]
    assert first["occurrences"] == 1 and not first["deduplicated"]

    # the same finding again: one incident with two occurrences, the first one similar
    second_run = diagnose(container, "payments", "ledger-service")
    second = approval_of(http, wait_for(container, second_run, held))
    http.post(f"/v1/approvals/{second['approval_id']}/deny", json={"reason": "not now"})
    view = wait_for(container, second_run, finished)
    assert view.output["incident"]["incident_id"] == first["incident_id"]
    assert view.output["incident"]["occurrences"] == 2
    assert view.output["similar_incidents"][0]["incident_id"] == first["incident_id"]
    listed = http.get(
        "/v1/incidents",
        params={"root_cause": "oom_killed", "min_position": view.output["incident"]["position"]},
    ).json()["incidents"]
    assert [(i["incident_id"], i["occurrences"]) for i in listed] == [(first["incident_id"], 2)], (
        listed
    )
    one = http.get(f"/v1/incidents/{first['incident_id']}")
    assert one.status_code == 200 and one.json()["workload"] == "ledger-service"
    assert http.get(f"/v1/incidents/{uuid.uuid4()}").status_code == 404


@contextmanager
def kube_api(dump: Path, namespace: str) -> Iterator[FakeKubeApi]:
    """The local Kubernetes API on its own loop and thread, for workers in other threads."""
    started: queue.Queue[tuple[FakeKubeApi, asyncio.AbstractEventLoop, asyncio.Event]]
    started = queue.Queue()

    async def serve() -> None:
        stop = asyncio.Event()
        async with serve_cluster(dump, namespace) as api:
            started.put((api, asyncio.get_running_loop(), stop))
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    api, loop, stop = started.get(timeout=10)
    try:
        yield api
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


class WriteSwitch(msgspec.Struct, frozen=True):
    k8s_writes_enabled: bool = True
    k8s_write_kubeconfig: str = ""
    k8s_write_context: str = ""


def writer_to(url: str) -> WriterFactory:
    @asynccontextmanager
    async def open_writer() -> AsyncIterator[ClusterWriter]:
        writer = await connect_writer(WriteSwitch(), configuration=Configuration(host=url))
        try:
            yield writer
        finally:
            await writer.close()

    return open_writer


def with_deployment(tmp_path: Path) -> Path:
    """The OOM dump plus the Deployment its pods belong to (the write targets it)."""
    dump = tmp_path / "oom"
    shutil.copytree(OOM, dump)
    pod = json.loads((OOM / "pods.json").read_text())["items"][0]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "ledger-service", "namespace": "payments", "generation": 4},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "ledger-service"}},
            "template": {"metadata": {"labels": {"app": "ledger-service"}}, "spec": pod["spec"]},
        },
        "status": {"replicas": 2, "readyReplicas": 0, "observedGeneration": 4},
    }
    listing = {"apiVersion": "v1", "kind": "List", "items": [deployment]}
    (dump / "deployments.json").write_text(json.dumps(listing))
    return dump


def test_a_write_runs_only_after_approval_granted_and_only_as_approved(
    container: Container, http: TestClient[Any], tmp_path: Path
) -> None:
    dump = with_deployment(tmp_path)
    with kube_api(dump, "payments") as kube:
        start_agents(container, dump, writer=writer_to(kube.url))
        run_id = diagnose(container, "payments", "ledger-service")
        view = wait_for(container, run_id, held)
        approval = approval_of(http, view)
        time.sleep(1.0)  # a held step is not claimed, however long it waits
        assert kube.writes == []
        assert container.runs.get_run(run_id, USER).status == "running"
        (call,) = approval["tool_calls"]
        decided = http.post(f"/v1/approvals/{approval['approval_id']}/approve", json={})
        assert decided.status_code == 200, decided.text
        view = wait_for(container, run_id, finished)
    assert view.status == "succeeded", [(t.kind, t.status, t.error) for t in view.tasks]
    (write,) = kube.writes
    assert write.method == "PATCH"
    assert write.path == "/apis/apps/v1/namespaces/payments/deployments/ledger-service"
    (patched,) = write.body["spec"]["template"]["spec"]["containers"]
    assert patched["name"] == call["args"]["container"] == "ledger-service"
    assert patched["resources"]["limits"] == call["args"]["limits"]
    assert patched["resources"]["limits"]["memory"] != "768Mi", "the limit was raised"
    execute = next(t for t in view.tasks if t.kind == Kinds.EXECUTE)
    assert [e["status"] for e in execute.output["executed"]] == ["done"]
    checks = {c["check"]: c["ok"] for c in view.output["review"]}
    assert checks["remediation_executed"] is True
    # the grant is in the ledger before the task that wrote was claimed
    with psycopg.connect(container.settings.database_url) as conn:
        granted, claimed = (
            conn.execute(
                "SELECT min(notification_id) FROM synaps_events"
                " WHERE originator_id = %s AND topic LIKE %s",
                (uid, topic),
            ).fetchone()[0]  # type: ignore[index]
            for uid, topic in (
                (uuid.UUID(approval["approval_id"]), "ApprovalGranted%"),
                (execute.task_id, "TaskClaimed%"),
            )
        )
    assert granted < claimed


def test_a_destructive_call_is_refused_and_never_awaits_approval(
    container: Container, http: TestClient[Any], tmp_path: Path
) -> None:
    dump = with_deployment(tmp_path)
    # the registry marks the proposed write destructive; the policy does not allow that
    spec = dict(BUILTIN_TOOLS["patch_resources"], destructive=True)
    container.control.add_version("tool", "patch_resources", spec, "risky", USER, activate=True)
    with kube_api(dump, "payments") as kube:
        start_agents(container, dump, writer=writer_to(kube.url))
        time.sleep(0.7)  # the workers' snapshot follows within a second
        view = wait_for(container, diagnose(container, "payments", "ledger-service"), finished)
    assert view.status == "succeeded"
    assert not any(t.kind == Kinds.EXECUTE for t in view.tasks)
    devops = next(t for t in view.tasks if t.kind == Kinds.DEVOPS).output
    refused = [p for p in devops["proposed"] if p["tool"] == "patch_resources"]
    assert [p["status"] for p in refused] == ["refused"]
    assert "destructive" in refused[0]["refused"]
    assert kube.writes == []
    assert count_events(container.settings.database_url, "ApprovalRequested") == 0


def test_a_healthy_namespace_needs_no_approval(container: Container) -> None:
    start_agents(container, HEALTHY)
    ask = SubmitCommand(
        kind=Kinds.ASK, input={"prompt": "anything wrong in data-platform? dashboards look stale"}
    )
    run_id = container.submit.submit(ask, USER).submitted.run_id
    view = wait_for(container, run_id, finished)
    assert view.status == "succeeded"
    assert [t.kind for t in view.tasks][-1] == Kinds.REVIEW
    assert not any(t.kind == Kinds.EXECUTE for t in view.tasks)
    assert view.output["diagnosis"]["root_cause"]["type"] == "healthy"
    assert count_events(container.settings.database_url, "ApprovalRequested") == 0


def test_api_ask_answers_syntra_clients(container: Container, http: TestClient[Any]) -> None:
    start_agents(container, OOM)
    question = (OOM / "question.txt").read_text().strip()
    # what the public Syntra CLI sends: {"prompt", "context"} with X-API-Key
    reply = http.post(
        "/api/ask", json={"prompt": question, "context": {"source": "syntra-cli"}, "model": "x"}
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["result"] == body["response"]
    assert "oom_killed" in body["result"] and "ledger-service" in body["result"]
    assert body["awaiting_approval"] is True and body["status"] == "running"
    assert body["diagnosis"]["root_cause"]["type"] == "oom_killed"
    assert reply.headers["Synaps-Position"] == str(body["position"])
    view = container.runs.get_run(uuid.UUID(body["run_id"]), USER)
    assert view.kind == Kinds.ASK
    assert view.tasks[0].kind == Kinds.ASK and view.tasks[0].status == TaskStatus.SUCCEEDED
    # "question" is accepted too; no credentials is a 401 problem; an empty one a 422
    other = http.post("/api/ask", json={"question": question}, params={"wait": 0})
    assert other.status_code == 200 and other.json()["run_id"] != body["run_id"]
    anonymous = http.post("/api/ask", json={"prompt": question}, headers={"X-API-Key": ""})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    runs_before = count_events(container.settings.database_url, "RunCreated")
    empty = http.post("/api/ask", json={"prompt": "  "})
    assert empty.status_code == 422, empty.text
    assert empty.json()["title"]
    assert count_events(container.settings.database_url, "RunCreated") == runs_before


def test_the_service_summary_answers_json_clients(http: TestClient[Any]) -> None:
    summary = http.get("/", headers={"Accept": "application/json"})
    assert summary.status_code == 200
    body = summary.json()
    assert body["service"] == "synaps"
    assert "/api/ask" in str(body)


def test_api_ask_answers_queued_when_the_runs_view_lags(
    container: Container, http: TestClient[Any]
) -> None:
    # no projector and no worker: the command is accepted, the run not yet visible
    reply = http.post("/api/ask", json={"prompt": "why is checkout slow?"}, params={"wait": 0.1})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "queued" and body["result"] == body["response"]
    assert count_events(container.settings.database_url, "RunCreated") == 1
