"""What a pod and each of its containers (init containers included) look like as evidence.

Secrets appear by name only: an env var fed from a Secret records the Secret's
name and key, never a value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from msgspec import Struct, field

from domain.incidents.logs import LogExcerpt

__all__ = [
    "Condition",
    "ContainerEvidence",
    "ContainerState",
    "EnvFact",
    "OwnerRef",
    "PodEvidence",
    "ProbeFact",
    "SecurityFacts",
    "VolumeFact",
]

StateKind = Literal["waiting", "running", "terminated", "none"]


class OwnerRef(Struct, frozen=True, kw_only=True):
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


class Condition(Struct, frozen=True, kw_only=True):
    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition: datetime | None = None


class ContainerState(Struct, frozen=True, kw_only=True):
    kind: StateKind = "none"
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    signal: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ProbeFact(Struct, frozen=True, kw_only=True):
    kind: Literal["liveness", "readiness", "startup"]
    handler: str  # e.g. "httpGet :8080/ready", "tcpSocket :5432", "exec pg_isready"
    port: int | str | None = None
    initial_delay_seconds: int | None = None
    period_seconds: int | None = None
    timeout_seconds: int | None = None
    failure_threshold: int | None = None


class SecurityFacts(Struct, frozen=True, kw_only=True):
    run_as_non_root: bool | None = None
    run_as_user: int | None = None
    read_only_root_filesystem: bool | None = None
    privileged: bool | None = None
    allow_privilege_escalation: bool | None = None
    capabilities_drop: tuple[str, ...] = ()
    capabilities_add: tuple[str, ...] = ()


class EnvFact(Struct, frozen=True, kw_only=True):
    name: str
    value: str | None = None
    secret: str | None = None
    config_map: str | None = None
    key: str | None = None


class ContainerEvidence(Struct, frozen=True, kw_only=True):
    name: str
    init: bool = False
    image: str = ""
    image_id: str = ""
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[EnvFact, ...] = ()
    secret_refs: tuple[str, ...] = ()
    config_map_refs: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    port_names: tuple[str, ...] = ()
    limits: dict[str, str] = field(default_factory=dict)
    requests: dict[str, str] = field(default_factory=dict)
    probes: tuple[ProbeFact, ...] = ()
    security: SecurityFacts = field(default_factory=SecurityFacts)
    mounts: tuple[str, ...] = ()
    has_status: bool = False
    ready: bool = False
    started: bool | None = None
    restart_count: int = 0
    state: ContainerState = field(default_factory=ContainerState)
    last_state: ContainerState = field(default_factory=ContainerState)
    log: LogExcerpt | None = None
    previous_log: LogExcerpt | None = None

    def probe(self, kind: str) -> ProbeFact | None:
        return next((p for p in self.probes if p.kind == kind), None)

    def last_terminated(self) -> ContainerState | None:
        """The most recent termination: the current one, else the previous instance's."""
        if self.state.kind == "terminated":
            return self.state
        if self.last_state.kind == "terminated":
            return self.last_state
        return None

    def logs(self) -> list[LogExcerpt]:
        """Previous instance first: a crashed run explains more than the fresh one."""
        return [log for log in (self.previous_log, self.log) if log is not None]


class VolumeFact(Struct, frozen=True, kw_only=True):
    name: str
    kind: str  # persistentVolumeClaim, configMap, secret, nfs, csi, emptyDir, ...
    source: str = ""  # the claim, ConfigMap or Secret name, NFS server:path, CSI driver


class PodEvidence(Struct, frozen=True, kw_only=True):
    name: str
    namespace: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    owner: OwnerRef | None = None
    workload: OwnerRef | None = None  # top controller: Deployment, StatefulSet, Job, ...
    node_name: str = ""
    phase: str = ""
    reason: str = ""
    message: str = ""
    conditions: tuple[Condition, ...] = ()
    containers: tuple[ContainerEvidence, ...] = ()
    volumes: tuple[VolumeFact, ...] = ()
    restart_policy: str = "Always"
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[str, ...] = ()
    has_affinity: bool = False
    image_pull_secrets: tuple[str, ...] = ()
    security: SecurityFacts = field(default_factory=SecurityFacts)
    created_at: datetime | None = None
    started_at: datetime | None = None
    deleted_at: datetime | None = None
    pod_ip: str = ""

    def condition(self, kind: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == kind), None)

    @property
    def init_containers(self) -> tuple[ContainerEvidence, ...]:
        return tuple(c for c in self.containers if c.init)

    @property
    def app_containers(self) -> tuple[ContainerEvidence, ...]:
        return tuple(c for c in self.containers if not c.init)

    @property
    def is_ready(self) -> bool:
        ready = self.condition("Ready")
        return ready is not None and ready.status == "True"

    @property
    def is_completed(self) -> bool:
        """A run-to-completion pod that finished well: Job pods show 0/1 ready, by design."""
        return self.phase == "Succeeded"

    @property
    def is_evicted(self) -> bool:
        return self.phase == "Failed" and self.reason == "Evicted"

    def restarts(self) -> int:
        return sum(c.restart_count for c in self.containers)
