"""Namespace and cluster objects around the pods: events, controllers, nodes, services,
storage, configuration names and quotas."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct, field

from domain.incidents.pods import Condition, OwnerRef

__all__ = [
    "ConfigMapEvidence",
    "KubeEvent",
    "NodeEvidence",
    "PvcEvidence",
    "QuotaEvidence",
    "ServiceEvidence",
    "ServicePortFact",
    "TaintFact",
    "WorkloadEvidence",
]


class KubeEvent(Struct, frozen=True, kw_only=True):
    """One event, normalised across core/v1 (firstTimestamp, count, source) and
    events.k8s.io (eventTime, series.count, reportingComponent)."""

    type: str = "Normal"
    reason: str = ""
    message: str = ""
    object_kind: str = ""
    object_name: str = ""
    field_path: str = ""
    count: int = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    source: str = ""

    @property
    def is_warning(self) -> bool:
        return self.type == "Warning"

    def describe(self) -> str:
        times = f" (x{self.count})" if self.count > 1 else ""
        subject = f"{self.object_kind}/{self.object_name}"
        return f"event {self.type} {self.reason} {subject}{times}: {self.message}"


class TaintFact(Struct, frozen=True, kw_only=True):
    key: str
    value: str = ""
    effect: str = ""

    def __str__(self) -> str:
        return (
            f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"
        )


class NodeEvidence(Struct, frozen=True, kw_only=True):
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()
    taints: tuple[TaintFact, ...] = ()
    unschedulable: bool = False
    allocatable: dict[str, str] = field(default_factory=dict)
    last_heartbeat: datetime | None = None

    def condition(self, kind: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == kind), None)

    @property
    def is_ready(self) -> bool:
        ready = self.condition("Ready")
        return ready is None or ready.status == "True"

    @property
    def is_control_plane(self) -> bool:
        return any(
            key in self.labels
            for key in ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
        )

    def pressures(self) -> list[Condition]:
        return [c for c in self.conditions if c.type.endswith("Pressure") and c.status == "True"]


class WorkloadEvidence(Struct, frozen=True, kw_only=True):
    """A pod controller: Deployment, ReplicaSet, StatefulSet or Job."""

    kind: str
    name: str
    owner: OwnerRef | None = None
    desired: int | None = None
    ready: int | None = None
    available: int | None = None
    current: int | None = None
    selector: dict[str, str] = field(default_factory=dict)
    template_labels: dict[str, str] = field(default_factory=dict)
    images: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    succeeded: int | None = None
    failed: int | None = None
    active: int | None = None
    created_at: datetime | None = None

    @property
    def ref(self) -> OwnerRef:
        return OwnerRef(kind=self.kind, name=self.name)

    def condition(self, kind: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == kind), None)


class ServicePortFact(Struct, frozen=True, kw_only=True):
    name: str = ""
    port: int = 0
    target_port: int | str | None = None


class ServiceEvidence(Struct, frozen=True, kw_only=True):
    """A Service with its Endpoints folded in (``None`` when no Endpoints object was seen)."""

    name: str
    type: str = "ClusterIP"
    selector: dict[str, str] | None = None
    ports: tuple[ServicePortFact, ...] = ()
    cluster_ip: str = ""
    ready_addresses: tuple[str, ...] | None = None  # pod names (or IPs) behind the Service
    not_ready_addresses: tuple[str, ...] = ()

    @property
    def has_ready_endpoints(self) -> bool:
        return bool(self.ready_addresses)


class PvcEvidence(Struct, frozen=True, kw_only=True):
    name: str
    phase: str = ""
    storage_class: str = ""
    volume_name: str = ""
    access_modes: tuple[str, ...] = ()
    requested: str = ""


class ConfigMapEvidence(Struct, frozen=True, kw_only=True):
    name: str
    keys: tuple[str, ...] = ()


class QuotaEvidence(Struct, frozen=True, kw_only=True):
    name: str
    hard: dict[str, str] = field(default_factory=dict)
    used: dict[str, str] = field(default_factory=dict)
