"""The kubectl dump reader: list kinds, optional files, both event APIs, owners, secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.k8s.dump import DumpDirectory, DumpError

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-6d4cf56db6-abcde",
        "namespace": "shop",
        "labels": {"app": "web", "pod-template-hash": "6d4cf56db6"},
        "ownerReferences": [{"kind": "ReplicaSet", "name": "web-6d4cf56db6", "controller": True}],
    },
    "spec": {
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "env": [
                    {
                        "name": "PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "web-db", "key": "pw"}},
                    }
                ],
                "ports": [{"containerPort": "8080", "name": "http"}],
            }
        ],
        "initContainers": [{"name": "init", "image": "busybox"}],
    },
    "status": {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "web",
                "ready": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": "2025-01-01T00:00:00Z"}},
            }
        ],
        "initContainerStatuses": [
            {
                "name": "init",
                "ready": True,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
            }
        ],
    },
}
SCHEDULER_EVENT = {
    "kind": "Event",
    "metadata": {"name": "e1", "namespace": "shop"},
    "involvedObject": {"kind": "Pod", "name": "web-6d4cf56db6-abcde"},
    "reason": "FailedScheduling",
    "message": "0/3 nodes are available: 3 Insufficient cpu.",
    "type": "Warning",
    "eventTime": "2025-01-01T00:05:00.123456Z",
    "firstTimestamp": None,
    "lastTimestamp": None,
    "series": {"count": 7, "lastObservedTime": "2025-01-01T00:09:00.000000Z"},
    "source": {},
    "reportingComponent": "default-scheduler",
}


def write(directory: Path, name: str, kind: str, items: list[object]) -> None:
    (directory / name).write_text(json.dumps({"apiVersion": "v1", "kind": kind, "items": items}))


def test_typed_lists_both_event_apis_owners_and_secret_names(tmp_path: Path) -> None:
    write(tmp_path, "pods.json", "PodList", [POD])
    write(tmp_path, "events.json", "EventList", [SCHEDULER_EVENT])
    (tmp_path / "logs" / POD["metadata"]["name"]).mkdir(parents=True)  # type: ignore[index]
    (tmp_path / "logs" / "web-6d4cf56db6-abcde" / "web.log").write_text("")
    package = DumpDirectory(tmp_path).read()
    assert package.namespace == "shop"
    pod = package.pods[0]
    assert pod.workload is not None
    assert str(pod.workload) == "Deployment/web"
    assert [c.name for c in pod.containers] == ["init", "web"]
    assert pod.containers[0].init
    web = pod.containers[1]
    assert web.secret_refs == ("web-db",)
    assert web.env[0].value is None
    assert web.ports == (8080,)
    assert web.log is not None
    assert web.log.text == ""  # an empty log is not a missing log
    assert pod.containers[0].log is None
    event = package.events[0]
    assert event.count == 7
    assert event.source == "default-scheduler"
    assert event.last_seen is not None
    assert event.last_seen.minute == 9


def test_missing_directory_missing_pods_and_invalid_json_are_errors(tmp_path: Path) -> None:
    with pytest.raises(DumpError, match="no such directory"):
        DumpDirectory(tmp_path / "absent").read()
    with pytest.raises(DumpError, match=r"pods\.json"):
        DumpDirectory(tmp_path).read()
    (tmp_path / "pods.json").write_text("{not json")
    with pytest.raises(DumpError, match="not valid JSON"):
        DumpDirectory(tmp_path).read()
    (tmp_path / "pods.json").write_text('{"kind": "List", "items": [{"metadata": "oops"}]}')
    with pytest.raises(DumpError, match="not a kubectl"):
        DumpDirectory(tmp_path).read()
