"""Kubernetes API objects → the analyzer's evidence model.

Both sources call these functions, which is what makes a dump and a live
cluster yield the same package for the same objects.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters.k8s import kube_types as k
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
from domain.incidents.logs import LogExcerpt
from domain.incidents.pods import (
    Condition,
    ContainerEvidence,
    ContainerState,
    EnvFact,
    OwnerRef,
    PodEvidence,
    ProbeFact,
    SecurityFacts,
    VolumeFact,
)

__all__ = [
    "config_map_evidence",
    "controller_of",
    "event_evidence",
    "node_evidence",
    "pod_evidence",
    "pvc_evidence",
    "quota_evidence",
    "service_evidence",
    "workload_evidence",
]

Logs = Mapping[tuple[str, bool], LogExcerpt]  # (container, previous) -> excerpt


def _quantities(values: Mapping[str, k.Quantity] | None) -> dict[str, str]:
    return {name: str(value) for name, value in (values or {}).items()}


def _conditions(conditions: list[k.Condition] | None) -> tuple[Condition, ...]:
    return tuple(
        Condition(
            type=c.type,
            status=c.status,
            reason=c.reason or "",
            message=c.message or "",
            last_transition=c.last_transition_time or c.last_update_time,
        )
        for c in conditions or []
    )


def controller_of(meta: k.ObjectMeta) -> OwnerRef | None:
    refs = meta.owner_references or []
    chosen = next((r for r in refs if r.controller), refs[0] if refs else None)
    return OwnerRef(kind=chosen.kind, name=chosen.name) if chosen else None


def _state(state: k.ContainerState | None) -> ContainerState:
    if state is None:
        return ContainerState()
    if state.waiting is not None:
        return ContainerState(
            kind="waiting", reason=state.waiting.reason or "", message=state.waiting.message or ""
        )
    if state.terminated is not None:
        t = state.terminated
        return ContainerState(
            kind="terminated",
            reason=t.reason or "",
            message=t.message or "",
            exit_code=t.exit_code,
            signal=t.signal,
            started_at=t.started_at,
            finished_at=t.finished_at,
        )
    if state.running is not None:
        return ContainerState(kind="running", started_at=state.running.started_at)
    return ContainerState()


def _probe(kind: str, probe: k.Probe | None) -> ProbeFact | None:
    if probe is None:
        return None
    port: int | str | None = None
    if probe.http_get is not None:
        port = probe.http_get.port
        handler = f"httpGet {probe.http_get.scheme or 'HTTP'} :{port}{probe.http_get.path or '/'}"
    elif probe.tcp_socket is not None:
        port = probe.tcp_socket.port
        handler = f"tcpSocket :{port}"
    elif probe.grpc is not None:
        port = probe.grpc.port
        handler = f"grpc :{port}"
    elif probe.exec is not None:
        handler = "exec " + " ".join(probe.exec.command or [])
    else:
        handler = "unknown"
    return ProbeFact(
        kind=kind,  # type: ignore[arg-type]
        handler=handler,
        port=port,
        initial_delay_seconds=probe.initial_delay_seconds,
        period_seconds=probe.period_seconds,
        timeout_seconds=probe.timeout_seconds,
        failure_threshold=probe.failure_threshold,
    )


def _security(context: k.SecurityContext | None) -> SecurityFacts:
    if context is None:
        return SecurityFacts()
    caps = context.capabilities or k.Capabilities()
    return SecurityFacts(
        run_as_non_root=context.run_as_non_root,
        run_as_user=context.run_as_user,
        read_only_root_filesystem=context.read_only_root_filesystem,
        privileged=context.privileged,
        allow_privilege_escalation=context.allow_privilege_escalation,
        capabilities_drop=tuple(caps.drop or ()),
        capabilities_add=tuple(caps.add or ()),
    )


def _env(container: k.Container) -> tuple[EnvFact, ...]:
    facts = []
    for var in container.env or []:
        source = var.value_from or k.EnvVarSource()
        secret, config_map = source.secret_key_ref, source.config_map_key_ref
        ref = secret or config_map
        facts.append(
            EnvFact(
                name=var.name,
                value=var.value,
                secret=secret.name if secret else None,
                config_map=config_map.name if config_map else None,
                key=ref.key if ref else None,
            )
        )
    return tuple(facts)


def _container(
    spec: k.Container, status: k.ContainerStatus | None, *, init: bool, logs: Logs
) -> ContainerEvidence:
    env = _env(spec)
    env_from = spec.env_from or []
    secrets = [e.secret for e in env if e.secret] + [
        s.secret_ref.name for s in env_from if s.secret_ref
    ]
    config_maps = [e.config_map for e in env if e.config_map] + [
        s.config_map_ref.name for s in env_from if s.config_map_ref
    ]
    probes = (
        _probe("liveness", spec.liveness_probe),
        _probe("readiness", spec.readiness_probe),
        _probe("startup", spec.startup_probe),
    )
    resources = spec.resources or k.ResourceRequirements()
    status = status or k.ContainerStatus(name=spec.name)
    return ContainerEvidence(
        name=spec.name,
        init=init,
        image=spec.image or status.image or "",
        image_id=status.image_id or "",
        command=tuple(spec.command or ()),
        args=tuple(spec.args or ()),
        env=env,
        secret_refs=tuple(dict.fromkeys(secrets)),
        config_map_refs=tuple(dict.fromkeys(config_maps)),
        ports=tuple(p.container_port for p in spec.ports or []),
        port_names=tuple(p.name for p in spec.ports or [] if p.name),
        limits=_quantities(resources.limits),
        requests=_quantities(resources.requests),
        probes=tuple(p for p in probes if p is not None),
        security=_security(spec.security_context),
        mounts=tuple(f"{m.name}:{m.mount_path}" for m in spec.volume_mounts or []),
        has_status=status.state is not None,
        ready=status.ready,
        started=status.started,
        restart_count=status.restart_count,
        state=_state(status.state),
        last_state=_state(status.last_state),
        log=logs.get((spec.name, False)),
        previous_log=logs.get((spec.name, True)),
    )


def _volume(volume: k.Volume) -> VolumeFact:
    if volume.persistent_volume_claim is not None:
        return VolumeFact(
            name=volume.name,
            kind="persistentVolumeClaim",
            source=volume.persistent_volume_claim.claim_name,
        )
    if volume.config_map is not None:
        return VolumeFact(name=volume.name, kind="configMap", source=volume.config_map.name)
    if volume.secret is not None:
        return VolumeFact(name=volume.name, kind="secret", source=volume.secret.secret_name)
    if volume.nfs is not None:
        return VolumeFact(
            name=volume.name, kind="nfs", source=f"{volume.nfs.server}:{volume.nfs.path}"
        )
    if volume.csi is not None:
        return VolumeFact(name=volume.name, kind="csi", source=volume.csi.driver)
    if volume.empty_dir is not None:
        return VolumeFact(name=volume.name, kind="emptyDir")
    if volume.host_path is not None:
        return VolumeFact(
            name=volume.name, kind="hostPath", source=str(volume.host_path.get("path", ""))
        )
    return VolumeFact(name=volume.name, kind="other")


def pod_evidence(
    pod: k.Pod, logs: Logs, workload: OwnerRef | None, namespace: str = ""
) -> PodEvidence:
    spec, status, meta = pod.spec, pod.status, pod.metadata
    statuses = {s.name: s for s in status.container_statuses or []}
    init_statuses = {s.name: s for s in status.init_container_statuses or []}
    containers = [
        _container(c, init_statuses.get(c.name), init=True, logs=logs)
        for c in spec.init_containers or []
    ] + [_container(c, statuses.get(c.name), init=False, logs=logs) for c in spec.containers]
    return PodEvidence(
        name=meta.name,
        namespace=meta.namespace or namespace,
        labels=dict(meta.labels or {}),
        owner=controller_of(meta),
        workload=workload,
        node_name=spec.node_name or "",
        phase=status.phase or "",
        reason=status.reason or "",
        message=status.message or "",
        conditions=_conditions(status.conditions),
        containers=tuple(containers),
        volumes=tuple(_volume(v) for v in spec.volumes or []),
        restart_policy=spec.restart_policy or "Always",
        node_selector=dict(spec.node_selector or {}),
        tolerations=tuple(
            f"{t.key or '*'}{'=' + t.value if t.value else ''}:{t.effect or '*'}"
            for t in spec.tolerations or []
        ),
        has_affinity=bool(spec.affinity),
        image_pull_secrets=tuple(s.name for s in spec.image_pull_secrets or []),
        security=_security(spec.security_context),
        created_at=meta.creation_timestamp,
        started_at=status.start_time,
        deleted_at=meta.deletion_timestamp,
        pod_ip=status.pod_ip or "",
    )


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
        conditions=_conditions(conditions),
        taints=tuple(
            TaintFact(key=t.key, value=t.value or "", effect=t.effect or "")
            for t in node.spec.taints or []
        ),
        unschedulable=bool(node.spec.unschedulable),
        allocatable=_quantities(node.status.allocatable),
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
        conditions=_conditions(status.conditions),
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
        hard=_quantities(quota.status.hard or quota.spec.hard),
        used=_quantities(quota.status.used),
    )
