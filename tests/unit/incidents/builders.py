"""Small evidence builders for rule tests: a pod, a container, an event, a package."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.incidents.cluster import KubeEvent
from domain.incidents.logs import LogExcerpt
from domain.incidents.package import EvidencePackage
from domain.incidents.pods import (
    Condition,
    ContainerEvidence,
    ContainerState,
    OwnerRef,
    PodEvidence,
)

NOW = datetime(2025, 5, 5, 12, 0, tzinfo=UTC)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def log(text: str) -> LogExcerpt:
    return LogExcerpt(text=text, total_bytes=len(text.encode()))


def running(minutes_ago: float = 60) -> ContainerState:
    return ContainerState(kind="running", started_at=ago(minutes_ago))


def waiting(reason: str, message: str = "") -> ContainerState:
    return ContainerState(kind="waiting", reason=reason, message=message)


def terminated(reason: str, code: int, minutes_ago: float = 2, message: str = "") -> ContainerState:
    return ContainerState(
        kind="terminated",
        reason=reason,
        exit_code=code,
        message=message,
        started_at=ago(minutes_ago + 1),
        finished_at=ago(minutes_ago),
    )


def container(name: str = "app", **fields: Any) -> ContainerEvidence:
    fields.setdefault("has_status", True)
    fields.setdefault("state", running())
    fields.setdefault("ready", fields["state"].kind == "running")
    return ContainerEvidence(name=name, image=f"registry.test/{name}:1.0", **fields)


def pod(
    name: str = "app-7d9f8c6b5-x2x4z",
    *containers: ContainerEvidence,
    workload: str = "app",
    phase: str = "Running",
    ready: bool | None = None,
    **fields: Any,
) -> PodEvidence:
    containers = containers or (container(),)
    is_ready = all(c.ready for c in containers if not c.init) if ready is None else ready
    conditions = fields.pop(
        "conditions",
        (
            Condition(type="PodScheduled", status="True"),
            Condition(type="Ready", status="True" if is_ready else "False"),
        ),
    )
    fields.setdefault("labels", {"app": workload})
    fields.setdefault("created_at", ago(600))
    fields.setdefault("node_name", "node-1")
    return PodEvidence(
        name=name,
        namespace="ns",
        phase=phase,
        containers=containers,
        conditions=conditions,
        workload=OwnerRef(kind="Deployment", name=workload),
        owner=OwnerRef(kind="ReplicaSet", name=f"{workload}-7d9f8c6b5"),
        **fields,
    )


def event(
    reason: str,
    message: str,
    *,
    about: str = "app-7d9f8c6b5-x2x4z",
    kind: str = "Pod",
    minutes_ago: float = 1,
    warning: bool = True,
    count: int = 5,
    field_path: str = "",
) -> KubeEvent:
    return KubeEvent(
        type="Warning" if warning else "Normal",
        reason=reason,
        message=message,
        object_kind=kind,
        object_name=about,
        field_path=field_path,
        count=count,
        first_seen=ago(minutes_ago + 30),
        last_seen=ago(minutes_ago),
    )


def package(
    *pods: PodEvidence, events: tuple[KubeEvent, ...] = (), **fields: Any
) -> EvidencePackage:
    fields.setdefault("collected_at", NOW)
    return EvidencePackage(namespace="ns", pods=pods, events=events, **fields)
