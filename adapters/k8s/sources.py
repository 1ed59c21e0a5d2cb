"""How the agent pack's steps reach a cluster on the server side: evidence from a
configured kubectl dump directory, else the Kubernetes API (kubeconfig or in-cluster);
read-only tools on the same API; a write client only when writes were enabled."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from adapters.k8s.cluster import ClusterCollector
from adapters.k8s.dump import DumpDirectory
from adapters.k8s.tools import ClusterTools
from adapters.k8s.writer import WriteSettings, connect_writer
from domain.incidents.redaction import Redactor
from services.agents.ports import ClusterReader, ClusterWriter
from services.incidents.ports import EvidenceSource

__all__ = ["evidence_source_factory", "reader_factory", "writer_factory"]

SourceFactory = Callable[[], AbstractAsyncContextManager[EvidenceSource]]
ReaderFactory = Callable[[], AbstractAsyncContextManager[ClusterReader]]
WriterFactory = Callable[[], AbstractAsyncContextManager[ClusterWriter]]


def _has_cluster_credentials(kubeconfig: str) -> bool:
    if kubeconfig or os.environ.get("KUBERNETES_SERVICE_HOST"):
        return True
    paths = os.environ.get("KUBECONFIG", "").split(os.pathsep)
    return any(p and Path(p).exists() for p in paths) or (Path.home() / ".kube/config").exists()


def evidence_source_factory(
    *, dump_dir: str = "", kubeconfig: str = "", context: str = ""
) -> SourceFactory | None:
    """A factory of sources, or None when this process can see no cluster at all."""
    if dump_dir:
        directory = Path(dump_dir)

        @asynccontextmanager
        async def dump() -> AsyncIterator[EvidenceSource]:
            yield DumpDirectory(directory)

        return dump
    if not _has_cluster_credentials(kubeconfig):
        return None

    @asynccontextmanager
    async def cluster() -> AsyncIterator[EvidenceSource]:
        collector = await ClusterCollector.connect(
            kubeconfig=kubeconfig or None, context=context or None
        )
        async with collector:
            yield collector

    return cluster


def reader_factory(
    *, dump_dir: str = "", kubeconfig: str = "", context: str = "", redactor: Redactor
) -> ReaderFactory | None:
    """Read-only tools on the Kubernetes API, or None (a dump or no cluster at all)."""
    if dump_dir or not _has_cluster_credentials(kubeconfig):
        return None

    @asynccontextmanager
    async def tools() -> AsyncIterator[ClusterReader]:
        reader = await ClusterTools.connect(
            kubeconfig=kubeconfig or None, context=context or None, redactor=redactor
        )
        async with reader:
            yield reader

    return tools


def writer_factory(settings: WriteSettings) -> WriterFactory | None:
    """A write client per use, only when ``SYNAPS_K8S_WRITES=enabled``; else None."""
    if not settings.k8s_writes_enabled:
        return None

    @asynccontextmanager
    async def writer() -> AsyncIterator[ClusterWriter]:
        client = await connect_writer(settings)
        async with client:
            yield client

    return writer
