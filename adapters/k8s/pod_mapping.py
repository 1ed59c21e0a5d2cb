"""Kubernetes Pods → pod evidence: every container (init first), its state, spec facts
and logs. Secrets appear by name only.

Both sources call these functions, which is what makes a dump and a live
cluster yield the same package for the same objects.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters.k8s import kube_types as k
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

__all__ = ["Logs", "conditions_of", "controller_of", "pod_evidence", "quantities"]

Logs = Mapping[tuple[str, bool], LogExcerpt]  # (container, previous) -> excerpt


def quantities(values: Mapping[str, k.Quantity] | None) -> dict[str, str]:
    return {name: str(value) for name, value in (values or {}).items()}


def conditions_of(conditions: list[k.Condition] | None) -> tuple[Condition, ...]:
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
        limits=quantities(resources.limits),
        requests=quantities(resources.requests),
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
        conditions=conditions_of(status.conditions),
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
