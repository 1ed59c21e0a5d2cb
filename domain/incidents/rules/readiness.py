"""Containers that run but never pass their readiness probe: no restarts, no traffic."""

from __future__ import annotations

import re
from datetime import timedelta

from domain.incidents.context import RuleContext
from domain.incidents.facts import log_line, state_line
from domain.incidents.findings import Finding
from domain.incidents.log_signals import LogCause, read_log_tail
from domain.incidents.rules.dependencies import dependency_finding
from domain.incidents.taxonomy import RootCause

__all__ = ["readiness_failures"]

_STARTING = timedelta(minutes=3)
_SERVER_ERROR = re.compile(r"statuscode: 5\d\d|status(?: code)?:? 5\d\d", re.IGNORECASE)


def readiness_failures(ctx: RuleContext) -> list[Finding]:
    findings = []
    for pod in ctx.pods:
        if pod.phase != "Running" or pod.deleted_at is not None:
            continue
        node = ctx.node_of(pod)
        if node is not None and not node.is_ready:
            continue
        for container in pod.app_containers:
            if container.state.kind != "running" or container.ready:
                continue
            if ctx.restarted_within_the_hour(container):
                continue  # the termination rule explains a container that keeps restarting
            probes = [
                e
                for e in ctx.pod_events(pod, "Unhealthy", container=container)
                if e.message.startswith(("Readiness probe failed", "Startup probe failed"))
            ]
            startup_only = bool(probes) and all(
                e.message.startswith("Startup probe failed") for e in probes
            )
            evidence = [e.describe() for e in probes[-1:]]
            evidence.append(state_line(pod, container))
            probe = container.probe("startup" if startup_only else "readiness")
            if probe is not None:
                evidence.append(f"{probe.kind}Probe {probe.handler}")
            for service in ctx.package.services:
                if pod.name in service.not_ready_addresses:
                    ready = ", ".join(service.ready_addresses or ()) or "none"
                    evidence.append(
                        f"Endpoints {service.name}: pod {pod.name} in notReadyAddresses "
                        f"(ready addresses: {ready})"
                    )
            message = probes[-1].message if probes else ""
            said = read_log_tail(container.log.lines()) if container.log is not None else None
            if (
                said is not None
                and said.cause is LogCause.DEPENDENCY
                and (_SERVER_ERROR.search(message) or not probes)
            ):
                quoted = log_line(pod, container, said.line, previous=False)
                findings.append(
                    dependency_finding(ctx, pod, container, said, quoted, evidence, current=True)
                )
                continue
            if not probes and ctx.recent(container.state.started_at, _STARTING):
                continue  # still starting up
            cause = (
                RootCause.LIVENESS_PROBE_FAILURE
                if startup_only
                else RootCause.READINESS_PROBE_FAILURE
            )
            confidence = 0.75 if probes else 0.6
            if any("notReadyAddresses" in line for line in evidence):
                confidence += 0.05
            findings.append(
                Finding(
                    cause=cause,
                    confidence=confidence,
                    evidence=tuple(evidence),
                    pods=(pod.name,),
                    container=container.name,
                    facts={"container": container.name, "probe": probe.handler if probe else ""},
                )
            )
    return findings
