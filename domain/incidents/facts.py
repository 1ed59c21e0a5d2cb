"""How evidence lines are worded: the kubectl field path and its value, verbatim,
so an operator can find the same fact with ``kubectl get -o yaml``."""

from __future__ import annotations

from collections.abc import Mapping

from domain.incidents.cluster import KubeEvent
from domain.incidents.log_signals import fatal_line
from domain.incidents.pods import ContainerEvidence, ContainerState, PodEvidence

__all__ = [
    "container_label",
    "event_line",
    "labels_text",
    "log_line",
    "quote_fatal",
    "state_line",
    "termination_line",
]


def labels_text(labels: Mapping[str, str] | None) -> str:
    """``app=web,tier=front``: how kubectl writes a selector."""
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def container_label(pod: PodEvidence, container: ContainerEvidence) -> str:
    kind = "init container" if container.init else "container"
    return f"pod {pod.name} {kind} {container.name}"


def state_line(pod: PodEvidence, container: ContainerEvidence) -> str:
    state = container.state
    parts = [container_label(pod, container)]
    if state.kind == "waiting":
        parts.append(f"state.waiting.reason={state.reason}")
        # The back-off message only repeats the pod's name; other reasons say why.
        if state.message and state.reason != "CrashLoopBackOff":
            parts.append(f'message="{state.message[:240]}"')
    elif state.kind == "terminated":
        parts.append(f"state.terminated.reason={state.reason} exitCode={state.exit_code}")
    elif state.kind == "running":
        parts.append(f"state=running ready={str(container.ready).lower()}")
    parts.append(f"restartCount={container.restart_count}")
    return " ".join(parts)


def termination_line(pod: PodEvidence, container: ContainerEvidence, state: ContainerState) -> str:
    where = "state" if state is container.state else "lastState"
    line = (
        f"{container_label(pod, container)} {where}.terminated.reason={state.reason or 'none'} "
        f"exitCode={state.exit_code}"
    )
    if state.message:
        line += f' message="{state.message.strip()[:240]}"'
    return line + f" restartCount={container.restart_count}"


def event_line(event: KubeEvent) -> str:
    return event.describe()


def log_line(pod: PodEvidence, container: ContainerEvidence, line: str, previous: bool) -> str:
    flag = " --previous" if previous else ""
    return f"kubectl logs {pod.name} -c {container.name}{flag}: {line}"


def quote_fatal(
    pod: PodEvidence, container: ContainerEvidence, *, last_line_otherwise: bool = False
) -> str | None:
    """The error line a human would quote from the logs, previous instance first."""
    for log, previous in ((container.previous_log, True), (container.log, False)):
        if log is None:
            continue
        line = fatal_line(log.lines())
        if line is None and last_line_otherwise and log.tail(1):
            line = log.tail(1)[0]
        if line:
            return log_line(pod, container, line, previous)
    return None
