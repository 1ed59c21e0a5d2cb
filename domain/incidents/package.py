"""The evidence package: everything known about one namespace at one moment."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct

from domain.incidents.cluster import (
    ConfigMapEvidence,
    KubeEvent,
    NodeEvidence,
    PvcEvidence,
    QuotaEvidence,
    ServiceEvidence,
    WorkloadEvidence,
)
from domain.incidents.pods import OwnerRef, PodEvidence

__all__ = ["EvidencePackage"]


class EvidencePackage(Struct, frozen=True, kw_only=True):
    namespace: str
    source: str = ""
    # Set by a live collector; a dump carries no clock, so the rules infer "now" from it.
    collected_at: datetime | None = None
    pods: tuple[PodEvidence, ...] = ()
    events: tuple[KubeEvent, ...] = ()
    workloads: tuple[WorkloadEvidence, ...] = ()
    nodes: tuple[NodeEvidence, ...] = ()
    services: tuple[ServiceEvidence, ...] = ()
    pvcs: tuple[PvcEvidence, ...] = ()
    config_maps: tuple[ConfigMapEvidence, ...] = ()
    quotas: tuple[QuotaEvidence, ...] = ()

    def pod(self, name: str) -> PodEvidence | None:
        return next((p for p in self.pods if p.name == name), None)

    def node(self, name: str) -> NodeEvidence | None:
        return next((n for n in self.nodes if n.name == name), None)

    def service(self, name: str) -> ServiceEvidence | None:
        return next((s for s in self.services if s.name == name), None)

    def pvc(self, name: str) -> PvcEvidence | None:
        return next((c for c in self.pvcs if c.name == name), None)

    def workload(self, kind: str, name: str) -> WorkloadEvidence | None:
        return next((w for w in self.workloads if w.kind == kind and w.name == name), None)

    def events_about(self, kind: str, name: str) -> list[KubeEvent]:
        return [e for e in self.events if e.object_kind == kind and e.object_name == name]

    def pods_of(self, workload: OwnerRef) -> list[PodEvidence]:
        return [p for p in self.pods if workload in (p.workload, p.owner)]

    def related_pods(self, pod: PodEvidence) -> list[PodEvidence]:
        """Other pods of the same controller: do they fail the same way?"""
        if pod.workload is None:
            return []
        return [p for p in self.pods_of(pod.workload) if p.name != pod.name]

    def controllers_of(self, workload: OwnerRef) -> list[WorkloadEvidence]:
        """The workload and what it owns (a Deployment's ReplicaSets, a CronJob's Jobs)."""
        return [
            w
            for w in self.workloads
            if w.ref == workload or (w.owner is not None and w.owner == workload)
        ]
