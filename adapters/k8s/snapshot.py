"""What a source read from Kubernetes, and how it becomes an evidence package.

A source only fetches objects and log text into a ``KubeSnapshot``;
``build_package`` resolves owners (Pod → ReplicaSet → Deployment, Pod → Job →
CronJob), folds Endpoints into Services, bounds the logs and normalises the
rest, the same way for every source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from adapters.k8s import kube_types as k
from adapters.k8s.object_mapping import (
    config_map_evidence,
    event_evidence,
    node_evidence,
    pvc_evidence,
    quota_evidence,
    service_evidence,
    workload_evidence,
)
from adapters.k8s.pod_mapping import controller_of, pod_evidence
from domain.incidents.logs import DEFAULT_LOG_CAP_BYTES, LogExcerpt, bound_log
from domain.incidents.package import EvidencePackage
from domain.incidents.pods import OwnerRef

__all__ = ["ContainerLog", "KubeSnapshot", "build_package"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, kw_only=True)
class ContainerLog:
    pod: str
    container: str
    previous: bool
    text: str


@dataclass(kw_only=True)
class KubeSnapshot:
    namespace: str
    pods: list[k.Pod] = field(default_factory=list)
    events: list[k.Event] = field(default_factory=list)
    deployments: list[k.Deployment] = field(default_factory=list)
    replica_sets: list[k.ReplicaSet] = field(default_factory=list)
    stateful_sets: list[k.StatefulSet] = field(default_factory=list)
    jobs: list[k.Job] = field(default_factory=list)
    nodes: list[k.Node] = field(default_factory=list)
    services: list[k.Service] = field(default_factory=list)
    endpoints: list[k.Endpoints] = field(default_factory=list)
    pvcs: list[k.PersistentVolumeClaim] = field(default_factory=list)
    config_maps: list[k.ConfigMap] = field(default_factory=list)
    quotas: list[k.ResourceQuota] = field(default_factory=list)
    logs: list[ContainerLog] = field(default_factory=list)


def _workload_of(pod: k.Pod, snapshot: KubeSnapshot) -> OwnerRef | None:
    owner = controller_of(pod.metadata)
    if owner is None:
        return None
    if owner.kind == "ReplicaSet":
        replica_set = next(
            (r for r in snapshot.replica_sets if r.metadata.name == owner.name), None
        )
        if replica_set is not None:
            return controller_of(replica_set.metadata) or owner
        # Without the ReplicaSet, its name still tells the Deployment's: <deployment>-<hash>.
        template_hash = (pod.metadata.labels or {}).get("pod-template-hash", "")
        if template_hash and owner.name.endswith(f"-{template_hash}"):
            return OwnerRef(kind="Deployment", name=owner.name[: -len(template_hash) - 1])
        return owner
    if owner.kind == "Job":
        job = next((j for j in snapshot.jobs if j.metadata.name == owner.name), None)
        if job is not None:
            return controller_of(job.metadata) or owner
    return owner


def build_package(
    snapshot: KubeSnapshot,
    *,
    source: str = "",
    collected_at: datetime | None = None,
    log_cap_bytes: int = DEFAULT_LOG_CAP_BYTES,
) -> EvidencePackage:
    logs: dict[str, dict[tuple[str, bool], LogExcerpt]] = {}
    for log in snapshot.logs:
        logs.setdefault(log.pod, {})[(log.container, log.previous)] = bound_log(
            log.text, log_cap_bytes
        )
    endpoints = {e.metadata.name: e for e in snapshot.endpoints}
    workloads = (
        [workload_evidence("Deployment", w) for w in snapshot.deployments]
        + [workload_evidence("ReplicaSet", w) for w in snapshot.replica_sets]
        + [workload_evidence("StatefulSet", w) for w in snapshot.stateful_sets]
        + [workload_evidence("Job", w) for w in snapshot.jobs]
    )
    return EvidencePackage(
        namespace=snapshot.namespace,
        source=source,
        collected_at=collected_at,
        pods=tuple(
            pod_evidence(
                pod,
                logs.get(pod.metadata.name, {}),
                _workload_of(pod, snapshot),
                snapshot.namespace,
            )
            for pod in snapshot.pods
        ),
        events=tuple(
            sorted(
                (event_evidence(e) for e in snapshot.events),
                key=lambda e: e.last_seen or _EPOCH,
            )
        ),
        workloads=tuple(workloads),
        nodes=tuple(node_evidence(n) for n in snapshot.nodes),
        services=tuple(
            service_evidence(s, endpoints.get(s.metadata.name)) for s in snapshot.services
        ),
        pvcs=tuple(pvc_evidence(c) for c in snapshot.pvcs),
        config_maps=tuple(config_map_evidence(c) for c in snapshot.config_maps),
        quotas=tuple(quota_evidence(q) for q in snapshot.quotas),
    )
