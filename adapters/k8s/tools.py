"""The read-only cluster tools (``ClusterReader``) over ``kubernetes-asyncio``.

Only GETs: a pod, a container's log, an object's events, a Deployment's rollout
status, a Service's endpoints, pods by label. Each call is checked against the
tool's JSON schema first; a failure (not found, forbidden, unreachable) is an
outcome with ``ok=False``, never an exception, so the DevOps step can record it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

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
from adapters.k8s.tool_views import (
    endpoints_view,
    events_view,
    log_view,
    pod_line,
    pod_view,
    rollout_status,
)
from domain.incidents.redaction import Redactor
from domain.tool_calls import ClusterTool, ToolCall
from services.agents.ports import ToolOutcome
from services.agents.tool_catalog import BUILTIN_TOOLS, validate_call

__all__ = ["DEFAULT_TAIL_LINES", "ClusterTools", "ToolFailed"]

T = TypeVar("T")
DEFAULT_TAIL_LINES = 200
DEFAULT_LISTED_PODS = 50
_DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"


class ToolFailed(Exception):
    """A tool could not answer (the message says why); becomes ``ok=False``."""


class ClusterTools:
    """A ``ClusterReader``: read-only tools on their own ``ApiClient``."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        request_timeout: float = 15.0,
        log_cap_bytes: int = 32 * 1024,
        redactor: Redactor | None = None,
    ) -> None:
        self.api = api
        self.request_timeout = request_timeout
        self.log_cap_bytes = log_cap_bytes
        self.redactor = redactor or Redactor()
        self._core = client.CoreV1Api(api)
        self._apps = client.AppsV1Api(api)
        self._tools: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            ClusterTool.GET_POD: self._get_pod,
            ClusterTool.GET_POD_LOGS: self._get_pod_logs,
            ClusterTool.GET_EVENTS: self._get_events,
            ClusterTool.ROLLOUT_STATUS: self._rollout_status,
            ClusterTool.GET_ENDPOINTS: self._get_endpoints,
            ClusterTool.LIST_PODS: self._list_pods,
        }

    @classmethod
    async def connect(
        cls,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        in_cluster: bool | None = None,
        **options: Any,
    ) -> ClusterTools:
        """From a kubeconfig or the pod's service account (``KubeCredentialsError`` if none)."""
        configuration = await load_configuration(
            kubeconfig=kubeconfig, context=context, in_cluster=in_cluster
        )
        return cls(client.ApiClient(configuration), **options)

    async def close(self) -> None:
        await self.api.close()

    async def __aenter__(self) -> ClusterTools:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def read_tools(self) -> frozenset[str]:
        return frozenset(self._tools)

    async def run(self, call: ToolCall) -> ToolOutcome:
        def failed(error: str) -> ToolOutcome:
            return ToolOutcome(tool=call.tool, args=call.args, ok=False, error=error)

        tool = self._tools.get(call.tool)
        if tool is None:
            return failed(f"{call.tool} is not a read-only cluster tool")
        if (invalid := validate_call(call, BUILTIN_TOOLS[call.tool])) is not None:
            return failed(invalid)
        try:
            output = await tool(call.args)
        except (ToolFailed, KubeUnreachable, KubeCredentialsError) as exc:
            return failed(str(exc))
        return ToolOutcome(tool=call.tool, args=call.args, ok=True, output=output)

    # -- reading ------------------------------------------------------------------------

    async def _read(
        self, subject: str, call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> bytes:
        status, body = await raw_call(call, *args, request_timeout=self.request_timeout, **kwargs)
        if status >= 400:
            raise ToolFailed(api_error(status, body, subject))
        return body

    async def _object(
        self, kind: type[T], subject: str, call: Callable[..., Awaitable[Any]], *args: Any
    ) -> T:
        body = await self._read(subject, call, *args)
        return msgspec.json.decode(body, type=kind, strict=False)

    async def _optional(
        self, kind: type[T], subject: str, call: Callable[..., Awaitable[Any]], *args: Any
    ) -> T | None:
        status, body = await raw_call(call, *args, request_timeout=self.request_timeout)
        if status == 404:
            return None
        if status >= 400:
            raise ToolFailed(api_error(status, body, subject))
        return msgspec.json.decode(body, type=kind, strict=False)

    # -- the tools ----------------------------------------------------------------------

    async def _get_pod(self, args: dict[str, Any]) -> Any:
        ns, name = args["namespace"], args["pod"]
        pod = await self._object(
            k.Pod, f"pod {ns}/{name}", self._core.read_namespaced_pod, name, ns
        )
        return pod_view(pod, self.redactor)

    async def _default_container(self, ns: str, name: str) -> str:
        """What ``kubectl logs`` picks without ``-c``: the annotated default, else the first."""
        pod = await self._object(
            k.Pod, f"pod {ns}/{name}", self._core.read_namespaced_pod, name, ns
        )
        annotated = (pod.metadata.annotations or {}).get(_DEFAULT_CONTAINER)
        if annotated:
            return annotated
        if not pod.spec.containers:
            raise ToolFailed(f"pod {ns}/{name} has no containers")
        return pod.spec.containers[0].name

    async def _get_pod_logs(self, args: dict[str, Any]) -> Any:
        ns, name = args["namespace"], args["pod"]
        container = args.get("container") or await self._default_container(ns, name)
        previous = bool(args.get("previous", False))
        body = await self._read(
            f"{'previous ' if previous else ''}log of {ns}/{name} container {container}",
            self._core.read_namespaced_pod_log,
            name,
            ns,
            container=container,
            previous=previous,
            tail_lines=args.get("tail_lines", DEFAULT_TAIL_LINES),
            limit_bytes=self.log_cap_bytes * 4,
        )
        return log_view(
            pod=name,
            container=container,
            previous=previous,
            text=body.decode("utf-8", errors="replace"),
            cap_bytes=self.log_cap_bytes,
            redactor=self.redactor,
        )

    async def _get_events(self, args: dict[str, Any]) -> Any:
        ns, name, kind = args["namespace"], args["name"], args.get("kind", "Pod")
        body = await self._read(
            f"events of {kind} {ns}/{name}",
            self._core.list_namespaced_event,
            ns,
            field_selector=f"involvedObject.name={name},involvedObject.kind={kind}",
        )
        return events_view(k.decode_list(body, k.Event), self.redactor)

    async def _rollout_status(self, args: dict[str, Any]) -> Any:
        ns, name = args["namespace"], args["deployment"]
        deployment = await self._object(
            k.Deployment,
            f"deployment {ns}/{name}",
            self._apps.read_namespaced_deployment,
            name,
            ns,
        )
        return rollout_status(deployment)

    async def _get_endpoints(self, args: dict[str, Any]) -> Any:
        ns, name = args["namespace"], args["service"]
        subject = f"service {ns}/{name}"
        service = await self._optional(
            k.Service, subject, self._core.read_namespaced_service, name, ns
        )
        endpoints = await self._optional(
            k.Endpoints, subject, self._core.read_namespaced_endpoints, name, ns
        )
        if service is None and endpoints is None:
            raise ToolFailed(f"{subject} not found")
        return endpoints_view(name, service, endpoints)

    async def _list_pods(self, args: dict[str, Any]) -> Any:
        ns, selector = args["namespace"], args.get("label_selector", "")
        limit = args.get("limit", DEFAULT_LISTED_PODS)
        options: dict[str, Any] = {"limit": limit}
        if selector:
            options["label_selector"] = selector
        body = await self._read(f"pods in {ns}", self._core.list_namespaced_pod, ns, **options)
        pods = k.decode_list(body, k.Pod)
        return {
            "label_selector": selector,
            "pods": [pod_line(p) for p in pods[:limit]],
            "truncated": len(pods) >= limit,
        }
