"""The subset of the Kubernetes API objects the incident analyzer reads, as msgspec Structs.

Both evidence sources decode the same JSON (``kubectl get -o json`` output or the
API server's answer) with these types, so a dump and a live cluster can only
differ in what they contain, never in how it is read. Unknown fields are
ignored; fields whose JSON type varies between clusters are typed loosely.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec
from msgspec import Struct, field

__all__ = [
    "ConfigMap",
    "Container",
    "ContainerState",
    "ContainerStatus",
    "Deployment",
    "Endpoints",
    "Event",
    "Job",
    "KubeList",
    "Node",
    "ObjectMeta",
    "PersistentVolumeClaim",
    "Pod",
    "ReplicaSet",
    "ResourceQuota",
    "Service",
    "StatefulSet",
    "Workload",
    "decode_list",
]

T = TypeVar("T")
Quantity = str | int | float
Port = int | str


class _Kube(Struct, frozen=True, kw_only=True, rename="camel"):
    pass


class OwnerReference(_Kube, frozen=True, kw_only=True):
    kind: str = ""
    name: str = ""
    controller: bool | None = None


class ObjectMeta(_Kube, frozen=True, kw_only=True):
    name: str = ""
    namespace: str | None = None
    uid: str = ""
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    owner_references: list[OwnerReference] | None = None
    creation_timestamp: datetime | None = None
    deletion_timestamp: datetime | None = None
    generation: int | None = None


class NameRef(_Kube, frozen=True, kw_only=True):
    name: str = ""
    key: str | None = None
    optional: bool | None = None


class EnvVarSource(_Kube, frozen=True, kw_only=True):
    secret_key_ref: NameRef | None = None
    config_map_key_ref: NameRef | None = None


class EnvVar(_Kube, frozen=True, kw_only=True):
    name: str = ""
    value: str | None = None
    value_from: EnvVarSource | None = None


class EnvFromSource(_Kube, frozen=True, kw_only=True):
    config_map_ref: NameRef | None = None
    secret_ref: NameRef | None = None


class ContainerPort(_Kube, frozen=True, kw_only=True):
    container_port: int = 0
    name: str | None = None


class ResourceRequirements(_Kube, frozen=True, kw_only=True):
    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None


class PortAction(_Kube, frozen=True, kw_only=True):
    port: Port = 0
    path: str | None = None
    scheme: str | None = None
    host: str | None = None


class ExecAction(_Kube, frozen=True, kw_only=True):
    command: list[str] | None = None


class Probe(_Kube, frozen=True, kw_only=True):
    http_get: PortAction | None = None
    tcp_socket: PortAction | None = None
    grpc: PortAction | None = None
    exec: ExecAction | None = None
    initial_delay_seconds: int | None = None
    period_seconds: int | None = None
    timeout_seconds: int | None = None
    failure_threshold: int | None = None


class Capabilities(_Kube, frozen=True, kw_only=True):
    add: list[str] | None = None
    drop: list[str] | None = None


class SecurityContext(_Kube, frozen=True, kw_only=True):
    run_as_non_root: bool | None = None
    run_as_user: int | None = None
    run_as_group: int | None = None
    fs_group: int | None = None
    read_only_root_filesystem: bool | None = None
    privileged: bool | None = None
    allow_privilege_escalation: bool | None = None
    capabilities: Capabilities | None = None


class VolumeMount(_Kube, frozen=True, kw_only=True):
    name: str = ""
    mount_path: str = ""
    read_only: bool | None = None
    sub_path: str | None = None


class Container(_Kube, frozen=True, kw_only=True):
    name: str = ""
    image: str | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    working_dir: str | None = None
    env: list[EnvVar] | None = None
    env_from: list[EnvFromSource] | None = None
    ports: list[ContainerPort] | None = None
    resources: ResourceRequirements | None = None
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    security_context: SecurityContext | None = None
    volume_mounts: list[VolumeMount] | None = None


class PvcSource(_Kube, frozen=True, kw_only=True):
    claim_name: str = ""


class SecretVolumeSource(_Kube, frozen=True, kw_only=True):
    secret_name: str = ""
    optional: bool | None = None


class NfsSource(_Kube, frozen=True, kw_only=True):
    server: str = ""
    path: str = ""


class CsiSource(_Kube, frozen=True, kw_only=True):
    driver: str = ""


class Volume(_Kube, frozen=True, kw_only=True):
    name: str = ""
    persistent_volume_claim: PvcSource | None = None
    config_map: NameRef | None = None
    secret: SecretVolumeSource | None = None
    nfs: NfsSource | None = None
    csi: CsiSource | None = None
    host_path: dict[str, Any] | None = None
    empty_dir: dict[str, Any] | None = None


class Toleration(_Kube, frozen=True, kw_only=True):
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None


class PodSpec(_Kube, frozen=True, kw_only=True):
    containers: list[Container] = field(default_factory=list)
    init_containers: list[Container] | None = None
    node_name: str | None = None
    node_selector: dict[str, str] | None = None
    affinity: dict[str, Any] | None = None
    tolerations: list[Toleration] | None = None
    volumes: list[Volume] | None = None
    restart_policy: str | None = None
    security_context: SecurityContext | None = None
    image_pull_secrets: list[NameRef] | None = None
    service_account_name: str | None = None


class Waiting(_Kube, frozen=True, kw_only=True):
    reason: str | None = None
    message: str | None = None


class Running(_Kube, frozen=True, kw_only=True):
    started_at: datetime | None = None


class Terminated(_Kube, frozen=True, kw_only=True):
    exit_code: int = 0
    signal: int | None = None
    reason: str | None = None
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ContainerState(_Kube, frozen=True, kw_only=True):
    waiting: Waiting | None = None
    running: Running | None = None
    terminated: Terminated | None = None


class ContainerStatus(_Kube, frozen=True, kw_only=True):
    name: str = ""
    image: str | None = None
    image_id: str | None = field(default=None, name="imageID")
    ready: bool = False
    started: bool | None = None
    restart_count: int = 0
    state: ContainerState | None = None
    last_state: ContainerState | None = None


class Condition(_Kube, frozen=True, kw_only=True):
    type: str = ""
    status: str = ""
    reason: str | None = None
    message: str | None = None
    last_transition_time: datetime | None = None
    last_heartbeat_time: datetime | None = None
    last_update_time: datetime | None = None


class PodStatus(_Kube, frozen=True, kw_only=True):
    phase: str | None = None
    reason: str | None = None
    message: str | None = None
    conditions: list[Condition] | None = None
    container_statuses: list[ContainerStatus] | None = None
    init_container_statuses: list[ContainerStatus] | None = None
    start_time: datetime | None = None
    host_ip: str | None = field(default=None, name="hostIP")
    pod_ip: str | None = field(default=None, name="podIP")


class Pod(_Kube, frozen=True, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: PodSpec = field(default_factory=PodSpec)
    status: PodStatus = field(default_factory=PodStatus)


class ObjectReference(_Kube, frozen=True, kw_only=True):
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    field_path: str | None = None


class EventSource(_Kube, frozen=True, kw_only=True):
    component: str | None = None
    host: str | None = None


class EventSeries(_Kube, frozen=True, kw_only=True):
    count: int | None = None
    last_observed_time: datetime | None = None


class Event(_Kube, frozen=True, kw_only=True):
    """A core/v1 Event; the events.k8s.io/v1 spellings (note, regarding) are read too."""

    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    involved_object: ObjectReference | None = None
    regarding: ObjectReference | None = None
    reason: str | None = None
    message: str | None = None
    note: str | None = None
    type: str | None = None
    count: int | None = None
    deprecated_count: int | None = None
    first_timestamp: datetime | None = None
    last_timestamp: datetime | None = None
    deprecated_first_timestamp: datetime | None = None
    deprecated_last_timestamp: datetime | None = None
    event_time: datetime | None = None
    series: EventSeries | None = None
    source: EventSource | None = None
    deprecated_source: EventSource | None = None
    reporting_component: str | None = None
    reporting_controller: str | None = None


class Taint(_Kube, frozen=True, kw_only=True):
    key: str = ""
    value: str | None = None
    effect: str | None = None


class NodeSpec(_Kube, frozen=True, kw_only=True):
    taints: list[Taint] | None = None
    unschedulable: bool | None = None


class NodeStatus(_Kube, frozen=True, kw_only=True):
    conditions: list[Condition] | None = None
    allocatable: dict[str, Quantity] | None = None
    capacity: dict[str, Quantity] | None = None


class Node(_Kube, frozen=True, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: NodeSpec = field(default_factory=NodeSpec)
    status: NodeStatus = field(default_factory=NodeStatus)


class LabelSelector(_Kube, frozen=True, kw_only=True):
    match_labels: dict[str, str] | None = None


class PodTemplate(_Kube, frozen=True, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: PodSpec = field(default_factory=PodSpec)


class WorkloadSpec(_Kube, frozen=True, kw_only=True):
    replicas: int | None = None
    selector: LabelSelector | None = None
    template: PodTemplate | None = None
    completions: int | None = None
    parallelism: int | None = None
    backoff_limit: int | None = None


class WorkloadStatus(_Kube, frozen=True, kw_only=True):
    observed_generation: int | None = None
    replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    updated_replicas: int | None = None
    unavailable_replicas: int | None = None
    active: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    conditions: list[Condition] | None = None


class Workload(_Kube, frozen=True, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: WorkloadSpec = field(default_factory=WorkloadSpec)
    status: WorkloadStatus = field(default_factory=WorkloadStatus)


class Deployment(Workload, frozen=True, kw_only=True):
    pass


class ReplicaSet(Workload, frozen=True, kw_only=True):
    pass


class StatefulSet(Workload, frozen=True, kw_only=True):
    pass


class Job(Workload, frozen=True, kw_only=True):
    pass


class ServicePort(_Kube, frozen=True, kw_only=True):
    name: str | None = None
    port: int = 0
    target_port: Port | None = None


class ServiceSpec(_Kube, frozen=True, kw_only=True):
    selector: dict[str, str] | None = None
    ports: list[ServicePort] | None = None
    cluster_ip: str | None = field(default=None, name="clusterIP")
    type: str | None = None
    external_name: str | None = None


class Service(_Kube, frozen=True, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: ServiceSpec = field(default_factory=ServiceSpec)


class EndpointAddress(_Kube, frozen=True, kw_only=True):
    ip: str = ""
    target_ref: ObjectReference | None = None


class EndpointSubset(_Kube, frozen=True, kw_only=True):
    addresses: list[EndpointAddress] | None = None
    not_ready_addresses: list[EndpointAddress] | None = None


class Endpoints(_Kube, frozen=True, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    subsets: list[EndpointSubset] | None = None


class PvcResources(_Kube, frozen=True, kw_only=True):
    requests: dict[str, Quantity] | None = None


class PvcSpec(_Kube, frozen=True, kw_only=True):
    storage_class_name: str | None = None
    access_modes: list[str] | None = None
    volume_name: str | None = None
    resources: PvcResources | None = None


class PvcStatus(_Kube, frozen=True, kw_only=True):
    phase: str | None = None


class PersistentVolumeClaim(_Kube, frozen=True, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: PvcSpec = field(default_factory=PvcSpec)
    status: PvcStatus = field(default_factory=PvcStatus)


class ConfigMap(_Kube, frozen=True, kw_only=True):
    """Only key names are kept downstream: values may hold credentials."""

    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    data: dict[str, str] | None = None
    binary_data: dict[str, str] | None = None


class QuotaSpec(_Kube, frozen=True, kw_only=True):
    hard: dict[str, Quantity] | None = None


class QuotaStatus(_Kube, frozen=True, kw_only=True):
    hard: dict[str, Quantity] | None = None
    used: dict[str, Quantity] | None = None


class ResourceQuota(_Kube, frozen=True, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: QuotaSpec = field(default_factory=QuotaSpec)
    status: QuotaStatus = field(default_factory=QuotaStatus)


class KubeList(_Kube, Generic[T], frozen=True, kw_only=True):
    """``kind: List`` as kubectl prints it, or a typed ``PodList``/``EventList``."""

    kind: str = "List"
    items: list[T] | None = None


def decode_list(payload: bytes, item: type[T]) -> list[T]:
    """Decode a list document (or a single object of that kind) into items."""
    document = msgspec.json.decode(payload)
    if isinstance(document, dict) and "items" not in document and document.get("kind"):
        return [msgspec.convert(document, item, strict=False)]
    listed: KubeList[T] = msgspec.convert(document, KubeList[item], strict=False)  # type: ignore[valid-type]
    return list(listed.items or [])
