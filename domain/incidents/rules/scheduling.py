"""Pods the scheduler cannot place: not enough room, or no node they are allowed on.

The scheduler reports, per node, the first filter that rejected it, in filter
order (taints and affinity before resources). So a node reported as
"Insufficient memory" was otherwise eligible: when any node says so, the pod's
allowed nodes are full, and that is the cause.
"""

from __future__ import annotations

import re

from domain.incidents.context import RuleContext
from domain.incidents.facts import labels_text
from domain.incidents.findings import Finding
from domain.incidents.pods import PodEvidence
from domain.incidents.quantities import cpu_cores, memory_bytes
from domain.incidents.taxonomy import RootCause

__all__ = ["classify_scheduling_message", "scheduling_failures"]

_CLAUSE = re.compile(r"^\s*(\d+)\s+(.*)$")
_RESOURCES = re.compile(r"Insufficient|Too many pods|didn't have free ports", re.IGNORECASE)
_CLAIMS = re.compile(
    r"unbound immediate PersistentVolumeClaims|persistentvolumeclaim \"[^\"]+\" not found"
    r"|unbound PersistentVolumeClaims|VolumeBinding|binding volumes|provisioning failed for PVC"
    r"|didn't find available persistent volumes to bind|did not have enough free storage",
    re.IGNORECASE,
)
_PLACEMENT = re.compile(
    r"affinity|selector|taint|topology spread|were unschedulable|volume node affinity",
    re.IGNORECASE,
)
_CONTROL_PLANE = re.compile(r"control-plane|node-role\.kubernetes\.io/master", re.IGNORECASE)


def _clauses(message: str) -> list[tuple[int, str]]:
    body = re.split(r"\bpreemption:", message, maxsplit=1)[0]
    body = body.split("are available:", 1)[-1]
    clauses = []
    for raw in re.split(r",\s(?=\d+\s)|\.\s", body):
        part = raw.strip().rstrip(".")
        if not part:
            continue
        match = _CLAUSE.match(part)
        clauses.append((int(match.group(1)), match.group(2)) if match else (1, part))
    return clauses


def classify_scheduling_message(message: str) -> RootCause | None:
    if _CLAIMS.search(message):
        return RootCause.PVC_PENDING
    resources = placement = 0
    for count, clause in _clauses(message):
        if _RESOURCES.search(clause):
            resources += count
        elif _PLACEMENT.search(clause) and not _CONTROL_PLANE.search(clause):
            placement += count
    if resources:
        return RootCause.UNSCHEDULABLE_RESOURCES
    if placement:
        return RootCause.UNSCHEDULABLE_AFFINITY_TAINT
    if _CONTROL_PLANE.search(message):
        return RootCause.UNSCHEDULABLE_AFFINITY_TAINT
    return None


def _requests(pod: PodEvidence) -> tuple[float, float]:
    cpu = sum(cpu_cores(c.requests.get("cpu")) or 0 for c in pod.app_containers)
    memory = sum(memory_bytes(c.requests.get("memory")) or 0 for c in pod.app_containers)
    return cpu, memory


def _capacity_facts(ctx: RuleContext, pod: PodEvidence) -> tuple[list[str], bool]:
    """Requests against the largest allocatable of the worker nodes; True if nothing fits."""
    workers = [n for n in ctx.package.nodes if not n.is_control_plane]
    if not workers:
        return [], False
    cpu, memory = _requests(pod)
    max_cpu = max(cpu_cores(n.allocatable.get("cpu")) or 0 for n in workers)
    max_memory = max(memory_bytes(n.allocatable.get("memory")) or 0 for n in workers)
    requested = {
        "cpu": ", ".join(c.requests["cpu"] for c in pod.app_containers if "cpu" in c.requests),
        "memory": ", ".join(
            c.requests["memory"] for c in pod.app_containers if "memory" in c.requests
        ),
    }
    facts = [
        f"pod {pod.name} requests cpu={requested['cpu'] or '0'} "
        f"memory={requested['memory'] or '0'}; "
        f"largest node allocatable cpu={max_cpu:g} memory={max_memory / 2**30:.1f}Gi "
        f"({len(workers)} worker nodes)"
    ]
    return facts, (cpu > max_cpu > 0) or (memory > max_memory > 0)


def _placement_facts(ctx: RuleContext, pod: PodEvidence) -> list[str]:
    facts = []
    if pod.node_selector:
        selector = labels_text(pod.node_selector)
        matching = [
            n.name for n in ctx.package.nodes if pod.node_selector.items() <= n.labels.items()
        ]
        facts.append(f"pod nodeSelector {selector} matches {len(matching)} node(s)")
    tainted = [
        f"node {n.name} taint {t}"
        for n in ctx.package.nodes
        if not n.is_control_plane
        for t in n.taints
        if t.effect in ("NoSchedule", "NoExecute")
    ]
    facts.extend(tainted[:3])
    if pod.has_affinity:
        facts.append("pod has affinity rules (spec.affinity)")
    return facts


def _is_unscheduled(pod: PodEvidence) -> bool:
    if pod.phase != "Pending" or pod.deleted_at is not None:
        return False
    scheduled = pod.condition("PodScheduled")
    if scheduled is not None:
        return scheduled.status != "True"
    return not pod.node_name


def scheduling_failures(ctx: RuleContext) -> list[Finding]:
    findings = []
    for pod in ctx.pods:
        if not _is_unscheduled(pod):
            continue
        events = ctx.pod_events(pod, "FailedScheduling", "NotTriggerScaleUp")
        scheduled = pod.condition("PodScheduled")
        messages = [e.message for e in events]
        if scheduled is not None and scheduled.message:
            messages.append(scheduled.message)
        cause = next(
            (c for m in messages if (c := classify_scheduling_message(m)) is not None), None
        )
        capacity, too_big = _capacity_facts(ctx, pod)
        evidence = [e.describe() for e in events[-2:]]
        if scheduled is not None and not events:
            evidence.append(
                f"pod {pod.name} condition PodScheduled={scheduled.status} "
                f"reason={scheduled.reason}: {scheduled.message}"
            )
        confidence = 0.9
        if cause is None:
            if too_big:
                cause, confidence = RootCause.UNSCHEDULABLE_RESOURCES, 0.8
            elif pod.node_selector or pod.has_affinity:
                cause, confidence = RootCause.UNSCHEDULABLE_AFFINITY_TAINT, 0.7
            else:
                cause, confidence = RootCause.UNSCHEDULABLE_RESOURCES, 0.6
        if cause is RootCause.PVC_PENDING:
            continue  # the storage rule explains it, with the claim's own events
        if cause is RootCause.UNSCHEDULABLE_RESOURCES:
            evidence.extend(capacity)
        else:
            evidence.extend(_placement_facts(ctx, pod))
        findings.append(
            Finding(
                cause=cause,
                confidence=confidence,
                evidence=tuple(evidence),
                pods=(pod.name,),
                facts={"node_selector": labels_text(pod.node_selector)},
            )
        )
    return findings
