"""Incident memory: remember every diagnosed incident, find similar past ones.

``remember`` writes through the ledger: the finding's fingerprint names the
incident aggregate, so a repeated finding becomes another occurrence of it and
a run already counted changes nothing. ``similar`` embeds the finding's
normalised symptoms and asks the read model for the nearest incidents of the
same tenant and embedder (it sees what the incidents projection has applied).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

import msgspec

from domain.envelope import EventContext
from domain.errors import ConcurrencyConflict, InvalidArgument, NotFound
from domain.incident import Incident, NotAnIncident
from domain.incident_fingerprint import (
    NOT_AN_INCIDENT,
    Fingerprint,
    incident_id_for,
    symptoms_text,
    workload_of,
)
from schemas.incidents import IncidentReport, RemediationView
from services.agents.ports import Embedder, RememberedIncident, SimilarIncident
from services.ports import Clock, LedgerPort

__all__ = ["DEFAULT_MIN_SIMILARITY", "IncidentMemory", "SimilarIncidentReader"]

# Below this cosine a past incident is not "similar", whatever the ranking says.
# Measured with the hashing embedder on the reports of the 60 snapshot cases
# (shared/fixtures/k8s and tests/fixtures/k8s): the same failure again (new pod
# names, other counters, lines in another order) scores 1.0; the same cause in
# another case has a median of 0.42 and 70% of pairs at or above the cut; other
# causes a median of 0.13 and 4% at or above it (at most 0.65), ranked below.
DEFAULT_MIN_SIMILARITY = 0.35
_ATTEMPTS = 5


class SimilarIncidentReader(Protocol):
    def nearest(
        self,
        *,
        tenant: str,
        embedder: str,
        vector: Sequence[float],
        limit: int,
        exclude: UUID | None = None,
        min_similarity: float = 0.0,
    ) -> list[SimilarIncident]: ...


def _report(report: dict[str, Any]) -> IncidentReport:
    try:
        return msgspec.convert(report, IncidentReport, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidArgument(f"not an incident report: {exc}") from exc


def _fingerprint(tenant: str, report: IncidentReport) -> Fingerprint:
    return Fingerprint(
        tenant=tenant,
        namespace=report.namespace,
        workload=workload_of(report.target, report.affected_pods),
        root_cause=report.root_cause.type,
    )


def _symptoms(fingerprint: Fingerprint, finding: IncidentReport) -> str:
    return symptoms_text(fingerprint.root_cause, fingerprint.workload, finding.root_cause.evidence)


def _remediation_text(remediation: RemediationView) -> str:
    parts = (
        remediation.immediate,
        f"Verify: {remediation.verification}" if remediation.verification else "",
        f"Prevent: {remediation.prevention}" if remediation.prevention else "",
    )
    return "\n".join(p for p in parts if p)


class IncidentMemory:
    def __init__(
        self,
        ledger: LedgerPort,
        clock: Clock,
        reader: SimilarIncidentReader,
        embedder: Embedder,
        *,
        min_similarity: float = DEFAULT_MIN_SIMILARITY,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._reader = reader
        self._embedder = embedder
        self._min_similarity = min_similarity

    async def remember(
        self,
        *,
        tenant: str,
        run_id: UUID,
        report: dict[str, Any],
        remediation_executed: bool,
        verified: bool,
        actor: str,
    ) -> RememberedIncident:
        """Record the finding of ``run_id``; refuses a ``healthy`` one (NotAnIncident)."""
        finding = _report(report)
        fingerprint = _fingerprint(tenant, finding)
        if fingerprint.root_cause in NOT_AN_INCIDENT:
            raise NotAnIncident(f"a {fingerprint.root_cause!r} finding is not an incident")
        incident_id = incident_id_for(fingerprint)
        ctx = EventContext(
            actor=actor, tenant=tenant, correlation_id=str(run_id), causation_id=str(run_id)
        )
        cause = finding.root_cause
        symptoms = _symptoms(fingerprint, finding)
        embedding: list[float] | None = None
        for attempt in range(_ATTEMPTS):
            now = self._clock()
            known = await asyncio.to_thread(self._load, incident_id)
            if known is None:
                if embedding is None:  # once, however many races are lost
                    embedding = await self._embedder.embed(symptoms)
                incident = Incident.remember(
                    fingerprint=fingerprint,
                    target=finding.target,
                    summary_text=symptoms,
                    confidence=cause.confidence,
                    detection_method=cause.detection_method,
                    remediation=_remediation_text(finding.remediation),
                    evidence=cause.evidence,
                    embedding=embedding,
                    embedder=self._embedder.name,
                    run_id=run_id,
                    verified=verified,
                    remediation_executed=remediation_executed,
                    ctx=ctx,
                    now=now,
                )
            else:
                incident = known
                if not incident.recur(
                    run_id=run_id,
                    confidence=cause.confidence,
                    verified=verified,
                    remediation_executed=remediation_executed,
                    evidence=cause.evidence,
                    ctx=ctx,
                    now=now,
                ):
                    return self._outcome(incident, known=True, position=None)  # run counted
            try:
                position = await asyncio.to_thread(self._ledger.commit, incident)
            except ConcurrencyConflict:
                if attempt == _ATTEMPTS - 1:
                    raise
                continue
            return self._outcome(incident, known=known is not None, position=position)
        raise AssertionError("unreachable")

    async def similar(
        self, *, tenant: str, report: dict[str, Any], limit: int = 3, exclude: UUID | None = None
    ) -> list[SimilarIncident]:
        """Past incidents of ``tenant`` whose symptoms resemble this report's, best first."""
        finding = _report(report)
        fingerprint = _fingerprint(tenant, finding)
        if fingerprint.root_cause in NOT_AN_INCIDENT or limit <= 0:
            return []
        vector = await self._embedder.embed(_symptoms(fingerprint, finding))
        return await asyncio.to_thread(
            lambda: self._reader.nearest(
                tenant=tenant,
                embedder=self._embedder.name,
                vector=vector,
                limit=min(limit, 50),
                exclude=exclude,
                min_similarity=self._min_similarity,
            )
        )

    def _load(self, incident_id: UUID) -> Incident | None:
        try:
            incident: Incident = self._ledger.get(incident_id, Incident)
        except NotFound:
            return None
        return incident

    @staticmethod
    def _outcome(incident: Incident, *, known: bool, position: int | None) -> RememberedIncident:
        return RememberedIncident(
            incident_id=incident.id,
            occurrences=incident.occurrences,
            deduplicated=known,
            position=position,
        )
