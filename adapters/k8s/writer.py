"""The write client (``ClusterWriter``): the only code of ours that changes a cluster.

It exists only when an operator enabled writes (``SYNAPS_K8S_WRITES=enabled``):
``connect_writer`` raises ``WritesDisabled`` otherwise, and the class cannot be
built around it. It has its own ``ApiClient``, optionally from its own kubeconfig
and context, so operators can give the reader and the writer different
credentials. It executes what it is given: the caller has checked the approval
and the arbiter policy; it still checks each call against the tool's schema.

The requests are the ones kubectl sends: ``rollout restart`` is a strategic-merge
patch of the pod template's ``restartedAt`` annotation, ``scale`` a merge patch of
the ``scale`` subresource, ``patch_resources`` (``kubectl set resources``) a
strategic-merge patch of one container (merged by name), ``delete pod`` a DELETE.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec
from kubernetes_asyncio import client

from adapters.k8s import kube_types as k
from adapters.k8s.connection import (
    KubeCredentialsError,
    KubeUnreachable,
    api_error,
    load_configuration,
    raw_call,
)
from domain.tool_calls import ClusterTool, ToolCall, destroys
from services.agents.ports import ToolOutcome, WritesDisabled
from services.agents.tool_catalog import BUILTIN_TOOLS, validate_call

__all__ = ["RESTARTED_AT", "KubeClusterWriter", "WriteSettings", "connect_writer"]

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
Clock = Callable[[], datetime]
_FACTORY = object()  # only connect_writer holds it


class WriteSettings(Protocol):
    """What the factory reads (``synaps.settings.Settings`` has these fields)."""

    @property
    def k8s_writes_enabled(self) -> bool: ...

    @property
    def k8s_write_kubeconfig(self) -> str: ...

    @property
    def k8s_write_context(self) -> str: ...


class _WriteFailed(Exception):
    pass


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def connect_writer(
    settings: WriteSettings,
    *,
    configuration: client.Configuration | None = None,
    in_cluster: bool | None = None,
    clock: Clock = _utc_now,
    request_timeout: float = 15.0,
) -> KubeClusterWriter:
    """A write client with its own connection, or ``WritesDisabled``.

    ``configuration`` replaces the credential lookup (tests, an embedding program);
    it does not replace the switch: without ``k8s_writes_enabled`` nothing connects.
    """
    if not settings.k8s_writes_enabled:
        raise WritesDisabled(
            "writing to the cluster is not enabled (set SYNAPS_K8S_WRITES=enabled)"
        )
    if configuration is None:
        try:
            configuration = await load_configuration(
                kubeconfig=settings.k8s_write_kubeconfig or None,
                context=settings.k8s_write_context or None,
                in_cluster=in_cluster,
            )
        except KubeCredentialsError as exc:
            raise WritesDisabled(f"writes enabled, but {exc}") from None
    return KubeClusterWriter(
        client.ApiClient(configuration),
        clock=clock,
        request_timeout=request_timeout,
        _token=_FACTORY,
    )


class KubeClusterWriter:
    """Rollout restart, scale, patch resources, delete pod; nothing else."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        clock: Clock,
        request_timeout: float,
        _token: object = None,
    ) -> None:
        if _token is not _FACTORY:
            raise TypeError("a cluster writer is made by connect_writer, which checks the switch")
        self.api = api
        self.clock = clock
        self.request_timeout = request_timeout
        self._core = client.CoreV1Api(api)
        self._apps = client.AppsV1Api(api)
        self._tools: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            ClusterTool.ROLLOUT_RESTART: self._rollout_restart,
            ClusterTool.SCALE_DEPLOYMENT: self._scale,
            ClusterTool.PATCH_RESOURCES: self._patch_resources,
            ClusterTool.DELETE_POD: self._delete_pod,
        }

    async def close(self) -> None:
        await self.api.close()

    async def __aenter__(self) -> KubeClusterWriter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def write_tools(self) -> frozenset[str]:
        return frozenset(self._tools)

    def destructive(self, call: ToolCall) -> bool:
        return destroys(call)

    async def run(self, call: ToolCall) -> ToolOutcome:
        def failed(error: str) -> ToolOutcome:
            return ToolOutcome(tool=call.tool, args=call.args, ok=False, error=error)

        tool = self._tools.get(call.tool)
        if tool is None:
            return failed(f"{call.tool} is not a cluster write tool")
        if (invalid := validate_call(call, BUILTIN_TOOLS[call.tool])) is not None:
            return failed(invalid)
        try:
            output = await tool(call.args)
        except (_WriteFailed, KubeUnreachable) as exc:
            return failed(str(exc))
        return ToolOutcome(tool=call.tool, args=call.args, ok=True, output=output)

    async def _send(
        self, subject: str, call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> bytes:
        status, body = await raw_call(call, *args, request_timeout=self.request_timeout, **kwargs)
        if status >= 400:
            raise _WriteFailed(api_error(status, body, subject))
        return body

    async def _patch_deployment(self, ns: str, name: str, patch: dict[str, Any]) -> k.Deployment:
        body = await self._send(
            f"deployment {ns}/{name}",
            self._apps.patch_namespaced_deployment,
            name,
            ns,
            patch,
            _content_type=STRATEGIC_MERGE,
        )
        return msgspec.json.decode(body, type=k.Deployment, strict=False)

    async def _rollout_restart(self, args: dict[str, Any]) -> Any:
        ns, name = args["namespace"], args["deployment"]
        now = self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}
        deployment = await self._patch_deployment(ns, name, patch)
        generation = deployment.metadata.generation
        return {"deployment": name, "restarted_at": now, "generation": generation}

    async def _scale(self, args: dict[str, Any]) -> Any:
        ns, name, replicas = args["namespace"], args["deployment"], args["replicas"]
        body = await self._send(
            f"deployment {ns}/{name}",
            self._apps.patch_namespaced_deployment_scale,
            name,
            ns,
            {"spec": {"replicas": replicas}},
            _content_type=MERGE,
        )
        scale = msgspec.json.decode(body)
        return {
            "deployment": name,
            "replicas": (scale.get("spec") or {}).get("replicas", replicas),
            "current": (scale.get("status") or {}).get("replicas"),
        }

    async def _patch_resources(self, args: dict[str, Any]) -> Any:
        ns, name, container = args["namespace"], args["deployment"], args["container"]
        # A strategic merge adds a container it does not find (and the API then rejects it
        # for lacking an image): say plainly that the name is wrong instead.
        body = await self._send(
            f"deployment {ns}/{name}", self._apps.read_namespaced_deployment, name, ns
        )
        current = msgspec.json.decode(body, type=k.Deployment, strict=False)
        template = current.spec.template or k.PodTemplate()
        names = [c.name for c in template.spec.containers]
        if container not in names:
            raise _WriteFailed(
                f"deployment {ns}/{name} has no container {container!r} (it has {names})"
            )
        resources = {part: args[part] for part in ("limits", "requests") if part in args}
        patch = {
            "spec": {
                "template": {"spec": {"containers": [{"name": container, "resources": resources}]}}
            }
        }
        deployment = await self._patch_deployment(ns, name, patch)
        return {
            "deployment": name,
            "container": container,
            "resources": resources,
            "generation": deployment.metadata.generation,
        }

    async def _delete_pod(self, args: dict[str, Any]) -> Any:
        ns, name = args["namespace"], args["pod"]
        await self._send(f"pod {ns}/{name}", self._core.delete_namespaced_pod, name, ns)
        return {"pod": name, "deleted": True}
