"""Rules first: run every rule over the pods in scope, rank what they found, and say
``healthy`` (with the facts that show it) when nothing current is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import msgspec
from msgspec import Struct

from domain.incidents.context import RuleContext
from domain.incidents.findings import Finding
from domain.incidents.package import EvidencePackage
from domain.incidents.pods import PodEvidence
from domain.incidents.ranking import merge_findings, rank_findings
from domain.incidents.remediation import Remediation, remediation_for
from domain.incidents.rules import RULES
from domain.incidents.scope import Scope, resolve_scope
from domain.incidents.taxonomy import RootCause

__all__ = ["MAX_EVIDENCE", "Diagnosis", "diagnose"]

MAX_EVIDENCE = 8
# How long a pod may take to come up before "not ready yet" counts as a problem.
STARTING = timedelta(minutes=5)


class Diagnosis(Struct, frozen=True, kw_only=True):
    root_cause: Finding
    remediation: Remediation
    scope: Scope
    others: tuple[Finding, ...] = ()
    reference_time: datetime | None = None
    # Rules that failed on this package (odd input): the answer comes from the others.
    rule_errors: tuple[str, ...] = ()


def _run_rules(ctx: RuleContext) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    errors: list[str] = []
    for rule in RULES:
        try:
            findings.extend(rule(ctx))
        except Exception as exc:  # noqa: BLE001 - one rule tripping on odd input must not cost the diagnosis
            errors.append(f"{rule.__name__}: {type(exc).__name__}: {exc}")
    return findings, errors


def _pod_health_line(ctx: RuleContext, name: str) -> str | None:
    pod = ctx.package.pod(name)
    if pod is None:
        return None
    if pod.is_completed:
        ready = f"0/{len(pod.app_containers)}"
        return f"pod {pod.name} phase=Succeeded (Completed, {ready} ready by design)"
    restarts = pod.restarts()
    line = (
        f"pod {pod.name} phase={pod.phase} Ready={'True' if pod.is_ready else 'False'} "
        f"restartCount={restarts}"
    )
    if restarts:
        last = max(
            (c.last_state.finished_at for c in pod.containers if c.last_state.finished_at),
            default=None,
        )
        if last is not None:
            line += f" (last restart {last:%Y-%m-%dT%H:%M:%SZ}, not recent)"
    return line


def _healthy(ctx: RuleContext) -> Finding:
    lines = [line for name in ctx.scope.pods[:4] if (line := _pod_health_line(ctx, name))]
    running = [p for p in ctx.pods if p.phase == "Running"]
    ready = [p for p in running if p.is_ready]
    completed = [p for p in ctx.pods if p.is_completed]
    summary = f"{len(ready)}/{len(running)} running pods Running and Ready"
    if completed:
        summary += f"; {len(completed)} Completed job pod(s)"
    lines.insert(0, summary)
    for service in ctx.package.services:
        if service.ready_addresses and any(a in ctx.scope.pods for a in service.ready_addresses):
            lines.append(
                f"Service {service.name} has {len(service.ready_addresses)} ready endpoint(s)"
            )
    warnings = [
        e
        for e in ctx.package.events
        if e.is_warning and (ctx.scope.is_namespace or e.object_name in ctx.scope.pods)
    ]
    current = [e for e in warnings if ctx.recent(e.last_seen)]
    if not warnings:
        lines.append("no Warning events")
    else:
        lines.append(
            f"{len(warnings)} Warning event(s), none explaining a current failure "
            f"(latest: {warnings[-1].reason} {warnings[-1].message[:120]})"
            if current
            else f"{len(warnings)} stale Warning event(s)"
        )
    confidence = 0.9 if ctx.pods and len(ready) == len(running) else 0.7
    if not ctx.pods:
        confidence = 0.6
    return Finding(cause=RootCause.HEALTHY, confidence=confidence, evidence=tuple(lines))


def _starting(ctx: RuleContext, pod: PodEvidence) -> bool:
    """Created or (re)started within the last few minutes, with no warning about it."""
    began = max(
        [t for t in (pod.created_at, *(c.state.started_at for c in pod.containers)) if t],
        default=None,
    )
    warned = any(e.is_warning for e in ctx.pod_events(pod))
    return began is not None and not warned and ctx.recent(began, STARTING)


def _best_guess(ctx: RuleContext) -> Finding | None:
    """Pods in scope that are plainly not fine, though no rule could say why: never call
    that healthy (nor unknown); name the likeliest cause from their state, unsure."""
    for pod in ctx.pods:
        if pod.phase in ("Succeeded", "Failed") or (pod.phase == "Running" and pod.is_ready):
            continue  # finished pods are judged by the rules (superseded, stale evictions)
        if _starting(ctx, pod):
            continue  # caught mid-start: a snapshot is taken at any moment
        state = f"pod {pod.name} phase={pod.phase} Ready={'True' if pod.is_ready else 'False'}"
        waiting = [c for c in pod.containers if c.state.kind == "waiting"]
        if pod.phase == "Pending" and not pod.node_name:
            cause = RootCause.UNSCHEDULABLE_RESOURCES
        elif any(c.init and c.state.kind != "terminated" for c in pod.containers):
            cause = RootCause.INIT_CONTAINER_FAILURE
        elif any(c.state.reason == "ContainerCreating" for c in waiting):
            cause = RootCause.VOLUME_MOUNT_FAILURE
        elif any(c.state.kind == "running" and not c.ready for c in pod.app_containers):
            cause = RootCause.READINESS_PROBE_FAILURE
        elif pod.app_containers and all(
            c.state.kind == "running" and c.ready for c in pod.app_containers
        ):
            cause = RootCause.NODE_NOT_READY  # containers fine, pod not: their node's statuses
        else:
            cause = RootCause.CRASH_LOOP
        details = [f"{c.name}: {c.state.kind} {c.state.reason}".rstrip() for c in pod.containers]
        return Finding(
            cause=cause,
            confidence=0.5,
            evidence=(state, "containers " + "; ".join(details)),
            pods=(pod.name,),
        )
    return None


def _workload_of(ctx: RuleContext, finding: Finding) -> str:
    """What the remediation should name: the asked-about target, else the pods' controller."""
    if ctx.scope.target:
        return ctx.scope.target
    pod = ctx.package.pod(finding.pods[0]) if finding.pods else None
    return pod.workload.name if pod is not None and pod.workload is not None else ""


def diagnose(package: EvidencePackage, hints: Sequence[str] = ()) -> Diagnosis:
    scope = resolve_scope(package, hints)
    ctx = RuleContext(package, scope)
    found, errors = _run_rules(ctx)
    findings = rank_findings(merge_findings(found))
    primary = findings[0] if findings else (_best_guess(ctx) or _healthy(ctx))
    primary = msgspec.structs.replace(primary, evidence=primary.evidence[:MAX_EVIDENCE])
    return Diagnosis(
        root_cause=primary,
        remediation=remediation_for(primary, package.namespace, _workload_of(ctx, primary)),
        scope=scope,
        others=tuple(findings[1:]),
        reference_time=ctx.now,
        rule_errors=tuple(errors),
    )
