"""Volumes: a claim that never binds (the pod cannot even be scheduled), and a bound
volume that the node cannot attach or mount (the pod sits in ContainerCreating)."""

from __future__ import annotations

import re

from domain.incidents.context import RuleContext
from domain.incidents.findings import Finding
from domain.incidents.pods import PodEvidence
from domain.incidents.rules.scheduling import classify_scheduling_message
from domain.incidents.taxonomy import RootCause

__all__ = ["mount_failures", "pending_claims"]

_CLAIM_TROUBLE = ("ProvisioningFailed", "ExternalProvisioning", "FailedBinding", "ClaimLost")
_MOUNT_REASONS = ("FailedMount", "FailedAttachVolume", "FailedMapVolume")
_MOUNT_PROBLEM = re.compile(
    r"Multi-Attach|MountVolume|Unable to attach or mount|AttachVolume|timed out waiting"
    r"|mount failed|not found|permission denied|rpc error",
    re.IGNORECASE,
)


def _claims(pod: PodEvidence) -> list[str]:
    return [v.source for v in pod.volumes if v.kind == "persistentVolumeClaim"]


def pending_claims(ctx: RuleContext) -> list[Finding]:
    findings = []
    for pod in ctx.pods:
        if pod.phase != "Pending" or not _claims(pod):
            continue
        scheduling = [
            e
            for e in ctx.pod_events(pod, "FailedScheduling")
            if classify_scheduling_message(e.message) is RootCause.PVC_PENDING
        ]
        condition = pod.condition("PodScheduled")
        blocked = bool(scheduling) or (
            condition is not None
            and classify_scheduling_message(condition.message) is RootCause.PVC_PENDING
        )
        evidence = [e.describe() for e in scheduling[-1:]]
        if not scheduling and blocked and condition is not None:
            evidence.append(f"pod {pod.name} condition PodScheduled=False: {condition.message}")
        for name in _claims(pod):
            claim = ctx.package.pvc(name)
            events = ctx.package.events_about("PersistentVolumeClaim", name)
            troubles = [e for e in events if e.reason in _CLAIM_TROUBLE or e.is_warning]
            if claim is None:
                if blocked or ctx.package.pvcs:
                    evidence.append(f"PersistentVolumeClaim {name} not found in namespace")
                    blocked = True
                continue
            if claim.phase != "Pending":
                continue
            waiting_first = all(e.reason == "WaitForFirstConsumer" for e in events) and events
            if troubles or (not waiting_first and pod.node_name == "") or blocked:
                blocked = True
                evidence.append(
                    f"PersistentVolumeClaim {name} status.phase=Pending "
                    f"storageClassName={claim.storage_class or '(none)'} "
                    f"accessModes={list(claim.access_modes)} request={claim.requested}"
                )
                evidence.extend(e.describe() for e in troubles[-2:])
        if blocked and evidence:
            findings.append(
                Finding(
                    cause=RootCause.PVC_PENDING,
                    confidence=0.9,
                    evidence=tuple(evidence),
                    pods=(pod.name,),
                    facts={"claims": ",".join(_claims(pod))},
                )
            )
    return findings


def mount_failures(ctx: RuleContext) -> list[Finding]:
    findings = []
    for pod in ctx.pods:
        if not pod.node_name or pod.phase not in ("Pending", "Running"):
            continue
        stuck = [
            c
            for c in pod.containers
            if c.state.kind == "waiting"
            and c.state.reason in ("ContainerCreating", "PodInitializing")
        ] or [c for c in pod.containers if not c.has_status]
        if not stuck:
            continue
        events = [
            e for e in ctx.pod_events(pod, *_MOUNT_REASONS) if _MOUNT_PROBLEM.search(e.message)
        ]
        if not events:
            continue
        evidence = [e.describe() for e in events[-2:]]
        evidence.append(
            f"pod {pod.name} on node {pod.node_name}: containers "
            f"{', '.join(c.name for c in stuck)} waiting ContainerCreating"
        )
        for name in _claims(pod):
            claim = ctx.package.pvc(name)
            if claim is not None:
                evidence.append(
                    f"PersistentVolumeClaim {name} status.phase={claim.phase} "
                    f"volume={claim.volume_name} accessModes={list(claim.access_modes)}"
                )
        findings.append(
            Finding(
                cause=RootCause.VOLUME_MOUNT_FAILURE,
                confidence=0.88,
                evidence=tuple(evidence),
                pods=(pod.name,),
                facts={"node": pod.node_name, "claims": ",".join(_claims(pod))},
            )
        )
    return findings
