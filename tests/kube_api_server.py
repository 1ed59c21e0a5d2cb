"""A local stand-in for the Kubernetes API server, serving one dump directory.

It answers the real API paths (core/v1, apps/v1, batch/v1, pods/log) the way
the API server does: List documents, 400 for a log that does not exist
(container never started, no previous instance), honouring ``tailLines``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

__all__ = ["serve_dump"]

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


def _status(code: int, message: str) -> web.Response:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "code": code,
    }
    return web.json_response(body, status=code)


def build_app(dump: Path, namespace: str, requests: list[str]) -> web.Application:
    def listing(filename: str) -> web.Handler:
        async def handle(request: web.Request) -> web.Response:
            requests.append(request.path_qs)
            if request.match_info.get("ns", namespace) != namespace:
                return web.json_response({"kind": "List", "apiVersion": "v1", "items": []})
            path = dump / filename
            if not path.is_file():
                return web.json_response({"kind": "List", "apiVersion": "v1", "items": []})
            return web.Response(body=path.read_bytes(), content_type="application/json")

        return handle

    async def pod_log(request: web.Request) -> web.Response:
        requests.append(request.path_qs)
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

    app = web.Application()
    for route, filename in NAMESPACED.items():
        app.router.add_get(route.replace("{ns}", "{ns}"), listing(filename))
    app.router.add_get("/api/v1/nodes", listing("nodes.json"))
    app.router.add_get("/api/v1/namespaces/{ns}/pods/{pod}/log", pod_log)
    return app


@asynccontextmanager
async def serve_dump(dump: Path, namespace: str) -> AsyncIterator[tuple[str, list[str]]]:
    """Serve ``dump`` on a free loopback port; yields (base URL, paths requested)."""
    requests: list[str] = []
    runner = web.AppRunner(build_app(dump, namespace, requests))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", requests
    finally:
        await runner.cleanup()


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
