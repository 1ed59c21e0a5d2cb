"""The cluster tools through the real kubernetes-asyncio client against a local API
server: the read-only tools only ever GET and never show a secret value, the write
client sends exactly the PATCH kubectl sends, and a refusal of the API server (403,
404) is a failed outcome with a clear error, never an exception."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from kubernetes_asyncio import client

from adapters.k8s.tools import ClusterTools
from adapters.k8s.writer import RESTARTED_AT, KubeClusterWriter, connect_writer
from domain.tool_calls import ToolCall
from services.agents.ports import ToolOutcome, WritesDisabled
from tests.kube_api_server import FakeKubeApi, Write, serve_cluster

NS = "shop"
POD = "web-7d9f8c6b5-x2x4z"
OTHER_POD = "web-7d9f8c6b5-q8r7s"
LITERAL_SECRET = "hunter2-in-the-pod-spec"
LOGGED_SECRET = "s3cr3t-in-the-log"
LOGGED_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3ZWIifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
NOW = datetime(2025, 5, 5, 12, 0, tzinfo=UTC)


def listing(*items: dict[str, Any]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(items)})


def web_pod(name: str, *, crashing: bool) -> dict[str, Any]:
    status: dict[str, Any] = {"name": "web", "ready": not crashing, "restartCount": 0}
    if crashing:
        status |= {
            "restartCount": 6,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
        }
    else:
        status["state"] = {"running": {"startedAt": "2025-05-05T10:00:00Z"}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NS,
            "labels": {"app": "web", "pod-template-hash": "7d9f8c6b5"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "web-7d9f8c6b5",
                    "uid": "rs-1",
                    "controller": True,
                }
            ],
        },
        "spec": {
            "nodeName": "node-1",
            "containers": [
                {
                    "name": "web",
                    "image": "registry.test/web:1.4.2",
                    "env": [
                        {"name": "DB_PASSWORD", "value": LITERAL_SECRET},
                        {"name": "LOG_LEVEL", "value": "info"},
                        {
                            "name": "API_TOKEN",
                            "valueFrom": {"secretKeyRef": {"name": "web-api", "key": "token"}},
                        },
                    ],
                    "resources": {"limits": {"memory": "256Mi", "cpu": "500m"}},
                }
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": "10.1.0.7",
            "conditions": [{"type": "Ready", "status": "False" if crashing else "True"}],
            "containerStatuses": [status],
        },
    }


def event(name: str, about: str, reason: str, message: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": NS},
        "involvedObject": {"kind": "Pod", "name": about, "namespace": NS},
        "reason": reason,
        "message": message,
        "type": "Warning",
        "count": 4,
        "firstTimestamp": "2025-05-05T11:00:00Z",
        "lastTimestamp": "2025-05-05T11:58:00Z",
    }


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": NS, "generation": 7},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "registry.test/web:1.4.2"}]},
        },
    },
    "status": {
        "observedGeneration": 7,
        "replicas": 2,
        "updatedReplicas": 2,
        "readyReplicas": 1,
        "availableReplicas": 1,
        "unavailableReplicas": 1,
    },
}


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    """A namespace with a crash-looping web pod, a healthy sibling, its Deployment and
    Service, and a previous log that prints credentials."""
    (tmp_path / "pods.json").write_text(
        listing(web_pod(POD, crashing=True), web_pod(OTHER_POD, crashing=False))
    )
    (tmp_path / "events.json").write_text(
        listing(
            event("e1", POD, "BackOff", "Back-off restarting failed container web"),
            event("e2", OTHER_POD, "Pulled", "Container image already present"),
            event("e3", POD, "Failed", f"Error: connecting with password={LOGGED_SECRET}"),
        )
    )
    (tmp_path / "deployments.json").write_text(listing(DEPLOYMENT))
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.20",
                 "ports": [{"port": 80, "targetPort": 8080}]},
    }  # fmt: skip
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "web", "namespace": NS},
        "subsets": [
            {
                "addresses": [{"ip": "10.1.0.8", "targetRef": {"kind": "Pod", "name": OTHER_POD}}],
                "notReadyAddresses": [
                    {"ip": "10.1.0.7", "targetRef": {"kind": "Pod", "name": POD}}
                ],
                "ports": [{"port": 8080}],
            }
        ],
    }
    (tmp_path / "services.json").write_text(listing(service))
    (tmp_path / "endpoints.json").write_text(listing(endpoints))
    logs = tmp_path / "logs" / POD
    logs.mkdir(parents=True)
    (logs / "web.log").write_text("INFO starting web 1.4.2\n")
    (logs / "web.previous.log").write_text(
        "INFO starting web 1.4.2\n"
        f"DEBUG connecting to postgres://web:{LOGGED_SECRET}@db:5432/web\n"
        f"DEBUG password={LOGGED_SECRET} Authorization: Bearer {LOGGED_TOKEN}\n"
        "ERROR cache grew to 250Mi\n"
    )
    return tmp_path


def api_client(url: str) -> client.ApiClient:
    return client.ApiClient(client.Configuration(host=url))


def run_tools(
    dump: Path, calls: list[ToolCall], prepare: Callable[[FakeKubeApi], None] = lambda api: None
) -> tuple[list[ToolOutcome], FakeKubeApi]:
    async def go() -> tuple[list[ToolOutcome], FakeKubeApi]:
        async with serve_cluster(dump, NS) as api, ClusterTools(api_client(api.url)) as tools:
            prepare(api)
            return [await tools.run(c) for c in calls], api

    return asyncio.run(go())


def read(tool: str, **args: Any) -> ToolCall:
    return ToolCall(tool=tool, args={"namespace": NS, **args})


EVERY_READ = [
    read("get_pod", pod=POD),
    read("get_pod_logs", pod=POD, container="web", previous=True, tail_lines=50),
    read("get_pod_logs", pod=POD),
    read("get_events", name=POD),
    read("rollout_status", deployment="web"),
    read("get_endpoints", service="web"),
    read("list_pods", label_selector="app=web", limit=10),
    read("get_pod", pod="missing"),  # a 404
    read("rollout_status", deployment="missing"),
]


def test_the_read_tools_only_ever_get(dump: Path) -> None:
    outcomes, api = run_tools(dump, EVERY_READ)
    assert [o.ok for o in outcomes] == [True] * 7 + [False] * 2
    assert api.calls, "the tools reached the API server"
    assert {method for method, _ in api.calls} == {"GET"}
    assert api.writes == []


def test_the_read_tools_use_the_real_api_paths(dump: Path) -> None:
    _, api = run_tools(dump, EVERY_READ[:7])
    paths = [path for _, path in api.calls]
    assert f"/api/v1/namespaces/{NS}/pods/{POD}" in paths
    logs = [p for p in paths if p.startswith(f"/api/v1/namespaces/{NS}/pods/{POD}/log?")]
    # the client writes booleans as Python does; the API server parses them with ParseBool
    assert any("previous=True" in p and "container=web" in p and "tailLines=50" in p for p in logs)
    assert any("previous=False" in p and "container=web" in p for p in logs), "default container"
    events = next(p for p in paths if p.startswith(f"/api/v1/namespaces/{NS}/events?"))
    assert "fieldSelector=involvedObject.name" in events
    assert f"/apis/apps/v1/namespaces/{NS}/deployments/web" in paths
    assert f"/api/v1/namespaces/{NS}/services/web" in paths
    assert f"/api/v1/namespaces/{NS}/endpoints/web" in paths
    assert any(p.startswith(f"/api/v1/namespaces/{NS}/pods?") and "labelSelector=app" in p
               for p in paths)  # fmt: skip


def test_what_the_read_tools_answer(dump: Path) -> None:
    outcomes, _ = run_tools(dump, EVERY_READ[:7])
    pod, previous, current, events, rollout, endpoints, pods = (o.output for o in outcomes)
    assert pod["name"] == POD
    (web,) = pod["containers"]
    assert web["restart_count"] == 6
    assert web["last_state"]["reason"] == "OOMKilled"
    assert web["limits"] == {"memory": "256Mi", "cpu": "500m"}
    assert previous["previous"] is True and "cache grew to 250Mi" in previous["text"]
    assert current["container"] == "web" and current["text"] == "INFO starting web 1.4.2\n"
    assert [e["reason"] for e in events["events"]] == ["BackOff", "Failed"]  # not the sibling's
    assert rollout["complete"] is False
    assert rollout["message"] == 'Waiting for deployment "web" rollout to finish: ' + (
        "1 of 2 updated replicas are available..."
    )
    assert list(endpoints["ready_addresses"]) == [OTHER_POD]
    assert list(endpoints["not_ready_addresses"]) == [POD]
    assert {p["name"] for p in pods["pods"]} == {POD, OTHER_POD}
    assert pods["truncated"] is False


def test_no_secret_value_ever_leaves_the_read_tools(dump: Path) -> None:
    outcomes, _ = run_tools(dump, EVERY_READ[:7])
    shown = json.dumps([msgspec.to_builtins(o) for o in outcomes])
    for secret in (LITERAL_SECRET, LOGGED_SECRET, LOGGED_TOKEN):
        assert secret not in shown
    pod = outcomes[0].output
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["DB_PASSWORD"]["value"].startswith("[REDACTED")
    assert env["LOG_LEVEL"]["value"] == "info"  # what is no secret stays readable
    assert env["API_TOKEN"]["secret"] == "web-api"  # a Secret by name only
    assert env["API_TOKEN"]["value"] is None
    assert "[REDACTED" in outcomes[1].output["text"]


def test_a_missing_object_is_a_failed_outcome_that_says_so(dump: Path) -> None:
    outcomes, _ = run_tools(
        dump,
        [
            read("get_pod", pod="missing"),
            read("rollout_status", deployment="missing"),
            read("get_endpoints", service="missing"),
            read("get_pod_logs", pod=POD, container="web-sidecar"),  # the API answers 400
        ],
    )
    assert [o.ok for o in outcomes] == [False] * 4
    assert [o.error for o in outcomes[:3]] == [
        f"pod {NS}/missing not found",
        f"deployment {NS}/missing not found",
        f"service {NS}/missing not found",
    ]
    assert outcomes[3].error is not None
    assert outcomes[3].error.startswith(f"Kubernetes API answered 400 for log of {NS}/{POD}")


def test_a_forbidden_read_is_a_failed_outcome_not_an_exception(dump: Path) -> None:
    log_path = f"/api/v1/namespaces/{NS}/pods/{POD}/log"
    outcomes, api = run_tools(
        dump,
        [read("get_pod_logs", pod=POD, container="web", previous=True), read("get_pod", pod=POD)],
        lambda api: api.forbidden.add(log_path),
    )
    denied, allowed = outcomes
    assert not denied.ok and denied.output is None
    assert denied.error is not None
    assert denied.error.startswith(f"not allowed on previous log of {NS}/{POD} container web")
    assert "forbidden" in denied.error
    assert allowed.ok
    assert ("GET", log_path) in [(m, p.split("?")[0]) for m, p in api.calls]


def test_bad_arguments_and_write_tools_never_reach_the_api(dump: Path) -> None:
    outcomes, api = run_tools(
        dump,
        [
            read("get_pod", pod="../../secrets"),
            read("get_pod_logs", pod=POD, tail_lines=10**6),
            read("rollout_restart", deployment="web"),
            read("delete_pod", pod=POD),
        ],
    )
    assert [o.ok for o in outcomes] == [False] * 4
    assert (
        outcomes[0].error is not None and "pod: '../../secrets' does not match" in outcomes[0].error
    )
    assert outcomes[1].error is not None and "tail_lines" in outcomes[1].error
    assert outcomes[2].error == "rollout_restart is not a read-only cluster tool"
    assert api.calls == []


def test_an_unreachable_api_is_a_failed_outcome() -> None:
    async def go() -> ToolOutcome:
        async with ClusterTools(api_client("http://127.0.0.1:9"), request_timeout=5) as tools:
            return await tools.run(read("get_pod", pod=POD))

    outcome = asyncio.run(go())
    assert not outcome.ok
    assert outcome.error is not None and outcome.error.startswith("Kubernetes API unreachable")


# -- the write client ----------------------------------------------------------------------


class WriteSwitch(msgspec.Struct, frozen=True):
    k8s_writes_enabled: bool = True
    k8s_write_kubeconfig: str = ""
    k8s_write_context: str = ""


@asynccontextmanager
async def writer_for(api: FakeKubeApi) -> AsyncIterator[KubeClusterWriter]:
    configuration = client.Configuration(host=api.url)
    async with await connect_writer(
        WriteSwitch(), configuration=configuration, clock=lambda: NOW
    ) as writer:
        yield writer


def run_writes(
    dump: Path, calls: list[ToolCall], prepare: Callable[[FakeKubeApi], None] = lambda api: None
) -> tuple[list[ToolOutcome], FakeKubeApi]:
    async def go() -> tuple[list[ToolOutcome], FakeKubeApi]:
        async with serve_cluster(dump, NS) as api, writer_for(api) as writer:
            prepare(api)
            return [await writer.run(c) for c in calls], api

    return asyncio.run(go())


def patch(path: str, content_type: str, body: dict[str, Any]) -> Write:
    return Write("PATCH", path, content_type, body)


DEPLOYMENT_PATH = f"/apis/apps/v1/namespaces/{NS}/deployments/web"
STRATEGIC = "application/strategic-merge-patch+json"


def test_rollout_restart_is_the_patch_kubectl_sends(dump: Path) -> None:
    (outcome,), api = run_writes(dump, [read("rollout_restart", deployment="web")])
    assert outcome.ok, outcome.error
    restarted = {"spec": {"template": {"metadata": {"annotations": {
        RESTARTED_AT: "2025-05-05T12:00:00Z"}}}}}  # fmt: skip
    assert api.writes == [patch(DEPLOYMENT_PATH, STRATEGIC, restarted)]
    assert outcome.output == {
        "deployment": "web",
        "restarted_at": "2025-05-05T12:00:00Z",
        "generation": 7,
    }


def test_scale_patches_the_scale_subresource(dump: Path) -> None:
    (outcome,), api = run_writes(dump, [read("scale_deployment", deployment="web", replicas=3)])
    assert outcome.ok, outcome.error
    assert api.writes == [
        patch(f"{DEPLOYMENT_PATH}/scale", "application/merge-patch+json", {"spec": {"replicas": 3}})
    ]
    assert outcome.output == {"deployment": "web", "replicas": 3, "current": 2}


def test_patch_resources_merges_one_container_by_name(dump: Path) -> None:
    call = read(
        "patch_resources",
        deployment="web",
        container="web",
        limits={"memory": "512Mi"},
        requests={"memory": "256Mi"},
    )
    (outcome,), api = run_writes(dump, [call])
    assert outcome.ok, outcome.error
    resources = {"limits": {"memory": "512Mi"}, "requests": {"memory": "256Mi"}}
    body = {
        "spec": {"template": {"spec": {"containers": [{"name": "web", "resources": resources}]}}}
    }
    assert api.writes == [patch(DEPLOYMENT_PATH, STRATEGIC, body)]
    # the Deployment is read first, so a wrong container name is not merged in as a new one
    assert [m for m, p in api.calls] == ["GET", "PATCH"]
    assert outcome.output["resources"] == resources


def test_a_container_the_deployment_lacks_is_refused_before_writing(dump: Path) -> None:
    call = read("patch_resources", deployment="web", container="cache", limits={"cpu": "1"})
    (outcome,), api = run_writes(dump, [call])
    assert not outcome.ok
    assert outcome.error == f"deployment {NS}/web has no container 'cache' (it has ['web'])"
    assert api.writes == []


def test_a_refused_write_is_a_failed_outcome_not_an_exception(dump: Path) -> None:
    calls = [
        read("rollout_restart", deployment="missing"),
        read("scale_deployment", deployment="missing", replicas=2),
        read("rollout_restart", deployment="web"),  # forbidden below
        read("scale_deployment", deployment="web", replicas=-1),  # invalid: never sent
        read("get_pod", pod=POD),  # not a write tool
    ]
    outcomes, api = run_writes(dump, calls, lambda api: api.forbidden.add(DEPLOYMENT_PATH))
    assert [o.ok for o in outcomes] == [False] * 5
    errors = [o.error or "" for o in outcomes]
    assert errors[0] == errors[1] == f"deployment {NS}/missing not found"
    assert errors[2].startswith(f"not allowed on deployment {NS}/web: ")
    assert "forbidden" in errors[2]
    assert "replicas: -1 is less than the minimum of 0" in errors[3]
    assert errors[4] == "get_pod is not a cluster write tool"
    assert [w.path for w in api.writes] == [
        f"/apis/apps/v1/namespaces/{NS}/deployments/missing",
        f"/apis/apps/v1/namespaces/{NS}/deployments/missing/scale",
    ]  # the forbidden PATCH was stopped before the handler; the invalid one never sent
    assert ("PATCH", DEPLOYMENT_PATH) in api.calls


def test_no_write_client_without_the_switch(dump: Path) -> None:
    async def go() -> None:
        await connect_writer(WriteSwitch(k8s_writes_enabled=False))

    with pytest.raises(WritesDisabled, match="SYNAPS_K8S_WRITES=enabled"):
        asyncio.run(go())

    async def around_the_factory() -> None:
        async with api_client("http://127.0.0.1:9") as api:
            KubeClusterWriter(api, clock=lambda: NOW, request_timeout=1)

    with pytest.raises(TypeError, match="connect_writer"):
        asyncio.run(around_the_factory())


def test_the_writer_knows_which_calls_destroy(dump: Path) -> None:
    async def go() -> tuple[bool, bool, frozenset[str]]:
        async with serve_cluster(dump, NS) as api, writer_for(api) as writer:
            return (
                writer.destructive(read("scale_deployment", deployment="web", replicas=0)),
                writer.destructive(read("scale_deployment", deployment="web", replicas=2)),
                writer.write_tools(),
            )

    to_zero, to_two, tools = asyncio.run(go())
    assert to_zero and not to_two
    assert tools == {"rollout_restart", "scale_deployment", "patch_resources", "delete_pod"}
