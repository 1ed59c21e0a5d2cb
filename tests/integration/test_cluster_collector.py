"""The kubernetes-asyncio collector against a local API server serving a dump: it must
read the real API paths and yield exactly the package the dump reader yields."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest
from kubernetes_asyncio import client

from adapters.k8s.cluster import ClusterCollector, CollectorError
from adapters.k8s.dump import DumpDirectory
from domain.incidents.package import EvidencePackage
from tests.kube_api_server import serve_dump
from tests.snapshot_cases import CASES, shared_case

REPO = Path(__file__).resolve().parents[2]


def _collector(url: str) -> ClusterCollector:
    configuration = client.Configuration(host=url)
    return ClusterCollector(client.ApiClient(configuration), clock=lambda: None)


async def _collect(case: Path, namespace: str) -> tuple[EvidencePackage, list[str]]:
    async with serve_dump(case, namespace) as (url, requests), _collector(url) as collector:
        package = await collector.collect(namespace)
    return package, requests


def _comparable(package: EvidencePackage) -> EvidencePackage:
    return msgspec.structs.replace(package, source="", collected_at=None)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_collector_yields_the_same_evidence_as_the_dump_reader(case: Path) -> None:
    from_dump = DumpDirectory(case).read()
    from_cluster, _requests = asyncio.run(_collect(case, from_dump.namespace))
    assert _comparable(from_cluster) == _comparable(from_dump)
    assert from_cluster.source.startswith("cluster:http://127.0.0.1:")


def test_collector_reads_the_real_api_paths_including_previous_logs() -> None:
    case = shared_case("pub-02-inventory-sync")
    package, requests = asyncio.run(_collect(case, "retail"))
    paths = {r.split("?")[0] for r in requests}
    assert {
        "/api/v1/namespaces/retail/pods",
        "/api/v1/namespaces/retail/events",
        "/apis/apps/v1/namespaces/retail/replicasets",
        "/apis/apps/v1/namespaces/retail/deployments",
        "/apis/apps/v1/namespaces/retail/statefulsets",
        "/api/v1/nodes",
        "/api/v1/namespaces/retail/endpoints",
    } <= paths
    previous = [r for r in requests if "/log?" in r and "previous=true" in r.lower()]
    assert any("inventory-sync-582ltgrzzb-bhtp4/log" in r for r in previous)
    pod = package.pod("inventory-sync-582ltgrzzb-bhtp4")
    assert pod is not None
    assert pod.containers[0].previous_log is not None
    assert "Connection refused" in pod.containers[0].previous_log.text


def test_a_container_that_never_started_has_no_log() -> None:
    package, _ = asyncio.run(_collect(shared_case("pub-05-invoice-api"), "billing"))
    pod = package.pod("invoice-api-t4jtn69d8-svjc6")
    assert pod is not None
    assert pod.containers[0].log is None
    assert pod.containers[0].previous_log is None


def test_an_unreachable_api_is_a_collector_error() -> None:
    async def attempt() -> None:
        async with _collector("http://127.0.0.1:9") as collector:
            await collector.collect("default")

    with pytest.raises(CollectorError):
        asyncio.run(attempt())
