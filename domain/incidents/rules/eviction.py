"""Pods the kubelet evicted because its node ran short of memory, disk or PIDs."""

from __future__ import annotations

from datetime import datetime

from domain.incidents.context import RuleContext
from domain.incidents.findings import Finding
from domain.incidents.pods import PodEvidence
from domain.incidents.taxonomy import RootCause

__all__ = ["evictions"]


def _evicted(pod: PodEvidence) -> bool:
    if pod.is_evicted:
        return True
    target = pod.condition("DisruptionTarget")
    return (
        pod.phase == "Failed"
        and target is not None
        and target.status == "True"
        and target.reason == "TerminationByKubelet"
    )


def _eviction_time(pod: PodEvidence) -> datetime | None:
    target = pod.condition("DisruptionTarget")
    if target is not None and target.last_transition is not None:
        return target.last_transition
    finished = [c.state.finished_at for c in pod.containers if c.state.finished_at]
    return max(finished, default=None)


def evictions(ctx: RuleContext) -> list[Finding]:
    findings = []
    for pod in ctx.pods:
        if not _evicted(pod):
            continue
        events = ctx.pod_events(pod, "Evicted")
        node = ctx.node_of(pod)
        pressures = node.pressures() if node is not None else []
        if not events and not pressures and not ctx.recent(_eviction_time(pod)):
            continue  # an old eviction whose pod object was never cleaned up
        evidence = [
            f"pod {pod.name} status.phase={pod.phase} status.reason={pod.reason or 'Evicted'} "
            f"message={pod.message!r}"
        ]
        evidence.extend(e.describe() for e in events[-1:])
        if node is not None:
            evidence.extend(
                f"node {node.name} condition {c.type}={c.status} {c.reason}: {c.message}".rstrip(
                    ": "
                )
                for c in pressures
            )
            evidence.extend(
                f"node {node.name} taint {t}" for t in node.taints if "pressure" in t.key
            )
        findings.append(
            Finding(
                cause=RootCause.EVICTED_NODE_PRESSURE,
                confidence=0.9,
                evidence=tuple(evidence),
                pods=(pod.name,),
                current=bool(events or pressures),
                facts={"node": pod.node_name, "message": pod.message},
            )
        )
    return findings
