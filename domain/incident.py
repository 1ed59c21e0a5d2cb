"""An Incident: one workload failing for one reason, remembered across runs.

Its id comes from the finding's fingerprint (:mod:`domain.incident_fingerprint`),
so the same failure diagnosed again lands on the same aggregate as another
occurrence instead of a new incident. Each run counts once: a Reviewer task
retried after a crash records nothing the second time.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.aggregate import Aggregate
from domain.envelope import AggregateCreated, AggregateEvent, EventContext
from domain.errors import InvalidArgument
from domain.incident_fingerprint import NOT_AN_INCIDENT, Fingerprint, incident_id_for

__all__ = [
    "MAX_EVIDENCE_CHARS",
    "MAX_EVIDENCE_LINES",
    "Incident",
    "IncidentRecorded",
    "IncidentRecurred",
    "NotAnIncident",
    "bound_evidence",
]

# Events keep the decisive lines, not whole logs: the evidence package artifact has those.
MAX_EVIDENCE_LINES = 12
MAX_EVIDENCE_CHARS = 500


class NotAnIncident(InvalidArgument):
    """A finding that nothing is wrong (``healthy``) is refused, not remembered."""


def bound_evidence(lines: list[str]) -> list[str]:
    return [line[:MAX_EVIDENCE_CHARS] for line in lines[:MAX_EVIDENCE_LINES]]


class IncidentRecorded(AggregateCreated, frozen=True, kw_only=True):
    namespace: str
    workload: str  # normalised: the fingerprint's workload
    target: str | None  # as the finding named it
    root_cause: str
    summary_text: str  # the normalised symptoms that were embedded
    confidence: float
    detection_method: str
    remediation: str
    evidence: list[str]
    embedding: list[float]
    embedder: str  # vectors of different embedders are never compared
    run_id: UUID
    verified: bool
    remediation_executed: bool

    def summary(self) -> str:
        return f"incident recorded: {self.root_cause} in {self.namespace}/{self.workload}"


class IncidentRecurred(AggregateEvent, frozen=True, kw_only=True):
    run_id: UUID
    confidence: float
    verified: bool
    remediation_executed: bool
    evidence: list[str]

    def summary(self) -> str:
        return f"incident recurred in run {self.run_id}"


for _event in (IncidentRecorded, IncidentRecurred):
    _event.aggregate_type = "Incident"


class Incident(Aggregate):
    def __init__(
        self,
        namespace: str,
        workload: str,
        target: str | None,
        root_cause: str,
        summary_text: str,
        confidence: float,
        detection_method: str,
        remediation: str,
        evidence: list[str],
        embedding: list[float],
        embedder: str,
        run_id: UUID,
        verified: bool,
        remediation_executed: bool,
        tenant: str,
    ) -> None:
        self.tenant = tenant
        self.namespace = namespace
        self.workload = workload
        self.target = target
        self.root_cause = root_cause
        self.summary_text = summary_text
        self.detection_method = detection_method
        self.remediation = remediation
        self.embedding = embedding
        self.embedder = embedder
        self.confidence = confidence
        self.evidence = evidence
        self.runs: set[UUID] = {run_id}
        self.last_run_id = run_id
        # Once a remediation of this incident worked (or ran), memory says so.
        self.verified = verified
        self.remediation_executed = remediation_executed

    @property
    def occurrences(self) -> int:
        return len(self.runs)

    @classmethod
    def remember(
        cls,
        *,
        fingerprint: Fingerprint,
        target: str | None,
        summary_text: str,
        confidence: float,
        detection_method: str,
        remediation: str,
        evidence: list[str],
        embedding: list[float],
        embedder: str,
        run_id: UUID,
        verified: bool,
        remediation_executed: bool,
        ctx: EventContext,
        now: datetime,
    ) -> Incident:
        if fingerprint.root_cause in NOT_AN_INCIDENT:
            raise NotAnIncident(f"a {fingerprint.root_cause!r} finding is not an incident")
        if fingerprint.tenant != ctx.tenant:
            raise InvalidArgument("an incident belongs to the tenant that records it")
        return cls.start(
            IncidentRecorded,
            id=incident_id_for(fingerprint),
            ctx=ctx,
            now=now,
            namespace=fingerprint.namespace,
            workload=fingerprint.workload,
            target=target,
            root_cause=fingerprint.root_cause,
            summary_text=summary_text,
            confidence=confidence,
            detection_method=detection_method,
            remediation=remediation,
            evidence=bound_evidence(evidence),
            embedding=embedding,
            embedder=embedder,
            run_id=run_id,
            verified=verified,
            remediation_executed=remediation_executed,
        )

    def recur(
        self,
        *,
        run_id: UUID,
        confidence: float,
        verified: bool,
        remediation_executed: bool,
        evidence: list[str],
        ctx: EventContext,
        now: datetime,
    ) -> bool:
        """Another occurrence; False (and nothing recorded) if this run already counted."""
        if run_id in self.runs:
            return False
        self.record(
            IncidentRecurred,
            ctx=ctx,
            now=now,
            run_id=run_id,
            confidence=confidence,
            verified=verified,
            remediation_executed=remediation_executed,
            evidence=bound_evidence(evidence),
        )
        return True

    def when(self, event: AggregateEvent) -> None:
        if isinstance(event, IncidentRecurred):
            self.runs.add(event.run_id)
            self.last_run_id = event.run_id
            self.confidence = event.confidence
            self.evidence = event.evidence
            self.verified = self.verified or event.verified
            self.remediation_executed = self.remediation_executed or event.remediation_executed
