"""Healthy pods that get no traffic: the Service selects nobody (a label typo, a renamed
app) or points at a port the containers do not expose."""

from __future__ import annotations

from domain.incidents.cluster import ServiceEvidence
from domain.incidents.context import RuleContext
from domain.incidents.facts import labels_text
from domain.incidents.findings import Finding
from domain.incidents.pods import PodEvidence
from domain.incidents.taxonomy import RootCause

__all__ = ["selector_mismatches"]


def _selects(service: ServiceEvidence, pod: PodEvidence) -> bool:
    selector = service.selector or {}
    return bool(selector) and selector.items() <= pod.labels.items()


def _names(pod: PodEvidence) -> set[str]:
    names = {pod.labels.get("app", ""), pod.labels.get("app.kubernetes.io/name", "")}
    if pod.workload is not None:
        names.add(pod.workload.name)
    return names - {""}


def _intended_pods(ctx: RuleContext, service: ServiceEvidence) -> list[PodEvidence]:
    """The healthy pods a Service is evidently meant for: same name as their app/workload,
    or the target of the question when the Service carries the target's name."""
    pods = [p for p in ctx.package.pods if p.phase == "Running" and p.is_ready]
    meant = [p for p in pods if service.name in _names(p)]
    if not meant and ctx.scope.target and service.name.startswith(ctx.scope.target):
        meant = [p for p in pods if p.name in ctx.scope.pods]
    if not meant and service.selector:
        values = set(service.selector.values())
        meant = [
            p
            for p in pods
            if p.name in ctx.scope.pods
            and any(v.startswith(n) or n.startswith(v) for v in values for n in _names(p))
        ]
    return meant


def _port_mismatch(service: ServiceEvidence, pods: list[PodEvidence]) -> str | None:
    ports = {p for pod in pods for c in pod.app_containers for p in c.ports}
    names = {n for pod in pods for c in pod.app_containers for n in c.port_names}
    if not ports:
        return None
    for port in service.ports:
        target = port.target_port if port.target_port is not None else port.port
        if isinstance(target, int) and target not in ports:
            return (
                f"Service {service.name} port {port.port} targetPort {target}, "
                f"containers expose {sorted(ports)}"
            )
        if isinstance(target, str) and not target.isdigit() and target not in names:
            return (
                f"Service {service.name} targetPort {target!r} names no container port "
                f"({sorted(names)})"
            )
    return None


def selector_mismatches(ctx: RuleContext) -> list[Finding]:
    findings = []
    for service in ctx.package.services:
        if not service.selector:
            continue
        pods = _intended_pods(ctx, service)
        if not pods or (
            not ctx.scope.is_namespace and not any(p.name in ctx.scope.pods for p in pods)
        ):
            continue
        selected = [p for p in ctx.package.pods if _selects(service, p)]
        endpoints = (
            "Endpoints has no addresses"
            if not service.ready_addresses and not service.not_ready_addresses
            else f"Endpoints ready: {', '.join(service.ready_addresses or ()) or 'none'}"
        )
        if not any(_selects(service, p) for p in pods):
            evidence = [
                f"Service {service.name} spec.selector {labels_text(service.selector)} matches "
                f"{len(selected)} pod(s); {endpoints}",
                f"pod {pods[0].name} labels {labels_text(pods[0].labels)} "
                f"phase={pods[0].phase} Ready=True",
            ]
            confidence = 0.9 if service.ready_addresses is not None else 0.85
        elif (mismatch := _port_mismatch(service, pods)) is not None:
            evidence = [
                mismatch,
                f"pod {pods[0].name} phase={pods[0].phase} Ready=True; {endpoints}",
            ]
            confidence = 0.78
        else:
            continue
        findings.append(
            Finding(
                cause=RootCause.SERVICE_SELECTOR_MISMATCH,
                confidence=confidence,
                evidence=tuple(evidence),
                pods=tuple(p.name for p in pods),
                facts={"service": service.name, "selector": labels_text(service.selector)},
            )
        )
    return findings
