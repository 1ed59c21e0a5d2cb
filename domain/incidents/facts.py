"""How evidence lines are worded: the kubectl field path and its value, verbatim,
so an operator can find the same fact with ``kubectl get -o yaml``."""

from __future__ import annotations

from domain.incidents.cluster import KubeEvent
from domain.incidents.pods import ContainerEvidence, ContainerState, PodEvidence

__all__ = ["container_label", "event_line", "log_line", "state_line", "termination_line"]


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
