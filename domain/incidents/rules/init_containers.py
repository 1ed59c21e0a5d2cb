"""Init containers that fail (or never finish), so the app containers never start."""

from __future__ import annotations

from datetime import timedelta

from domain.incidents.context import RuleContext
from domain.incidents.facts import quote_fatal, state_line, termination_line
from domain.incidents.findings import Finding
from domain.incidents.pods import ContainerEvidence, PodEvidence
from domain.incidents.rules.terminations import classify_termination
from domain.incidents.taxonomy import RootCause

__all__ = ["init_container_failures"]

# An init container still running after this long is stuck (a wait loop that never ends).
STUCK_AFTER = timedelta(minutes=10)
LOOP_LINES = 5


def _initialized(pod: PodEvidence) -> bool:
    condition = pod.condition("Initialized")
    if condition is not None:
        return condition.status == "True"
    return all(
        c.state.kind != "waiting" or c.state.reason != "PodInitializing" for c in pod.app_containers
    )


def _failed(container: ContainerEvidence) -> bool:
    if container.state.kind == "waiting" and container.state.reason == "CrashLoopBackOff":
        return True
    ended = container.last_terminated()
    return ended is not None and ended.exit_code not in (0, None)


def _looping(container: ContainerEvidence) -> bool:
    """A wait script printing the same line over and over: it is not getting anywhere."""
    if container.log is None:
        return False
    tail = container.log.tail(20)
    return len(tail) >= LOOP_LINES and max(tail.count(line) for line in tail) >= LOOP_LINES


def _context_lines(pod: PodEvidence) -> list[str]:
    lines = []
    condition = pod.condition("Initialized")
    if condition is not None and condition.status != "True":
        lines.append(
            f"pod {pod.name} condition Initialized={condition.status} {condition.reason}".rstrip()
        )
    waiting = [c.name for c in pod.app_containers if c.state.reason == "PodInitializing"]
    if waiting:
        lines.append(f"app containers {', '.join(waiting)} waiting: PodInitializing")
    return lines


def init_container_failures(ctx: RuleContext) -> list[Finding]:
    findings = []
    for pod in ctx.pods:
        if pod.is_completed or _initialized(pod):
            continue
        for container in pod.init_containers:
            ended = container.last_terminated()
            if _failed(container) and ended is not None:
                specific = classify_termination(ctx, pod, container, current=True)
                if specific.cause is RootCause.INVALID_COMMAND_OR_ENTRYPOINT:
                    findings.append(specific)
                    break
                evidence = [termination_line(pod, container, ended)]
                if container.state.kind == "waiting":
                    evidence.insert(
                        0,
                        state_line(pod, container).replace(
                            "state.waiting.reason=", "state.waiting.reason=Init:", 1
                        ),
                    )
                confidence = 0.9
            elif container.state.kind == "running" and (
                not ctx.recent(container.state.started_at, STUCK_AFTER) or _looping(container)
            ):
                evidence = [f"{state_line(pod, container)} since {container.state.started_at}"]
                confidence = 0.75
            else:
                continue
            quoted = quote_fatal(pod, container, last_line_otherwise=True)
            evidence += ([quoted] if quoted else []) + _context_lines(pod)
            backoff = ctx.pod_events(pod, "BackOff", container=container)
            if backoff:
                evidence.append(backoff[-1].describe())
            findings.append(
                Finding(
                    cause=RootCause.INIT_CONTAINER_FAILURE,
                    confidence=confidence,
                    evidence=tuple(evidence),
                    pods=(pod.name,),
                    container=container.name,
                    facts={"container": container.name, "image": container.image},
                )
            )
            break  # init containers run in order: the first failing one blocks the rest
    return findings
