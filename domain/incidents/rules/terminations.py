"""Containers that ran and stopped: killed for memory, killed by the liveness probe,
unable to exec, refused by the filesystem, cut off from a dependency, or crashing
on their own. ``CrashLoopBackOff`` is only the symptom; the termination and the
log say which of these it is."""

from __future__ import annotations

import re
from datetime import timedelta

from domain.incidents.context import RuleContext
from domain.incidents.facts import log_line, quote_fatal, state_line, termination_line
from domain.incidents.findings import Finding
from domain.incidents.log_signals import LogCause, LogVerdict, read_log_tail
from domain.incidents.pods import ContainerEvidence, ContainerState, PodEvidence
from domain.incidents.quantities import jvm_size_bytes, memory_bytes
from domain.incidents.rules.dependencies import dependency_finding
from domain.incidents.taxonomy import RootCause

__all__ = ["classify_termination", "container_terminations", "log_verdict"]

_EXEC_MESSAGE = re.compile(
    r"executable file not found|no such file or directory|exec format error|permission denied"
    r"|not a directory|OCI runtime|failed to create (?:shim|containerd) task|StartError",
    re.IGNORECASE,
)
_PROBE_KILL = re.compile(r"failed (liveness|startup) probe", re.IGNORECASE)
_XMX = re.compile(r"-Xmx(\d+[kKmMgGtT]?)\b")
CRASH_LOOP_RESTARTS = 5
# How long a failed Job pod stays news in a namespace overview.
OLD_JOB_FAILURE = timedelta(hours=6)


def log_verdict(container: ContainerEvidence) -> tuple[LogVerdict, bool] | None:
    """What the newest relevant log says, and whether it was the previous instance's."""
    for log, previous in ((container.previous_log, True), (container.log, False)):
        if log is None:
            continue
        verdict = read_log_tail(log.lines())
        if verdict is not None:
            return verdict, previous
    return None


def _troubled(ctx: RuleContext, pod: PodEvidence, container: ContainerEvidence) -> bool | None:
    """None: nothing to explain; else whether the failure is still going on."""
    if container.last_terminated() is None:
        return None
    state = container.state
    if state.kind == "waiting" and state.reason in ("CrashLoopBackOff", "RunContainerError"):
        return True
    if state.kind == "terminated":
        failed = state.exit_code not in (0, None) or state.reason == "OOMKilled"
        return True if failed and not _superseded(ctx, pod) else None
    if not container.ready and ctx.restarted_within_the_hour(container):
        return True  # back up but not serving: the restart is part of the failure
    if ctx.restarted_recently(pod, container):
        return False  # serving again; the restart is recent history
    return None


def _superseded(ctx: RuleContext, pod: PodEvidence) -> bool:
    """A failed run-to-completion pod whose Job went on to succeed is history; so is an
    old one when nobody asked about it (a namespace overview)."""
    if pod.restart_policy == "Always" or pod.workload is None:
        return False
    ended = max((c.state.finished_at for c in pod.containers if c.state.finished_at), default=None)
    if ctx.scope.is_namespace and not ctx.recent(ended, OLD_JOB_FAILURE):
        return True
    for workload in ctx.package.controllers_of(pod.workload):
        complete = workload.condition("Complete")
        if complete is not None and complete.status == "True":
            return True
    began = pod.started_at or pod.created_at
    return any(
        p.is_completed and began is not None and (p.started_at or p.created_at or began) > began
        for p in ctx.package.related_pods(pod)
    )


def _memory_facts(pod: PodEvidence, container: ContainerEvidence) -> list[str]:
    facts = []
    limit = container.limits.get("memory")
    facts.append(
        f"memory limit {limit}; {container.restart_count} restarts"
        if limit
        else f"no memory limit set; {container.restart_count} restarts"
    )
    sources = [*container.command, *container.args] + [
        f"{e.name}={e.value}" for e in container.env if e.value and "-Xmx" in e.value
    ]
    for text in sources:
        match = _XMX.search(text)
        if match is None:
            continue
        heap, ceiling = jvm_size_bytes(match.group(1)), memory_bytes(limit)
        relation = "above" if heap and ceiling and heap >= ceiling else "against"
        facts.append(
            f"JVM {match.group(0)} {relation} memory limit {limit or 'none'} ({text[:120]})"
        )
        break
    return facts


def _restart_confidence(ctx: RuleContext, pod: PodEvidence, container: ContainerEvidence) -> float:
    if pod.restart_policy != "Always":
        # A Job retries in new pods, not restarts: count the failed runs instead.
        runs = 1 + sum(1 for p in ctx.package.related_pods(pod) if p.phase == "Failed")
        return 0.9 if runs >= 3 else 0.85 if runs == 2 else 0.8
    if container.restart_count > CRASH_LOOP_RESTARTS:
        return 0.9
    return 0.8 if container.state.reason == "CrashLoopBackOff" else 0.72


