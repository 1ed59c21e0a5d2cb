"""Evidence from a kubectl JSON dump directory (the layout of ``shared/fixtures/k8s``).

``pods.json`` is required; every other object file is optional. A missing log
file means ``kubectl logs`` failed (container never started, node unreachable),
which is different from an empty log.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TypeVar

import msgspec

from adapters.k8s import kube_types as k
from adapters.k8s.snapshot import ContainerLog, KubeSnapshot, build_package
from domain.incidents.logs import DEFAULT_LOG_CAP_BYTES
from domain.incidents.package import EvidencePackage

__all__ = ["DumpDirectory", "DumpError", "read_snapshot"]

T = TypeVar("T")


class DumpError(Exception):
    """The dump directory is missing or holds a file that is not what its name says."""


def _read_list(directory: Path, name: str, item: type[T], *, required: bool = False) -> list[T]:
    path = directory / name
    if not path.is_file():
        if required:
            raise DumpError(f"{path}: missing (a dump needs at least pods.json)")
        return []
    try:
        return k.decode_list(path.read_bytes(), item)
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: test it first
        raise DumpError(f"{path}: not a kubectl {item.__name__} list ({exc})") from None
    except msgspec.DecodeError as exc:
        raise DumpError(f"{path}: not valid JSON ({exc})") from None


def _read_logs(directory: Path, pods: list[k.Pod]) -> list[ContainerLog]:
    logs: list[ContainerLog] = []
    for pod in pods:
        pod_dir = directory / "logs" / pod.metadata.name
        if not pod_dir.is_dir():
            continue
        for path in sorted(pod_dir.glob("*.log")):
            previous = path.name.endswith(".previous.log")
            container = path.name.removesuffix(".previous.log" if previous else ".log")
            text = path.read_text(encoding="utf-8", errors="replace")
            logs.append(
                ContainerLog(
                    pod=pod.metadata.name, container=container, previous=previous, text=text
                )
            )
    return logs


def _namespace(snapshot: KubeSnapshot) -> str:
    for meta in [p.metadata for p in snapshot.pods] + [e.metadata for e in snapshot.events]:
        if meta.namespace:
            return meta.namespace
    return ""


def read_snapshot(directory: Path, namespace: str | None = None) -> KubeSnapshot:
    if not directory.is_dir():
        raise DumpError(f"{directory}: no such directory")
    pods = _read_list(directory, "pods.json", k.Pod, required=True)
    snapshot = KubeSnapshot(
        namespace=namespace or "",
        pods=pods,
        events=_read_list(directory, "events.json", k.Event),
        deployments=_read_list(directory, "deployments.json", k.Deployment),
        replica_sets=_read_list(directory, "replicasets.json", k.ReplicaSet),
        stateful_sets=_read_list(directory, "statefulsets.json", k.StatefulSet),
        jobs=_read_list(directory, "jobs.json", k.Job),
        nodes=_read_list(directory, "nodes.json", k.Node),
        services=_read_list(directory, "services.json", k.Service),
        endpoints=_read_list(directory, "endpoints.json", k.Endpoints),
        pvcs=_read_list(directory, "pvcs.json", k.PersistentVolumeClaim),
        config_maps=_read_list(directory, "configmaps.json", k.ConfigMap),
        quotas=_read_list(directory, "resourcequotas.json", k.ResourceQuota),
        logs=_read_logs(directory, pods),
    )
    # A dump is a snapshot of one namespace: what its objects say wins over a guess.
    snapshot.namespace = _namespace(snapshot) or namespace or ""
    return snapshot


class DumpDirectory:
    """An ``EvidenceSource`` over a dump directory."""

    def __init__(self, directory: Path, *, log_cap_bytes: int = DEFAULT_LOG_CAP_BYTES) -> None:
        self.directory = directory
        self.log_cap_bytes = log_cap_bytes

    def read(self, namespace: str | None = None) -> EvidencePackage:
        snapshot = read_snapshot(self.directory, namespace)
        return build_package(
            snapshot, source=f"dump:{self.directory}", log_cap_bytes=self.log_cap_bytes
        )

    async def collect(self, namespace: str | None = None) -> EvidencePackage:
        return await asyncio.to_thread(self.read, namespace)
