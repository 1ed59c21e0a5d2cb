"""Evidence from a live cluster through ``kubernetes-asyncio``, read-only.

It lists what ``kubectl get -o json`` would for one namespace (pods, events,
controllers, services, endpoints, PVCs, ConfigMaps, quotas, and the nodes) and
fetches container logs, ``--previous`` too where a container restarted. The
raw JSON is decoded by the same types as a dump, so both sources give the same
package. Objects the credentials may not read (often nodes) are left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from kubernetes_asyncio import client

from adapters.k8s import kube_types as k
from adapters.k8s.connection import (
    KubeCredentialsError,
    KubeUnreachable,
    load_configuration,
    raw_call,
)
from adapters.k8s.snapshot import ContainerLog, KubeSnapshot, build_package
from domain.incidents.logs import DEFAULT_LOG_CAP_BYTES
from domain.incidents.package import EvidencePackage

__all__ = ["ClusterCollector", "CollectorError"]

T = TypeVar("T")
Clock = Callable[[], datetime | None]
_OPTIONAL = (403, 404)  # RBAC without that list verb, or an API the cluster lacks


class CollectorError(Exception):
    """The cluster could not be read (unreachable, unauthorised, no such namespace)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ClusterCollector:
    """An ``EvidenceSource`` over the Kubernetes API."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        namespace: str = "default",
        log_cap_bytes: int = DEFAULT_LOG_CAP_BYTES,
        log_tail_lines: int = 5000,
        request_timeout: float = 15.0,
        concurrency: int = 8,
        clock: Clock = _utc_now,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.log_cap_bytes = log_cap_bytes
        self.log_tail_lines = log_tail_lines
        self.request_timeout = request_timeout
        self.clock = clock
        self._core = client.CoreV1Api(api)
        self._apps = client.AppsV1Api(api)
        self._batch = client.BatchV1Api(api)
        self._slots = asyncio.Semaphore(concurrency)

    @classmethod
    async def connect(
        cls,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        in_cluster: bool | None = None,
        **options: Any,
    ) -> ClusterCollector:
        """From a kubeconfig (``$KUBECONFIG``, ``~/.kube/config``) or the pod's service account."""
        try:
            configuration = await load_configuration(
                kubeconfig=kubeconfig, context=context, in_cluster=in_cluster
            )
        except KubeCredentialsError as exc:
            raise CollectorError(str(exc)) from None
        return cls(client.ApiClient(configuration), **options)

    async def close(self) -> None:
        await self.api.close()

    async def __aenter__(self) -> ClusterCollector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _get(
        self, call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> bytes | None:
        """The raw body of a GET, or None for an answer that says "not for you"."""
        async with self._slots:
            try:
                status, body = await raw_call(
                    call, *args, request_timeout=self.request_timeout, **kwargs
                )
            except KubeUnreachable as exc:
                raise CollectorError(str(exc)) from None
        if status >= 400:
            if status in _OPTIONAL or status == 400:
                return None
            raise CollectorError(f"Kubernetes API answered {status}: {body[:200]!r}")
        return body

    async def _list(
        self, call: Callable[..., Awaitable[Any]], item: type[T], *args: Any, required: bool = False
    ) -> list[T]:
        body = await self._get(call, *args)
        if body is None:
            if required:
                raise CollectorError(f"cannot list {item.__name__} objects")
            return []
        return k.decode_list(body, item)

    async def _log(
        self, pod: str, container: str, namespace: str, previous: bool
    ) -> ContainerLog | None:
        body = await self._get(
            self._core.read_namespaced_pod_log,
            pod,
            namespace,
            container=container,
            previous=previous,
            tail_lines=self.log_tail_lines,
        )
        if body is None:
            return None  # what `kubectl logs` fails on: never started, node unreachable
        text = body.decode("utf-8", errors="replace")
        return ContainerLog(pod=pod, container=container, previous=previous, text=text)

    async def _logs(self, pods: list[k.Pod], namespace: str) -> list[ContainerLog]:
        wanted = []
        for pod in pods:
            statuses = (pod.status.init_container_statuses or []) + (
                pod.status.container_statuses or []
            )
            for status in statuses:
                name = pod.metadata.name
                wanted.append(self._log(name, status.name, namespace, previous=False))
                last = status.last_state
                if status.restart_count > 0 or (last is not None and last.terminated is not None):
                    wanted.append(self._log(name, status.name, namespace, previous=True))
        return [log for log in await asyncio.gather(*wanted) if log is not None]

    async def snapshot(self, namespace: str) -> KubeSnapshot:
        core, apps, batch = self._core, self._apps, self._batch
        pods = await self._list(core.list_namespaced_pod, k.Pod, namespace, required=True)
        try:
            async with asyncio.TaskGroup() as group:
                spawn = group.create_task
                events = spawn(self._list(core.list_namespaced_event, k.Event, namespace))
                deployments = spawn(
                    self._list(apps.list_namespaced_deployment, k.Deployment, namespace)
                )
                replica_sets = spawn(
                    self._list(apps.list_namespaced_replica_set, k.ReplicaSet, namespace)
                )
                stateful_sets = spawn(
                    self._list(apps.list_namespaced_stateful_set, k.StatefulSet, namespace)
                )
                jobs = spawn(self._list(batch.list_namespaced_job, k.Job, namespace))
                nodes = spawn(self._list(core.list_node, k.Node))
                services = spawn(self._list(core.list_namespaced_service, k.Service, namespace))
                endpoints = spawn(
                    self._list(core.list_namespaced_endpoints, k.Endpoints, namespace)
                )
                pvcs = spawn(
                    self._list(
                        core.list_namespaced_persistent_volume_claim,
                        k.PersistentVolumeClaim,
                        namespace,
                    )
                )
                config_maps = spawn(
                    self._list(core.list_namespaced_config_map, k.ConfigMap, namespace)
                )
                quotas = spawn(
                    self._list(core.list_namespaced_resource_quota, k.ResourceQuota, namespace)
                )
                logs = spawn(self._logs(pods, namespace))
        except* CollectorError as failures:
            raise failures.exceptions[0] from None
        return KubeSnapshot(
            namespace=namespace,
            pods=pods,
            events=events.result(),
            deployments=deployments.result(),
            replica_sets=replica_sets.result(),
            stateful_sets=stateful_sets.result(),
            jobs=jobs.result(),
            nodes=nodes.result(),
            services=services.result(),
            endpoints=endpoints.result(),
            pvcs=pvcs.result(),
            config_maps=config_maps.result(),
            quotas=quotas.result(),
            logs=logs.result(),
        )

    async def collect(self, namespace: str | None = None) -> EvidencePackage:
        namespace = namespace or self.namespace
        snapshot = await self.snapshot(namespace)
        host = getattr(self.api.configuration, "host", "")
        return build_package(
            snapshot,
            source=f"cluster:{host}",
            collected_at=self.clock(),
            log_cap_bytes=self.log_cap_bytes,
        )