def classify_termination(
    ctx: RuleContext, pod: PodEvidence, container: ContainerEvidence, current: bool
) -> Finding:
    ended = container.last_terminated()
    assert ended is not None  # callers check _troubled first
    base = [termination_line(pod, container, ended)]
    if container.state is not ended and container.state.kind == "waiting":
        base.insert(0, state_line(pod, container))

    def found(cause: RootCause, confidence: float, evidence: list[str], **facts: str) -> Finding:
        return Finding(
            cause=cause,
            confidence=confidence,
            evidence=tuple(evidence),
            pods=(pod.name,),
            container=container.name,
            current=current,
            facts={"container": container.name, "image": container.image, **facts},
        )

    if ended.reason == "OOMKilled":
        return found(
            RootCause.OOM_KILLED,
            0.95,
            [*base, *_memory_facts(pod, container)],
            limit=container.limits.get("memory", ""),
        )
    if _is_start_failure(container, ended):
        message = ended.message or container.state.message
        evidence = [*base, f"command={list(container.command)} args={list(container.args)}"]
        if message and message not in base[-1]:
            evidence.insert(1, f"message: {message[:300]}")
        return found(RootCause.INVALID_COMMAND_OR_ENTRYPOINT, 0.9, evidence)
    verdict = log_verdict(container)
    if verdict is not None:
        said, previous = verdict
        quoted = log_line(pod, container, said.line, previous)
        if said.cause is LogCause.EXEC:
            return found(RootCause.INVALID_COMMAND_OR_ENTRYPOINT, 0.88, [quoted, *base])
        if said.cause is LogCause.OUT_OF_MEMORY:
            return found(RootCause.OOM_KILLED, 0.8, [quoted, *base, *_memory_facts(pod, container)])
        if said.cause is LogCause.PERMISSION:
            return found(
                RootCause.PERMISSION_DENIED,
                0.88,
                [quoted, *base, *_security_facts(pod, container)],
            )
        if said.cause is LogCause.DEPENDENCY:
            return dependency_finding(ctx, pod, container, said, quoted, base, current=current)
    probe_kills = _probe_kills(ctx, pod, container, ended)
    if probe_kills:
        return found(RootCause.LIVENESS_PROBE_FAILURE, 0.8, [*probe_kills, *base])
    evidence = list(base)
    if fatal := quote_fatal(pod, container):
        evidence.append(fatal)
    backoff = ctx.pod_events(pod, "BackOff", container=container)
    if backoff:
        evidence.append(backoff[-1].describe())
    return found(RootCause.CRASH_LOOP, _restart_confidence(ctx, pod, container), evidence)


def _is_start_failure(container: ContainerEvidence, ended: ContainerState) -> bool:
    if ended.reason in ("StartError", "ContainerCannotRun"):
        return True
    waiting = container.state.reason == "RunContainerError"
    message = f"{ended.message} {container.state.message if waiting else ''}"
    return (ended.exit_code in (126, 127, 128) or waiting) and bool(_EXEC_MESSAGE.search(message))


def _probe_kills(
    ctx: RuleContext, pod: PodEvidence, container: ContainerEvidence, ended: ContainerState
) -> list[str]:
    kills = [
        e
        for e in ctx.pod_events(pod, "Killing", container=container)
        if _PROBE_KILL.search(e.message)
    ]
    failures = [
        e
        for e in ctx.pod_events(pod, "Unhealthy", container=container)
        if e.message.startswith(("Liveness probe failed", "Startup probe failed"))
    ]
    if not kills and not (failures and ended.exit_code in (0, 2, 130, 137, 143)):
        return []
    lines = [e.describe() for e in failures[-1:] + kills[-1:]]
    probe = container.probe("liveness") or container.probe("startup")
    if probe is not None:
        lines.append(
            f"{probe.kind}Probe {probe.handler} timeoutSeconds={probe.timeout_seconds} "
            f"periodSeconds={probe.period_seconds} failureThreshold={probe.failure_threshold} "
            f"initialDelaySeconds={probe.initial_delay_seconds}"
        )
    return lines


def _security_facts(pod: PodEvidence, container: ContainerEvidence) -> list[str]:
    facts = []
    for scope, security in (("container", container.security), ("pod", pod.security)):
        parts = []
        if security.read_only_root_filesystem:
            parts.append("readOnlyRootFilesystem: true")
        if security.run_as_non_root:
            parts.append("runAsNonRoot: true")
        if security.run_as_user is not None:
            parts.append(f"runAsUser: {security.run_as_user}")
        if security.capabilities_drop:
            parts.append(f"capabilities.drop: {list(security.capabilities_drop)}")
        if parts:
            facts.append(f"{scope} securityContext " + ", ".join(parts))
    return facts


def container_terminations(ctx: RuleContext) -> list[Finding]:
    findings = []
    for pod in ctx.pods:
        if pod.is_completed or pod.is_evicted:
            continue
        for container in pod.app_containers:
            current = _troubled(ctx, pod, container)
            if current is None:
                continue
            findings.append(classify_termination(ctx, pod, container, current))
    return findings
