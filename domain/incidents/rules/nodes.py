"""Pods that look broken only because their node stopped reporting (kubelet down,
network partition, VM gone): the last container statuses still say running."""

from __future__ import annotations

from domain.incidents.context import RuleContext
from domain.incidents.findings import Finding
from domain.incidents.pods import PodEvidence
from domain.incidents.taxonomy import RootCause

__all__ = ["unready_nodes"]

_NODE_TAINTS = ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")
_NODE_EVENTS = ("NodeNotReady", "TaintManagerEviction", "NodeControllerEviction")


def _stale_statuses(pod: PodEvidence) -> bool:
    """Ready=False while every container still reports running and ready: a node fact."""
    containers = pod.app_containers
    return (
        pod.phase in ("Running", "Unknown")
        and not pod.is_ready
        and bool(containers)
        and all(c.state.kind == "running" and c.ready for c in containers)
    )


def unready_nodes(ctx: RuleContext) -> list[Finding]:
    findings: dict[str, Finding] = {}
    for pod in ctx.pods:
        if pod.is_completed or not pod.node_name:
            continue
        node = ctx.node_of(pod)
        node_down = node is not None and not node.is_ready
        events = ctx.pod_events(pod, *_NODE_EVENTS)
        if not node_down and not (events and (_stale_statuses(pod) or pod.phase == "Unknown")):
            continue
        if pod.is_ready and not events:
            continue
        evidence = []
        if node is not None:
            ready = node.condition("Ready")
            if ready is not None:
                evidence.append(
                    f"node {node.name} condition Ready={ready.status} reason={ready.reason}: "
                    f"{ready.message}"
                )
            evidence.extend(
                f"node {node.name} taint {t}" for t in node.taints if t.key in _NODE_TAINTS
            )
        evidence.extend(e.describe() for e in events[-2:])
        condition = pod.condition("Ready")
        evidence.append(
            f"pod {pod.name} on node {pod.node_name}: phase={pod.phase} "
            f"Ready={condition.status if condition else 'unknown'}; containers still report "
            + ", ".join(f"{c.name}={c.state.kind}" for c in pod.app_containers)
        )
        finding = Finding(
            cause=RootCause.NODE_NOT_READY,
            confidence=0.9 if node_down else 0.85,
            evidence=tuple(evidence),
            pods=(pod.name,),
            facts={"node": pod.node_name},
        )
        previous = findings.get(pod.node_name)
        findings[pod.node_name] = previous.merged_with(finding) if previous else finding
    return list(findings.values())
