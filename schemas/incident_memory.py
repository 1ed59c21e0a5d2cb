"""Remembered incidents as the incidents read model holds them (without embeddings)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from msgspec import Struct

__all__ = ["IncidentView"]


class IncidentView(Struct, frozen=True, kw_only=True):
    """One incident: a workload failing for one reason, with every occurrence counted."""

    incident_id: UUID
    tenant: str
    namespace: str
    workload: str  # normalised (pod and ReplicaSet hashes stripped); "*" namespace-wide
    target: str | None
    root_cause: str
    summary: str  # the normalised symptoms that similarity compares
    remediation: str
    evidence: list[str]  # of the latest occurrence
    confidence: float  # of the latest occurrence
    detection_method: str
    verified: bool  # a remediation of it was verified at least once
    executed: bool  # a remediation of it was executed at least once
    occurrences: int  # distinct runs that found it
    first_seen: datetime
    last_seen: datetime
    first_run_id: UUID
    last_run_id: UUID
    embedder: str
    position: int  # ledger position of the latest change
