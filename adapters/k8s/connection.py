"""How every Kubernetes client of ours connects and talks: credentials from a kubeconfig
or the pod's service account, and raw calls whose JSON we decode ourselves.

The evidence collector, the read-only tools and the write client each build their
own ``ApiClient`` from here, so they share the rules but never a connection (the
write client may even use different credentials).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import msgspec
from kubernetes_asyncio import client, config

__all__ = [
    "KubeCredentialsError",
    "KubeUnreachable",
    "api_error",
    "load_configuration",
    "raw_call",
]


class KubeCredentialsError(Exception):
    """No usable kubeconfig or in-cluster service account."""


class KubeUnreachable(Exception):
    """The API server did not answer (refused, reset, timed out)."""


async def load_configuration(
    *, kubeconfig: str | None = None, context: str | None = None, in_cluster: bool | None = None
) -> client.Configuration:
    """From ``kubeconfig`` (else ``$KUBECONFIG``, ``~/.kube/config``) or, inside a pod
    with no kubeconfig named, the pod's service account."""
    configuration = client.Configuration()
    use_cluster = in_cluster
    if use_cluster is None:
        use_cluster = kubeconfig is None and "KUBERNETES_SERVICE_HOST" in os.environ
    try:
        if use_cluster:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            await config.load_kube_config(
                config_file=kubeconfig, context=context, client_configuration=configuration
            )
    except (config.ConfigException, OSError) as exc:
        raise KubeCredentialsError(f"no usable Kubernetes credentials: {exc}") from None
    return configuration


async def raw_call(
    call: Callable[..., Awaitable[Any]], *args: Any, request_timeout: float, **kwargs: Any
) -> tuple[int, bytes]:
    """(status, body) of one API call, without the client's model classes: we decode
    the JSON with our own types, and a 4xx is an answer, not an exception."""
    try:
        response = await call(
            *args, _preload_content=False, _request_timeout=request_timeout, **kwargs
        )
    except (OSError, TimeoutError, aiohttp.ClientError) as exc:
        raise KubeUnreachable(f"Kubernetes API unreachable: {exc}") from None
    try:
        body: bytes = await response.read()
        status: int = response.status
    finally:
        response.release()
    return status, body


def api_error(status: int, body: bytes, subject: str) -> str:
    """A refusal of the API server in one line, with its own ``Status`` message."""
    try:
        document = msgspec.json.decode(body)
        message = str(document.get("message", "")) if isinstance(document, dict) else ""
    except msgspec.DecodeError:
        message = body[:200].decode("utf-8", errors="replace")
    if status == 404:
        return f"{subject} not found"
    if status in (401, 403):
        return f"not allowed on {subject}: {message}".rstrip(": ")
    return f"Kubernetes API answered {status} for {subject}: {message}".rstrip(": ")
