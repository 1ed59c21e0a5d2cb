"""Pods that are never created: the namespace ResourceQuota or LimitRange rejects them,
so the controller reports FailedCreate and runs short of replicas."""

from __future__ import annotations

import re

from domain.incidents.cluster import KubeEvent, WorkloadEvidence
from domain.incidents.context import RuleContext
from domain.incidents.findings import Finding
from domain.incidents.taxonomy import RootCause

__all__ = ["quota_rejections"]

_REJECTED = re.compile(
    r"exceeded quota|failed quota|must specify (?:limits|requests)|LimitRange"
    r"|maximum (?:cpu|memory|storage|ephemeral-storage) usage per"
    r"|minimum (?:cpu|memory|storage) usage per|max limit to request ratio",
    re.IGNORECASE,
)
_QUOTA_NAME = re.compile(r"exceeded quota: ([\w.-]+)")


def _workloads_in_scope(ctx: RuleContext) -> list[WorkloadEvidence]:
    if ctx.scope.is_namespace:
        return list(ctx.package.workloads)
    found: list[WorkloadEvidence] = []
    for ref in ctx.scope.workloads:
        found.extend(w for w in ctx.package.controllers_of(ref) if w not in found)
    return found


def _subjects(ctx: RuleContext) -> list[str]:
    names = {w.name for w in _workloads_in_scope(ctx)}
    names.update(ref.name for ref in ctx.scope.workloads)
    if ctx.scope.target:
        names.add(ctx.scope.target)
    return sorted(names)


def _created_since(ctx: RuleContext, event: KubeEvent) -> bool:
    """The controller has created pods since it was last refused: the refusal is over."""
    return any(
        p.owner is not None
        and p.owner.name == event.object_name
        and p.created_at is not None
        and event.last_seen is not None
        and p.created_at > event.last_seen
        for p in ctx.package.pods
    )


def quota_rejections(ctx: RuleContext) -> list[Finding]:
    subjects = _subjects(ctx)
    rejected = [
        e
        for e in ctx.package.events
        if e.reason in ("FailedCreate", "FailedCreatePodSandBox", "")
        and e.object_kind != "Pod"
        and _REJECTED.search(e.message)
        and ctx.recent(e.last_seen)
        and not _created_since(ctx, e)
        and (
            ctx.scope.is_namespace
            or any(e.object_name == s or e.object_name.startswith(f"{s}-") for s in subjects)
        )
    ]
    conditions = [
        (w, c)
        for w in _workloads_in_scope(ctx)
        for c in w.conditions
        if c.type == "ReplicaFailure" and c.status == "True" and _REJECTED.search(c.message)
    ]
    if not rejected and not conditions:
        return []
    top = [w for w in _workloads_in_scope(ctx) if w.owner is None and w.desired is not None]
    if top and all((w.ready or 0) >= (w.desired or 0) for w in top):
        return []  # the rejections are history: every controller has its replicas
    evidence = [e.describe() for e in rejected[-2:]]
    evidence.extend(
        f"{w.kind} {w.name} condition ReplicaFailure=True reason={c.reason}: {c.message}"
        for w, c in conditions[:1]
    )
    names = {m.group(1) for e in rejected if (m := _QUOTA_NAME.search(e.message))}
    for quota in ctx.package.quotas:
        if names and quota.name not in names:
            continue
        usage = ", ".join(
            f"{key} {quota.used.get(key, '?')}/{hard}" for key, hard in sorted(quota.hard.items())
        )
        evidence.append(f"ResourceQuota {quota.name} used/hard: {usage}")
    for workload in _workloads_in_scope(ctx):
        if workload.owner is None and workload.desired is not None:
            evidence.append(
                f"{workload.kind} {workload.name} desired={workload.desired} "
                f"current={workload.current or 0} ready={workload.ready or 0}"
            )
    return [
        Finding(
            cause=RootCause.RESOURCE_QUOTA_EXCEEDED,
            confidence=0.92,
            evidence=tuple(evidence),
            pods=(),
            facts={"quota": ",".join(sorted(names))},
        )
    ]
