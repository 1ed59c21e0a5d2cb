"""Which finding is the root cause when several fire.

Causes earlier in ``CAUSAL_ORDER`` explain the later ones: a node that is down
makes its pods unready; a pod that cannot be scheduled never pulls its image;
a container killed for memory also fails its probes. A failure still going on
outranks one the pods have recovered from.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.incidents.findings import Finding
from domain.incidents.taxonomy import RootCause

__all__ = ["CAUSAL_ORDER", "merge_findings", "rank_findings"]

CAUSAL_ORDER: tuple[RootCause, ...] = (
    RootCause.NODE_NOT_READY,
    RootCause.RESOURCE_QUOTA_EXCEEDED,
    RootCause.PVC_PENDING,
    RootCause.UNSCHEDULABLE_AFFINITY_TAINT,
    RootCause.UNSCHEDULABLE_RESOURCES,
    RootCause.EVICTED_NODE_PRESSURE,
    RootCause.VOLUME_MOUNT_FAILURE,
    RootCause.IMAGE_PULL_AUTH,
    RootCause.IMAGE_PULL_ERROR,
    RootCause.CONFIG_MISSING,
    RootCause.PERMISSION_DENIED,
    RootCause.INVALID_COMMAND_OR_ENTRYPOINT,
    RootCause.INIT_CONTAINER_FAILURE,
    RootCause.OOM_KILLED,
    RootCause.LIVENESS_PROBE_FAILURE,
    RootCause.DEPENDENCY_UNREACHABLE,
    RootCause.CRASH_LOOP,
    RootCause.READINESS_PROBE_FAILURE,
    RootCause.SERVICE_SELECTOR_MISMATCH,
    RootCause.HEALTHY,
)
_RANK = {cause: index for index, cause in enumerate(CAUSAL_ORDER)}
# A second pod failing the same way adds a little certainty, never past this.
_MAX_CONFIDENCE = 0.97


def merge_findings(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per cause, across pods (the cause is the workload's, not a pod's)."""
    merged: dict[RootCause, Finding] = {}
    for finding in findings:
        seen = merged.get(finding.cause)
        merged[finding.cause] = seen.merged_with(finding) if seen else finding
    result = []
    for finding in merged.values():
        extra = 0.02 if len(finding.pods) > 1 else 0.0
        confidence = min(_MAX_CONFIDENCE, round(finding.confidence + extra, 2))
        result.append(
            Finding(
                cause=finding.cause,
                confidence=max(confidence, finding.confidence),
                evidence=finding.evidence,
                pods=finding.pods,
                container=finding.container,
                current=finding.current,
                facts=finding.facts,
            )
        )
    return result


def rank_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Most likely root cause first."""
    return sorted(
        findings,
        key=lambda f: (not f.current, _RANK.get(f.cause, len(_RANK)), -f.confidence, -len(f.pods)),
    )
