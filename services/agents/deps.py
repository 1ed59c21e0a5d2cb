"""What the agent pack's steps depend on: models, artifacts, approvals, the cluster
(read and, when explicitly enabled, write) and incident memory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from domain.incidents.redaction import Redactor
from services.agents.ports import ClusterReader, ClusterWriter, IncidentMemoryPort
from services.artifacts import ArtifactStore
from services.incidents.ports import EvidenceSource
from services.models import ModelProvider

__all__ = ["AgentDeps", "ApprovalLookup"]


class ApprovalLookup(Protocol):
    def granted_tool_calls(self, task_id: UUID) -> list[dict[str, object]] | None:
        """The tool calls a person approved for this held task; None if not granted."""
        ...


@dataclass
class AgentDeps:
    providers: Mapping[str, ModelProvider]
    artifacts: ArtifactStore
    approvals: ApprovalLookup
    # None: this process sees no cluster (evidence must then come with the question)
    evidence: Callable[[], AbstractAsyncContextManager[EvidenceSource]] | None = None
    reader: Callable[[], AbstractAsyncContextManager[ClusterReader]] | None = None
    # raises WritesDisabled unless writing was explicitly enabled
    writer: Callable[[], AbstractAsyncContextManager[ClusterWriter]] | None = None
    memory: IncidentMemoryPort | None = None
    redactor: Redactor = field(default_factory=Redactor)
