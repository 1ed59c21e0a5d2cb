"""What the DevOps step does about a diagnosis: tool calls, the reads first.

Each root cause of the taxonomy gets a short plan. The reads confirm the cause
(the crashed instance's log, the events, the endpoints of the dependency, the
rollout). A write is proposed only where a write is the fix an operator would
make: more memory for an OOMKilled container, a rollout restart once a transient
cause has passed, replicas for a Deployment scaled to zero. Where a person must
change an image, a config object, a probe, a quota or the cluster, the plan only
reads. Nothing destructive is ever proposed (no pod deletion, no scale to zero),
and every write still waits for an approval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from domain.incidents.facts import labels_text
from domain.incidents.package import EvidencePackage
from domain.incidents.quantities import memory_bytes
from domain.incidents.subject import IncidentSubject
from domain.incidents.taxonomy import RootCause
from domain.tool_calls import (
    WRITES,
    ClusterTool,
    ToolCall,
    destroys,
    is_kind_name,
    is_label_name,
    is_label_selector,
    is_object_name,
)

__all__ = ["MAX_MEMORY_LIMIT", "ProposedAction", "propose_actions", "raised_memory_limit"]

MEBI = 2**20
MAX_MEMORY_LIMIT = 16 * 2**30  # an OOM fix proposes at most this; more is a person's call
MAX_ACTIONS = 8
_RESTORED_REPLICAS = 1  # the count before a scale to zero is not in the evidence
_NAMES = ("pod", "deployment", "service", "name")


class ProposedAction(ToolCall, frozen=True, kw_only=True):
    """A call the DevOps step proposes, always with the reason it is proposed."""

    args: dict[str, Any]
    reason: str


def raised_memory_limit(limit: str) -> str | None:
    """Twice ``limit``, at most ``MAX_MEMORY_LIMIT``, as a quantity the API server takes
    (whole ``Mi``, or ``Gi`` when exact); None when it cannot be raised that way."""
    current = memory_bytes(limit)
    if current is None or current <= 0:
        return None
    raised = min(2 * current, MAX_MEMORY_LIMIT)
    mebibytes = math.ceil(raised / MEBI)
    if mebibytes * MEBI <= current:
        return None
    return f"{mebibytes // 1024}Gi" if mebibytes % 1024 == 0 else f"{mebibytes}Mi"


class _Plan:
    """The calls proposed so far for one incident; each is checked as it is added."""

    def __init__(self, subject: IncidentSubject) -> None:
        self.on = subject
        self.namespace = subject.namespace
        self.actions: list[ProposedAction] = []

    def propose(self, tool: ClusterTool, reason: str, **args: Any) -> None:
        if any(k in args and args[k] is None for k in _NAMES):
            return  # nothing to name: the call has no subject
        action = ProposedAction(
            tool=tool.value,
            args={"namespace": self.namespace, **{k: v for k, v in args.items() if v is not None}},
            reason=reason,
        )
        if not _well_formed(action) or destroys(action):
            return
        if not any((a.tool, a.args) == (action.tool, action.args) for a in self.actions):
            self.actions.append(action)

    def pod_events(self, why: str) -> None:
        self.propose(ClusterTool.GET_EVENTS, why, name=self.on.pod_name, kind="Pod")

    def pod_spec(self, why: str) -> None:
        self.propose(ClusterTool.GET_POD, why, pod=self.on.pod_name)

    def log(self, container: str | None, why: str, *, previous: bool = True) -> None:
        """The crashed instance's log where there is one, else the running one's; none
        for a container that never started (there is no log to read)."""
        found = self.on.container_evidence(container)
        if found is not None:
            ended_before = found.last_state.kind == "terminated" or found.restart_count > 0
            if found.state.kind in ("waiting", "none") and not ended_before:
                return
            previous = previous and ended_before
        self.propose(
            ClusterTool.GET_POD_LOGS,
            why,
            pod=self.on.pod_name,
            container=container,
            previous=previous,
        )

    def rollout(self, deployment: str | None, why: str) -> None:
        self.propose(ClusterTool.ROLLOUT_STATUS, why, deployment=deployment)

    def siblings(self, why: str) -> None:
        if (selector := self.on.selector()) is not None:
            self.propose(ClusterTool.LIST_PODS, why, label_selector=selector)


def _well_formed(action: ProposedAction) -> bool:
    """Names the API server would accept; a report may quote anything."""
    args = action.args
    return (
        is_label_name(args["namespace"])
        and all(is_object_name(args[k]) for k in _NAMES if k in args)
        and ("container" not in args or is_label_name(args["container"]))
        and ("kind" not in args or is_kind_name(args["kind"]))
        and ("label_selector" not in args or is_label_selector(args["label_selector"]))
    )


# -- the plans, one per root cause ------------------------------------------------------------


def _oom_killed(plan: _Plan) -> None:
    name = plan.on.container(lambda c: (c.last_terminated() or c.state).reason == "OOMKilled")
    deployment = plan.on.deployment()
    plan.log(name, "the killed instance's last lines: what grew before the OOM kill")
    plan.rollout(deployment, "how many replicas serve while containers are OOM-killed")
    container = plan.on.container_evidence(name)
    limit = container.limits.get("memory") if container is not None else None
    raised = raised_memory_limit(limit) if limit else None
    if deployment is None or raised is None:
        return  # no Deployment to patch, no limit to raise, or already at the cap
    plan.propose(
        ClusterTool.PATCH_RESOURCES,
        f"container {name} is OOMKilled at its memory limit {limit}: raise the limit to "
        f"{raised} (twice, at most {MAX_MEMORY_LIMIT // 2**30}Gi) so it can run while its "
        "memory use is looked into",
        deployment=deployment,
        container=name,
        limits={"memory": raised},
    )


def _crash_loop(plan: _Plan) -> None:
    name = plan.on.container(lambda c: c.restart_count > 0)
    deployment = plan.on.deployment()
    plan.log(name, "the stack trace or fatal error of the instance that crashed")
    plan.pod_events("back-off and kill events of the crashing pod")
    plan.rollout(deployment, "whether a new rollout is under way or stuck")
    if deployment is not None and plan.on.siblings_serve():
        plan.propose(
            ClusterTool.ROLLOUT_RESTART,
            f"pods of the same ReplicaSet run Ready, so the crash is not in {deployment}'s "
            "image or configuration: restart the rollout to replace the crash-looping pods",
            deployment=deployment,
        )


def _dependency_unreachable(plan: _Plan) -> None:
    name = plan.on.container(lambda c: c.restart_count > 0)
    plan.log(name, "the connection errors: which host and port the app cannot reach")
    deployment = plan.on.deployment()
    recovered = False
    for namespace, service_name in plan.on.services()[:2]:
        plan.propose(
            ClusterTool.GET_ENDPOINTS,
            f"whether Service {service_name} exists and has ready pods behind it",
            namespace=namespace,
            service=service_name,
        )
        service = plan.on.service(service_name) if namespace == plan.namespace else None
        if service is None:
            continue
        recovered = recovered or service.has_ready_endpoints
        for backing in plan.on.backing_deployments(service):
            plan.rollout(backing.name, f"the rollout of {backing.name}, behind {service_name}")
            if backing.desired == 0:
                _scale_up(plan, backing.name, f"Service {service_name} has no endpoints")
    if recovered and deployment is not None and plan.on.crash_looping():
        plan.propose(
            ClusterTool.ROLLOUT_RESTART,
            f"the dependency has ready endpoints again; restart {deployment} so its pods "
            "leave the crash-loop back-off now instead of after minutes",
            deployment=deployment,
        )


def _scale_up(plan: _Plan, deployment: str, why: str) -> None:
    plan.propose(
        ClusterTool.SCALE_DEPLOYMENT,
        f"{why}: Deployment {deployment} is scaled to 0 replicas; scale it to "
        f"{_RESTORED_REPLICAS} (raise it further once it serves)",
        deployment=deployment,
        replicas=_RESTORED_REPLICAS,
    )


def _image_pull(plan: _Plan) -> None:
    # A person fixes the image reference or the pull secret; nothing to write.
    plan.pod_spec("the image reference and imagePullSecrets the kubelet uses")
    plan.pod_events("the registry's answer to the pull")


def _liveness(plan: _Plan) -> None:
    plan.pod_events("the failing liveness probe and the kills it caused")
    plan.log(
        plan.on.container(lambda c: c.restart_count > 0), "what the app did before it was killed"
    )
    plan.pod_spec("the probe's path, port and timeouts against the app's ports")


def _readiness(plan: _Plan) -> None:
    plan.pod_events("the readiness probe failures")
    plan.log(
        plan.on.container(lambda c: not c.ready),
        "what the app logs while not ready",
        previous=False,
    )
    plan.pod_spec("the probe's path and port against the ports the app serves")
    for namespace, service in plan.on.services()[:2]:
        plan.propose(
            ClusterTool.GET_ENDPOINTS,
            f"whether Service {service} has any ready pod",
            namespace=namespace,
            service=service,
        )


def _config_missing(plan: _Plan) -> None:
    # A person creates the ConfigMap/Secret (or key) or fixes the reference.
    plan.pod_spec("which ConfigMaps and Secrets (by name) the containers reference")
    plan.pod_events("which object or key the kubelet cannot find")


def _unschedulable(plan: _Plan) -> None:
    plan.pod_events("the scheduler's FailedScheduling reasons")
    plan.pod_spec("the pod's requests, nodeSelector, affinity and tolerations")


def _pvc_pending(plan: _Plan) -> None:
    for claim in plan.on.claims()[:2]:
        plan.propose(
            ClusterTool.GET_EVENTS,
            f"why claim {claim} is not bound (provisioning, StorageClass, matching volume)",
            name=claim,
            kind="PersistentVolumeClaim",
        )
    plan.pod_events("the scheduler waiting for the claim")


def _volume_mount(plan: _Plan) -> None:
    plan.pod_events("the attach and mount errors of the kubelet")
    plan.pod_spec("the pod's volumes and its node")
    for claim in plan.on.claims()[:1]:
        plan.propose(
            ClusterTool.GET_EVENTS,
            f"the events of claim {claim}",
            name=claim,
            kind="PersistentVolumeClaim",
        )


def _node_events(plan: _Plan, why: str) -> None:
    plan.propose(ClusterTool.GET_EVENTS, why, name=plan.on.node(), kind="Node")


def _evicted(plan: _Plan) -> None:
    plan.pod_events("the eviction message: which resource the node ran low on")
    _node_events(plan, "the node's pressure conditions and evictions")
    plan.siblings("whether replacement pods run elsewhere")


def _init_container(plan: _Plan) -> None:
    name = plan.on.container(lambda c: c.init and c.state.kind != "terminated")
    container = plan.on.container_evidence(name)
    restarted = container is None or container.restart_count > 0
    plan.log(name, "why the init container fails or waits", previous=restarted)
    plan.pod_events("the init container's back-off")


def _invalid_command(plan: _Plan) -> None:
    # No application log exists; the spec and the runtime's error say it all.
    plan.pod_spec("the command, args and image the runtime could not start")
    plan.pod_events("the runtime's StartError")


def _permission_denied(plan: _Plan) -> None:
    name = plan.on.container(lambda c: c.restart_count > 0)
    plan.log(name, "the permission error the app hit")
    plan.pod_spec("the pod's and container's securityContext")
    plan.pod_events("the runtime's refusal, when the container could not even start")


def _node_not_ready(plan: _Plan) -> None:
    _node_events(plan, "since when the node is NotReady and what the node controller did")
    plan.pod_spec("the pod's node and conditions")
    plan.siblings("whether pods of the same workload run on other nodes")


def _quota_exceeded(plan: _Plan) -> None:
    package = plan.on.package
    refused = [e for e in package.events if e.reason == "FailedCreate"] if package else []
    for event in refused[-2:]:
        plan.propose(
            ClusterTool.GET_EVENTS,
            f"the quota or LimitRange refusal for {event.object_kind} {event.object_name}",
            name=event.object_name,
            kind=event.object_kind or None,
        )
    plan.rollout(plan.on.deployment(), "how many replicas exist against how many are desired")


def _selector_mismatch(plan: _Plan) -> None:
    services = plan.on.services() or [(plan.namespace, plan.on.target)]
    for namespace, name in services[:1]:
        plan.propose(
            ClusterTool.GET_ENDPOINTS,
            f"the selector and target ports of Service {name} and the pods behind it",
            namespace=namespace,
            service=name,
        )
        service = plan.on.service(name)
        if service is not None and service.selector:
            plan.propose(
                ClusterTool.LIST_PODS,
                f"the pods Service {name}'s selector matches",
                label_selector=labels_text(service.selector),
            )
            for backing in plan.on.backing_deployments(service):
                if backing.desired == 0:
                    _scale_up(plan, backing.name, f"Service {name} selects no pod")
    plan.siblings("the labels of the pods that should serve")


def _unknown(plan: _Plan) -> None:
    plan.pod_spec("the pod's state, to look at without a diagnosis")
    plan.pod_events("the pod's events")


def _healthy(plan: _Plan) -> None:
    return None


_PLANS: dict[RootCause, Callable[[_Plan], None]] = {
    RootCause.OOM_KILLED: _oom_killed,
    RootCause.CRASH_LOOP: _crash_loop,
    RootCause.IMAGE_PULL_ERROR: _image_pull,
    RootCause.IMAGE_PULL_AUTH: _image_pull,
    RootCause.LIVENESS_PROBE_FAILURE: _liveness,
    RootCause.READINESS_PROBE_FAILURE: _readiness,
    RootCause.DEPENDENCY_UNREACHABLE: _dependency_unreachable,
    RootCause.CONFIG_MISSING: _config_missing,
    RootCause.UNSCHEDULABLE_RESOURCES: _unschedulable,
    RootCause.UNSCHEDULABLE_AFFINITY_TAINT: _unschedulable,
    RootCause.PVC_PENDING: _pvc_pending,
    RootCause.VOLUME_MOUNT_FAILURE: _volume_mount,
    RootCause.EVICTED_NODE_PRESSURE: _evicted,
    RootCause.INIT_CONTAINER_FAILURE: _init_container,
    RootCause.INVALID_COMMAND_OR_ENTRYPOINT: _invalid_command,
    RootCause.PERMISSION_DENIED: _permission_denied,
    RootCause.NODE_NOT_READY: _node_not_ready,
    RootCause.RESOURCE_QUOTA_EXCEEDED: _quota_exceeded,
    RootCause.SERVICE_SELECTOR_MISMATCH: _selector_mismatch,
    RootCause.HEALTHY: _healthy,
    RootCause.UNKNOWN: _unknown,
}


def _ordered(actions: Iterable[ProposedAction]) -> list[ProposedAction]:
    """Reads before writes (the order within each kept), at most ``MAX_ACTIONS``."""
    listed = list(actions)
    reads = [a for a in listed if a.tool not in WRITES]
    return (reads[: MAX_ACTIONS - 2] + [a for a in listed if a.tool in WRITES])[:MAX_ACTIONS]


def propose_actions(
    report: Mapping[str, Any], package: EvidencePackage | None
) -> list[ProposedAction]:
    """The remediation plan for ``report`` (an ``IncidentReport`` as builtins), read-only
    calls first; ``package`` (the evidence the report was made from) gives the names and
    numbers the report does not carry. Without it the plan only reads."""
    root = report.get("root_cause") or {}
    try:
        cause = RootCause(str(root.get("type", "")))
    except ValueError:
        cause = RootCause.UNKNOWN
    plan = _Plan(IncidentSubject(report, package))
    if not plan.namespace:
        return []
    _PLANS[cause](plan)
    return _ordered(plan.actions)
