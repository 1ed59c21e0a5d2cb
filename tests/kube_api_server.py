"""A local stand-in for the Kubernetes API server, serving one dump directory.

It answers the real API paths (core/v1, apps/v1, batch/v1, pods/log) the way
the API server does: List documents filtered by ``labelSelector`` and
``fieldSelector``, single objects (404 ``Status`` when absent), 400 for a log
that does not exist (container never started, no previous instance),
honouring ``tailLines``.

It also accepts the writes the write client sends (PATCH of a Deployment or its
``scale`` subresource, DELETE of a pod) and records each one, method, path,
content type and body, so a test can assert exactly what was written, or that
nothing was. Writes are recorded, not applied: the dump stays what it was.

Every request, routed or not, is recorded with its method; a path put in
``forbidden`` is answered 403 with the ``Status`` RBAC sends.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = ["FakeKubeApi", "Write", "serve_cluster", "serve_dump"]

NAMESPACED = {
    "/api/v1/namespaces/{ns}/pods": "pods.json",
    "/api/v1/namespaces/{ns}/events": "events.json",
    "/api/v1/namespaces/{ns}/services": "services.json",
    "/api/v1/namespaces/{ns}/endpoints": "endpoints.json",
    "/api/v1/namespaces/{ns}/persistentvolumeclaims": "pvcs.json",
    "/api/v1/namespaces/{ns}/configmaps": "configmaps.json",
    "/api/v1/namespaces/{ns}/resourcequotas": "resourcequotas.json",
    "/apis/apps/v1/namespaces/{ns}/deployments": "deployments.json",
    "/apis/apps/v1/namespaces/{ns}/replicasets": "replicasets.json",
    "/apis/apps/v1/namespaces/{ns}/statefulsets": "statefulsets.json",
    "/apis/batch/v1/namespaces/{ns}/jobs": "jobs.json",
}
PATCH_TYPES = (
    "application/strategic-merge-patch+json",
    "application/merge-patch+json",
    "application/json-patch+json",
)


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    content_type: str
    body: Any  # the decoded JSON body, None for none


@dataclass
class FakeKubeApi:
    url: str
    requests: list[str] = field(default_factory=list)  # every path and query, in order
    writes: list[Write] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path and query)
    forbidden: set[str] = field(default_factory=set)  # paths answered 403 Forbidden


def _status(code: int, message: str, reason: str = "") -> web.Response:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return web.json_response(body, status=code)


def _not_found(resource: str, name: str) -> web.Response:
    return _status(404, f'{resource} "{name}" not found', "NotFound")


def _field(item: dict[str, Any], path: str) -> str:
    value: Any = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def _selected(item: dict[str, Any], selector: str, *, labels: bool) -> bool:
    """Equality-based selectors (``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``), ANDed."""
    values = (item.get("metadata") or {}).get("labels") or {} if labels else None
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, wanted = (s.strip() for s in term.split("!=", 1))
            have = values.get(key) if values is not None else _field(item, key)
            if have == wanted:
                return False
        elif "=" in term:
            key, wanted = (s.strip().lstrip("=") for s in term.split("=", 1))
            have = values.get(key) if values is not None else _field(item, key)
            if have != wanted:
                return False
        elif values is not None and term.startswith("!"):
            if term[1:] in values:
                return False
        elif values is not None and term not in values:
            return False
    return True


def build_app(dump: Path, namespace: str, api: FakeKubeApi) -> web.Application:
    def items(filename: str, ns: str) -> list[dict[str, Any]]:
        path = dump / filename
        if ns != namespace or not path.is_file():
            return []
        listed: list[dict[str, Any]] = json.loads(path.read_bytes()).get("items") or []
        return listed

    def find(filename: str, ns: str, name: str) -> dict[str, Any] | None:
        return next((i for i in items(filename, ns) if i["metadata"]["name"] == name), None)

    def listing(filename: str) -> web.Handler:
        async def handle(request: web.Request) -> web.Response:
            api.requests.append(request.path_qs)
            ns = request.match_info.get("ns", namespace)
            query = request.query
            if "labelSelector" not in query and "fieldSelector" not in query:
                path = dump / filename
                if ns != namespace or not path.is_file():
                    return web.json_response({"kind": "List", "apiVersion": "v1", "items": []})
                return web.Response(body=path.read_bytes(), content_type="application/json")
            chosen = [
                i
                for i in items(filename, ns)
                if _selected(i, query.get("labelSelector", ""), labels=True)
                and _selected(i, query.get("fieldSelector", ""), labels=False)
            ]
            return web.json_response({"kind": "List", "apiVersion": "v1", "items": chosen})

        return handle

    def single(filename: str) -> web.Handler:
        resource = filename.removesuffix(".json")

        async def handle(request: web.Request) -> web.Response:
            api.requests.append(request.path_qs)
            name = request.match_info["name"]
            found = find(filename, request.match_info["ns"], name)
            return _not_found(resource, name) if found is None else web.json_response(found)

        return handle

    async def pod_log(request: web.Request) -> web.Response:
        api.requests.append(request.path_qs)
        pod, container = request.match_info["pod"], request.query.get("container", "")
        previous = request.query.get("previous") in ("true", "True", "1")
        path = dump / "logs" / pod / f"{container}{'.previous' if previous else ''}.log"
        if not path.is_file():
            return _status(400, f'container "{container}" in pod "{pod}" is waiting to start')
        text = path.read_text()
        if tail := request.query.get("tailLines"):
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail) :])
        return web.Response(text=text, content_type="text/plain")

    async def record(request: web.Request) -> web.Response | None:
        """Record a write; a bad patch type is refused as the API server does (415)."""
        api.requests.append(request.path_qs)
        content_type = request.headers.get("Content-Type", "")
        raw = await request.read()
        api.writes.append(
            Write(request.method, request.path_qs, content_type, json.loads(raw) if raw else None)
        )
        if request.method == "PATCH" and content_type not in PATCH_TYPES:
            return _status(415, f"the media type {content_type!r} is not supported", "Unsupported")
        return None

    async def patch_deployment(request: web.Request) -> web.Response:
        if (refused := await record(request)) is not None:
            return refused
        name = request.match_info["name"]
        found = find("deployments.json", request.match_info["ns"], name)
        return _not_found("deployments.apps", name) if found is None else web.json_response(found)

    async def patch_scale(request: web.Request) -> web.Response:
        if (refused := await record(request)) is not None:
            return refused
        name, ns = request.match_info["name"], request.match_info["ns"]
        found = find("deployments.json", ns, name)
        if found is None:
            return _not_found("deployments.apps", name)
        replicas = (api.writes[-1].body or {}).get("spec", {}).get("replicas")
        scale = {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas},
            "status": {"replicas": (found.get("status") or {}).get("replicas", 0)},
        }
        return web.json_response(scale)

    async def delete_pod(request: web.Request) -> web.Response:
        await record(request)
        name = request.match_info["name"]
        found = find("pods.json", request.match_info["ns"], name)
        return _not_found("pods", name) if found is None else web.json_response(found)

    @web.middleware
    async def observe(request: web.Request, handler: web.Handler) -> web.StreamResponse:
        api.calls.append((request.method, request.path_qs))
        if request.path in api.forbidden:
            message = (
                f'{request.path} is forbidden: User "system:serviceaccount:synaps:worker" '
                f"cannot {request.method.lower()} this resource"
            )
            return _status(403, message, "Forbidden")
        return await handler(request)

    app = web.Application(middlewares=[observe])
    for route, filename in NAMESPACED.items():
        app.router.add_get(route, listing(filename))
        app.router.add_get(route + "/{name}", single(filename))
    app.router.add_get("/api/v1/nodes", listing("nodes.json"))
    app.router.add_get("/api/v1/namespaces/{ns}/pods/{pod}/log", pod_log)
    app.router.add_patch("/apis/apps/v1/namespaces/{ns}/deployments/{name}", patch_deployment)
    app.router.add_patch("/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale", patch_scale)
    app.router.add_delete("/api/v1/namespaces/{ns}/pods/{name}", delete_pod)
    return app


@asynccontextmanager
async def serve_cluster(dump: Path, namespace: str) -> AsyncIterator[FakeKubeApi]:
    """Serve ``dump`` on a free loopback port; yields what it was asked and written."""
    api = FakeKubeApi(url="")
    runner = web.AppRunner(build_app(dump, namespace, api))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    api.url = f"http://127.0.0.1:{port}"
    try:
        yield api
    finally:
        await runner.cleanup()


@asynccontextmanager
async def serve_dump(dump: Path, namespace: str) -> AsyncIterator[tuple[str, list[str]]]:
    """Serve ``dump`` on a free loopback port; yields (base URL, paths requested)."""
    async with serve_cluster(dump, namespace) as api:
        yield api.url, api.requests


if (
    __name__ == "__main__"
):  # pragma: no cover - manual poking: python -m tests.kube_api_server DIR NS
    import asyncio
    import sys

    async def main() -> None:
        async with serve_dump(Path(sys.argv[1]), sys.argv[2]) as (url, _):
            print(json.dumps({"url": url}), flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())
