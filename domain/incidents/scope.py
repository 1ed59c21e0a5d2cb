"""Which pods a question is about.

The operator names a workload the way they think of it ("the api deploy",
"inventory-sync", "pod checkout-7d9f..."). Each hint from the question is
matched against controller names, app labels, Service names and pod names;
the first hints that match decide (exact names, then Services, then name
prefixes, then single words of a name). No match means the whole namespace.
"""

from __future__ import annotations

from collections.abc import Sequence

from msgspec import Struct

from domain.incidents.package import EvidencePackage
from domain.incidents.pods import OwnerRef, PodEvidence

__all__ = ["Scope", "resolve_scope"]

_APP_LABELS = ("app", "app.kubernetes.io/name", "app.kubernetes.io/instance", "k8s-app", "name")


class Scope(Struct, frozen=True, kw_only=True):
    target: str | None  # None: the whole namespace
    pods: tuple[str, ...]
    workloads: tuple[OwnerRef, ...] = ()

    @property
    def is_namespace(self) -> bool:
        return self.target is None


def _workload_names(package: EvidencePackage) -> dict[str, list[OwnerRef]]:
    """Top-level controllers by name: a Deployment, not the ReplicaSet it owns."""
    names: dict[str, list[OwnerRef]] = {}
    refs = [p.workload for p in package.pods if p.workload] + [
        w.owner or w.ref for w in package.workloads if w.owner is None or w.owner.kind == "CronJob"
    ]
    for ref in refs:
        bucket = names.setdefault(ref.name, [])
        if ref not in bucket:
            bucket.append(ref)
    return names


def _matches_exactly(pod: PodEvidence, hint: str) -> bool:
    if pod.name == hint or (pod.workload is not None and pod.workload.name == hint):
        return True
    if pod.owner is not None and pod.owner.name == hint:
        return True
    return any(pod.labels.get(label) == hint for label in _APP_LABELS)


def _service_pods(package: EvidencePackage, hint: str) -> list[PodEvidence]:
    service = package.service(hint)
    if service is None or not service.selector:
        return []
    selector = service.selector.items()
    return [p for p in package.pods if selector <= p.labels.items()]


def _prefixed(package: EvidencePackage, hint: str) -> list[PodEvidence]:
    return [p for p in package.pods if p.name.startswith(f"{hint}-")]


def _component(package: EvidencePackage, hint: str) -> list[PodEvidence]:
    """Last resort: "redis" for newsletter-redis, "db" for orders-db (a word of the name)."""
    return [
        p
        for p in package.pods
        if (p.workload is not None and hint in p.workload.name.split("-"))
        or any(c.name == hint for c in p.containers)
    ]


def resolve_scope(package: EvidencePackage, hints: Sequence[str]) -> Scope:
    workload_names = _workload_names(package)
    for strategy in ("exact", "service", "prefix", "component"):
        matched: dict[str, PodEvidence] = {}
        workloads: list[OwnerRef] = []
        targets: list[str] = []
        for hint in hints:
            if strategy == "exact":
                pods = [p for p in package.pods if _matches_exactly(p, hint)]
                found = workload_names.get(hint, [])
            elif strategy == "service":
                pods, found = _service_pods(package, hint), []
            elif strategy == "prefix":
                pods, found = _prefixed(package, hint), []
            else:
                pods, found = _component(package, hint), []
            if not pods and not found:
                continue
            targets.append(hint)
            matched.update((p.name, p) for p in pods)
            workloads.extend(w for w in found if w not in workloads)
            workloads.extend(
                p.workload for p in pods if p.workload is not None and p.workload not in workloads
            )
        if targets:
            return Scope(target=targets[0], pods=tuple(matched), workloads=tuple(workloads))
    return Scope(target=None, pods=tuple(p.name for p in package.pods))
