"""A workload that dies because something it talks to is not there.

The log line names a host (or IP) and port; the namespace says whether that is
one of its Services and whether anything stands behind it.
"""

from __future__ import annotations

import ipaddress

from domain.incidents.cluster import ServiceEvidence
from domain.incidents.context import RuleContext
from domain.incidents.facts import labels_text
from domain.incidents.findings import Finding
from domain.incidents.log_signals import LogVerdict, dependency_host
from domain.incidents.package import EvidencePackage
from domain.incidents.pods import ContainerEvidence, PodEvidence
from domain.incidents.taxonomy import RootCause

__all__ = ["dependency_finding", "service_for_host"]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def service_for_host(package: EvidencePackage, host: str) -> ServiceEvidence | None:
    if not host:
        return None
    if _is_ip(host):
        return next((s for s in package.services if s.cluster_ip == host), None)
    labels = host.split(".")
    # db, db.ns, db.ns.svc, db.ns.svc.cluster.local: only names in this namespace count.
    if len(labels) > 1 and labels[1] not in (package.namespace, "svc"):
        return None
    return package.service(labels[0])


def _backing(package: EvidencePackage, service: ServiceEvidence) -> list[str]:
    """Why a Service has nobody behind it: a controller scaled to zero, pods not ready."""
    lines = []
    for workload in package.workloads:
        if workload.owner is not None or not service.selector:
            continue
        labels = workload.template_labels or workload.selector
        if labels and service.selector.items() <= labels.items():
            lines.append(
                f"{workload.kind} {workload.name} spec.replicas={workload.desired} "
                f"readyReplicas={workload.ready or 0}"
            )
    if service.selector:
        pods = [p for p in package.pods if service.selector.items() <= p.labels.items()]
        if not pods:
            selector = labels_text(service.selector)
            lines.append(f"no pod matches Service {service.name} selector {selector}")
        for pod in pods[:3]:
            lines.append(f"pod {pod.name} phase={pod.phase} ready={str(pod.is_ready).lower()}")
    return lines


def dependency_finding(
    ctx: RuleContext,
    pod: PodEvidence,
    container: ContainerEvidence,
    verdict: LogVerdict,
    quoted: str,
    base: list[str],
    *,
    current: bool,
) -> Finding:
    host, port = dependency_host(verdict.line)
    service = service_for_host(ctx.package, host)
    evidence = [quoted, *base]
    confidence = 0.85
    facts = {"container": container.name, "host": host, "port": port}
    if service is not None:
        facts["service"] = service.name
        target = f"{service.name} ({service.cluster_ip}:{port or '?'})"
        if service.ready_addresses is not None and not service.ready_addresses:
            evidence.append(f"Service {target} has no ready endpoints")
            evidence.extend(_backing(ctx.package, service))
            confidence = 0.9
        elif service.ready_addresses:
            evidence.append(f"Service {target} endpoints: {', '.join(service.ready_addresses[:3])}")
    elif host and not _is_ip(host) and len(host.split(".")) == 1 and ctx.package.services:
        evidence.append(f"no Service named {host} in namespace {ctx.package.namespace}")
        confidence = 0.88
    if verdict.hits > 1:
        evidence.append(f"{verdict.hits} connection errors in the last log lines")
    return Finding(
        cause=RootCause.DEPENDENCY_UNREACHABLE,
        confidence=confidence,
        evidence=tuple(evidence),
        pods=(pod.name,),
        container=container.name,
        current=current,
        facts=facts,
    )
