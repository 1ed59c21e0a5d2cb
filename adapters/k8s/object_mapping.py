"""Kubernetes objects around the pods → evidence: events (both event APIs), nodes,
controllers, Services with their Endpoints, claims, ConfigMap names, quotas."""

from __future__ import annotations

from adapters.k8s import kube_types as k
from adapters.k8s.pod_mapping import conditions_of, controller_of, quantities
from domain.incidents.cluster import (
    ConfigMapEvidence,
    KubeEvent,
    NodeEvidence,
    PvcEvidence,
    QuotaEvidence,
    ServiceEvidence,
    ServicePortFact,
    TaintFact,
    WorkloadEvidence,
)

__all__ = [
    "config_map_evidence",
    "event_evidence",
    "node_evidence",
    "pvc_evidence",
    "quota_evidence",
    "service_evidence",
    "workload_evidence",
]


def event_evidence(event: k.Event) -> KubeEvent:
    subject = event.involved_object or event.regarding or k.ObjectReference()
    series = event.series or k.EventSeries()
    source = event.source or event.deprecated_source or k.EventSource()
    first = event.first_timestamp or event.deprecated_first_timestamp or event.event_time
    last = (
        event.last_timestamp
        or event.deprecated_last_timestamp
        or series.last_observed_time
        or event.event_time
        or first
    )
    return KubeEvent(
        type=event.type or "Normal",
        reason=event.reason or "",
        message=(event.message or event.note or "").strip(),
        object_kind=subject.kind or "",
        object_name=subject.name or "",
        field_path=subject.field_path or "",
        count=max(event.count or 0, series.count or 0, event.deprecated_count or 0, 1),
        first_seen=first or event.metadata.creation_timestamp,
        last_seen=last or event.metadata.creation_timestamp,
        source=source.component or event.reporting_component or event.reporting_controller or "",
    )


def node_evidence(node: k.Node) -> NodeEvidence:
    conditions = node.status.conditions or []
    heartbeats = [c.last_heartbeat_time for c in conditions if c.last_heartbeat_time]
    return NodeEvidence(
        name=node.metadata.name,
        labels=dict(node.metadata.labels or {}),
        conditions=conditions_of(conditions),
        taints=tuple(
            TaintFact(key=t.key, value=t.value or "", effect=t.effect or "")
            for t in node.spec.taints or []
        ),
        unschedulable=bool(node.spec.unschedulable),
        allocatable=quantities(node.status.allocatable),
        last_heartbeat=max(heartbeats, default=None),
    )


def workload_evidence(kind: str, workload: k.Workload) -> WorkloadEvidence:
    spec, status = workload.spec, workload.status
    template = spec.template or k.PodTemplate()
    return WorkloadEvidence(
        kind=kind,
        name=workload.metadata.name,
        owner=controller_of(workload.metadata),
        desired=spec.replicas if kind != "Job" else (spec.completions or spec.parallelism),
        ready=status.ready_replicas,
        available=status.available_replicas,
        current=status.replicas,
        selector=dict((spec.selector or k.LabelSelector()).match_labels or {}),
        template_labels=dict(template.metadata.labels or {}),
        images=tuple(c.image or "" for c in template.spec.containers),
        conditions=conditions_of(status.conditions),
        succeeded=status.succeeded,
        failed=status.failed,
        active=status.active,
        created_at=workload.metadata.creation_timestamp,
    )


def service_evidence(service: k.Service, endpoints: k.Endpoints | None) -> ServiceEvidence:
    ready: tuple[str, ...] | None = None
    not_ready: tuple[str, ...] = ()
    if endpoints is not None:
        subsets = endpoints.subsets or []

        def names(addresses: list[k.EndpointAddress] | None) -> tuple[str, ...]:
            return tuple(
                (a.target_ref.name if a.target_ref and a.target_ref.name else a.ip)
                for a in addresses or []
            )

        ready = tuple(n for s in subsets for n in names(s.addresses))
        not_ready = tuple(n for s in subsets for n in names(s.not_ready_addresses))
    return ServiceEvidence(
        name=service.metadata.name,
        type=service.spec.type or "ClusterIP",
        selector=dict(service.spec.selector) if service.spec.selector is not None else None,
        ports=tuple(
            ServicePortFact(name=p.name or "", port=p.port, target_port=p.target_port)
            for p in service.spec.ports or []
        ),
        cluster_ip=service.spec.cluster_ip or "",
        ready_addresses=ready,
        not_ready_addresses=not_ready,
    )


def pvc_evidence(claim: k.PersistentVolumeClaim) -> PvcEvidence:
    resources = claim.spec.resources or k.PvcResources()
    return PvcEvidence(
        name=claim.metadata.name,
        phase=claim.status.phase or "",
        storage_class=claim.spec.storage_class_name or "",
        volume_name=claim.spec.volume_name or "",
        access_modes=tuple(claim.spec.access_modes or ()),
        requested=str((resources.requests or {}).get("storage", "")),
    )


def config_map_evidence(config_map: k.ConfigMap) -> ConfigMapEvidence:
    keys = list(config_map.data or {}) + list(config_map.binary_data or {})
    return ConfigMapEvidence(name=config_map.metadata.name, keys=tuple(sorted(keys)))


def quota_evidence(quota: k.ResourceQuota) -> QuotaEvidence:
    return QuotaEvidence(
        name=quota.metadata.name,
        hard=quantities(quota.status.hard or quota.spec.hard),
        used=quantities(quota.status.used),
    )
