"""Containers that never start: the image cannot be pulled, or the kubelet cannot build
the container from its spec (missing ConfigMap/Secret, runAsNonRoot, bad command)."""

from __future__ import annotations

import re

from domain.incidents.context import RuleContext
from domain.incidents.facts import state_line
from domain.incidents.findings import Finding
from domain.incidents.log_signals import LogCause, read_log_tail
from domain.incidents.pods import ContainerEvidence, PodEvidence
from domain.incidents.taxonomy import RootCause

__all__ = ["creation_failures", "image_pull_failures"]

_PULL_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
_AUTH = re.compile(
    r"401 Unauthorized|403 Forbidden|\bunauthorized\b|pull access denied|authorization failed"
    r"|failed to fetch (?:anonymous|oauth) token|no basic auth credentials|\bdenied:"
    r"|requested access to the resource is denied|authentication required|insufficient_scope"
    r"|access denied|unable to retrieve some image pull secrets|invalid username/password"
    r"|status: 401|status: 403",
    re.IGNORECASE,
)
_NOT_FOUND = re.compile(
    r"not found|NotFound|manifest unknown|name unknown|no such host|InvalidImageName"
    r"|couldn't parse image reference|invalid reference format|no match for platform",
    re.IGNORECASE,
)
_MISSING_CONFIG = re.compile(
    r"(?:secret|configmap) \"[^\"]+\" not found|couldn't find key \S+ in (?:ConfigMap|Secret)",
    re.IGNORECASE,
)
_NON_ROOT = re.compile(r"runAsNonRoot|non-numeric user|image will run as root", re.IGNORECASE)


def _pull_messages(ctx: RuleContext, pod: PodEvidence, container: ContainerEvidence) -> list[str]:
    events = ctx.pod_events(pod, "Failed", "BackOff", "ErrImagePull", container=container)
    failed = [e for e in events if "pull" in e.message.lower() or "image" in e.message.lower()]
    # The most telling line first: the registry's own answer, then kubelet's summaries.
    failed.sort(key=lambda e: not e.message.startswith("Failed to pull image"))
    return [e.describe() for e in failed]


def image_pull_failures(ctx: RuleContext) -> list[Finding]:
    findings = []
    for pod in ctx.pods:
        secret_events = [
            e.describe() for e in ctx.pod_events(pod, "FailedToRetrieveImagePullSecret")
        ]
        for container in pod.containers:
            if container.state.kind != "waiting" or container.state.reason not in _PULL_REASONS:
                continue
            messages = _pull_messages(ctx, pod, container)
            text = " ".join([container.state.message, *messages, *secret_events])
            auth = bool(_AUTH.search(text))
            evidence = [state_line(pod, container), *messages[:2]]
            if auth:
                evidence.extend(secret_events[:1])
                pull_secrets = ", ".join(pod.image_pull_secrets) or "none"
                evidence.append(f"image {container.image}; imagePullSecrets: {pull_secrets}")
            else:
                evidence.append(f"image {container.image}")
            confidence = 0.92 if auth or _NOT_FOUND.search(text) else 0.85
            findings.append(
                Finding(
                    cause=RootCause.IMAGE_PULL_AUTH if auth else RootCause.IMAGE_PULL_ERROR,
                    confidence=confidence,
                    evidence=tuple(evidence),
                    pods=(pod.name,),
                    container=container.name,
                    facts={
                        "container": container.name,
                        "image": container.image,
                        "pull_secrets": ",".join(pod.image_pull_secrets),
                    },
                )
            )
    return findings


def _creation_cause(
    ctx: RuleContext, pod: PodEvidence, container: ContainerEvidence
) -> tuple[RootCause, float, list[str]] | None:
    state = container.state
    if state.kind != "waiting":
        return None
    events = [e.describe() for e in ctx.pod_events(pod, "Failed", container=container)]
    events = [e for e in events if "pull" not in e.lower()]
    text = " ".join([state.message, *events])
    if state.reason == "CreateContainerConfigError":
        if _NON_ROOT.search(text):
            return RootCause.PERMISSION_DENIED, 0.9, events[-1:]
        return RootCause.CONFIG_MISSING, 0.92 if _MISSING_CONFIG.search(text) else 0.8, events[-1:]
    if (
        state.reason in ("CreateContainerError", "RunContainerError")
        and not container.last_terminated()
    ):
        said = read_log_tail([text])
        if said is not None and said.cause is LogCause.PERMISSION and "exec" not in text:
            return RootCause.PERMISSION_DENIED, 0.85, events[-1:]
        if "mount" in text.lower() and "exec" not in text.lower():
            return RootCause.VOLUME_MOUNT_FAILURE, 0.75, events[-1:]
        return RootCause.INVALID_COMMAND_OR_ENTRYPOINT, 0.88, events[-1:]
    return None


def creation_failures(ctx: RuleContext) -> list[Finding]:
    findings = []
    for pod in ctx.pods:
        for container in pod.containers:
            found = _creation_cause(ctx, pod, container)
            if found is None:
                continue
            cause, confidence, events = found
            evidence = [state_line(pod, container), *events]
            refs = [
                f"{e.name} <- {'secret ' + e.secret if e.secret else f'configMap {e.config_map}'}"
                f"/{e.key}"
                for e in container.env
                if e.secret or e.config_map
            ]
            missing = _MISSING_CONFIG.search(" ".join([container.state.message, *events]))
            if cause is RootCause.CONFIG_MISSING and refs:
                evidence.append("env from: " + "; ".join(refs[:4]))
            if cause is RootCause.INVALID_COMMAND_OR_ENTRYPOINT:
                evidence.append(f"command={list(container.command)} args={list(container.args)}")
            findings.append(
                Finding(
                    cause=cause,
                    confidence=confidence,
                    evidence=tuple(evidence),
                    pods=(pod.name,),
                    container=container.name,
                    facts={
                        "container": container.name,
                        "image": container.image,
                        "missing": missing.group(0) if missing else "",
                    },
                )
            )
    return findings
