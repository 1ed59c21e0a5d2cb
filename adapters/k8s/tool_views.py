"""What the read-only cluster tools answer: small JSON-ready views of Kubernetes objects.

Every view is bounded (a log tail under a byte cap, the newest events, a page of
pods) and carries no secret value: Secrets appear by name only, a literal env
value that looks like a credential is redacted, and all text passes the same
redactor as evidence bound for a model.
"""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.k8s import kube_types as k
from adapters.k8s.object_mapping import event_evidence, service_evidence
from adapters.k8s.pod_mapping import pod_evidence
from domain.incidents.logs import bound_log
from domain.incidents.pods import ContainerEvidence, EnvFact
from domain.incidents.redaction import Redactor

__all__ = [
    "MAX_EVENTS",
    "endpoints_view",
    "events_view",
    "log_view",
    "pod_line",
    "pod_view",
    "rollout_status",
]

MAX_EVENTS = 30


def _env_without_secrets(env: tuple[EnvFact, ...], redactor: Redactor) -> tuple[EnvFact, ...]:
    """Env fed from a Secret has no value here already; a literal ``DB_PASSWORD=...`` is
    redacted as the redactor would redact that assignment in a log line."""
    cleaned = []
    for original in env:
        fact = original
        if fact.value is not None:
            line = f"{fact.name}={fact.value}"
            redacted = redactor.redact(line)
            if redacted != line:
                prefix = f"{fact.name}="
                value = redacted[len(prefix) :] if redacted.startswith(prefix) else "[REDACTED]"
                fact = msgspec.structs.replace(fact, value=value)
        cleaned.append(fact)
    return tuple(cleaned)


def _container(container: ContainerEvidence, redactor: Redactor) -> dict[str, Any]:
    safe = msgspec.structs.replace(container, env=_env_without_secrets(container.env, redactor))
    view: dict[str, Any] = msgspec.to_builtins(safe)
    for logs in ("log", "previous_log"):  # the logs tool reads logs; a pod view has none
        view.pop(logs, None)
    return view


def pod_view(pod: k.Pod, redactor: Redactor) -> dict[str, Any]:
    evidence = pod_evidence(pod, {}, None)
    view: dict[str, Any] = msgspec.to_builtins(msgspec.structs.replace(evidence, containers=()))
    view["containers"] = [_container(c, redactor) for c in evidence.containers]
    cleaned: dict[str, Any] = redactor.redact_data(view)
    return cleaned


def _state_text(container: ContainerEvidence) -> str:
    state = container.state
    return f"{state.kind} {state.reason}".strip() + (" ready" if container.ready else "")


def pod_line(pod: k.Pod) -> dict[str, Any]:
    """One pod as ``kubectl get pods -o wide`` would show it, plus container states."""
    evidence = pod_evidence(pod, {}, None)
    apps = evidence.app_containers
    return {
        "name": evidence.name,
        "phase": evidence.reason or evidence.phase,
        "ready": f"{sum(1 for c in apps if c.ready)}/{len(apps)}",
        "restarts": evidence.restarts(),
        "node": evidence.node_name,
        "owner": str(evidence.owner) if evidence.owner else None,
        "labels": evidence.labels,
        "containers": {c.name: _state_text(c) for c in evidence.containers},
    }


def events_view(events: list[k.Event], redactor: Redactor) -> dict[str, Any]:
    """The newest ``MAX_EVENTS`` events, oldest first, as ``kubectl get events`` sorts them."""
    normalised = sorted(
        (event_evidence(e) for e in events),
        key=lambda e: e.last_seen.timestamp() if e.last_seen else 0.0,
    )
    shown = normalised[-MAX_EVENTS:]
    view = {"total": len(normalised), "events": msgspec.to_builtins(shown)}
    cleaned: dict[str, Any] = redactor.redact_data(view)
    return cleaned


def log_view(
    *, pod: str, container: str, previous: bool, text: str, cap_bytes: int, redactor: Redactor
) -> dict[str, Any]:
    excerpt = bound_log(text, cap_bytes)
    return {
        "pod": pod,
        "container": container,
        "previous": previous,
        "lines": len(excerpt.lines()),
        "truncated": excerpt.truncated,
        "text": redactor.redact(excerpt.text),
    }


def rollout_status(deployment: k.Deployment) -> dict[str, Any]:
    """``kubectl rollout status`` without waiting: the same checks, in the same order."""
    meta, spec, status = deployment.metadata, deployment.spec, deployment.status
    name = meta.name
    desired = spec.replicas if spec.replicas is not None else 1
    updated, available = status.updated_replicas or 0, status.available_replicas or 0
    current = status.replicas or 0
    progressing = next((c for c in status.conditions or [] if c.type == "Progressing"), None)
    complete = False
    if (meta.generation or 0) > (status.observed_generation or 0):
        message = "Waiting for deployment spec update to be observed..."
    elif progressing is not None and progressing.reason == "ProgressDeadlineExceeded":
        message = f'deployment "{name}" exceeded its progress deadline'
    elif updated < desired:
        message = (
            f'Waiting for deployment "{name}" rollout to finish: {updated} out of {desired} '
            "new replicas have been updated..."
        )
    elif current > updated:
        message = (
            f'Waiting for deployment "{name}" rollout to finish: {current - updated} old '
            "replicas are pending termination..."
        )
    elif available < updated:
        message = (
            f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} '
            "updated replicas are available..."
        )
    else:
        message, complete = f'deployment "{name}" successfully rolled out', True
    return {
        "deployment": name,
        "complete": complete,
        "message": message,
        "desired": desired,
        "current": current,
        "updated": updated,
        "ready": status.ready_replicas or 0,
        "available": available,
        "unavailable": status.unavailable_replicas or 0,
        "generation": meta.generation,
        "observed_generation": status.observed_generation,
        "conditions": [
            {"type": c.type, "status": c.status, "reason": c.reason, "message": c.message}
            for c in status.conditions or []
        ],
    }


def endpoints_view(name: str, service: k.Service | None, endpoints: k.Endpoints | None) -> Any:
    """The Service's selector and ports with the pods behind it, ready and not ready;
    ``ready_addresses`` is None when there is no Endpoints object at all."""
    found = service or k.Service(metadata=k.ObjectMeta(name=name))
    view: dict[str, Any] = msgspec.to_builtins(service_evidence(found, endpoints))
    view["service_exists"] = service is not None
    view["endpoints_exist"] = endpoints is not None
    return view
