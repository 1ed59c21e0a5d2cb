"""What the agent pack's steps need from outside: cluster tools, incident memory,
embeddings. Adapters implement these; the steps only see the protocols."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from msgspec import Struct

from domain.tool_calls import ToolCall  # re-exported: the domain proposes calls too

__all__ = [
    "ClusterReader",
    "ClusterWriter",
    "Embedder",
    "IncidentMemoryPort",
    "RememberedIncident",
    "SimilarIncident",
    "ToolCall",
    "ToolOutcome",
    "WritesDisabled",
]


class ToolOutcome(Struct, frozen=True, kw_only=True):
    tool: str
    args: dict[str, Any]
    ok: bool
    output: Any = None  # what the tool returned (bounded, never secret values)
    error: str | None = None


class WritesDisabled(Exception):
    """No write client: writing to a cluster was not explicitly enabled."""


class ClusterReader(Protocol):
    """Read-only tools (pod logs, events, rollout status, ...). Never writes."""

    def read_tools(self) -> frozenset[str]: ...

    async def run(self, call: ToolCall) -> ToolOutcome: ...


class ClusterWriter(Protocol):
    """Write tools (rollout restart, scale, patch resources, delete pod), through a
    separate client that exists only when writes were explicitly enabled. The caller
    has checked the approval; this only executes."""

    def write_tools(self) -> frozenset[str]: ...

    def destructive(self, call: ToolCall) -> bool:
        """Whether this call destroys something (delete, scale to zero)."""
        ...

    async def run(self, call: ToolCall) -> ToolOutcome: ...


class Embedder(Protocol):
    """Text to a unit-length vector (a provider's embeddings, or a local fallback)."""

    name: str  # recorded with each embedding, so vectors of different models never mix
    dimensions: int

    async def embed(self, text: str) -> list[float]: ...


class SimilarIncident(Struct, frozen=True, kw_only=True):
    incident_id: UUID
    root_cause: str
    namespace: str
    target: str | None
    summary: str
    remediation: str
    verified: bool
    occurrences: int
    last_seen: datetime
    similarity: float  # cosine, 0..1


class RememberedIncident(Struct, frozen=True, kw_only=True):
    incident_id: UUID
    occurrences: int  # 1 when new; more when this finding was seen before
    deduplicated: bool  # True: an occurrence added to an incident already remembered
    position: int | None  # ledger position of the write; None when the run was already counted


class IncidentMemoryPort(Protocol):
    async def remember(
        self,
        *,
        tenant: str,
        run_id: UUID,
        report: dict[str, Any],  # an IncidentReport as builtins
        remediation_executed: bool,
        verified: bool,
        actor: str,
    ) -> RememberedIncident: ...

    async def similar(
        self, *, tenant: str, report: dict[str, Any], limit: int = 3, exclude: UUID | None = None
    ) -> list[SimilarIncident]: ...
