"""The incident report: what ``synaps incident analyze --json`` prints and what the
IncidentAgent stores as an artifact (shape: ``shared/incident-taxonomy.md``)."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct, field

__all__ = [
    "FindingView",
    "IncidentReport",
    "PlanStepView",
    "PlanView",
    "RemediationView",
    "RootCauseView",
]


class RootCauseView(Struct, frozen=True, kw_only=True):
    type: str
    confidence: float
    detection_method: str  # rule_based | llm_arbiter
    evidence: list[str]


class RemediationView(Struct, frozen=True, kw_only=True):
    immediate: str
    verification: str
    prevention: str


class FindingView(Struct, frozen=True, kw_only=True):
    type: str
    confidence: float
    evidence: list[str]
    pods: list[str] = field(default_factory=list)


class PlanStepView(Struct, frozen=True, kw_only=True):
    action: str
    detail: str


class PlanView(Struct, frozen=True, kw_only=True):
    intent: str
    required_params: dict[str, str | None]
    missing_params: list[str]
    execution_plan: list[PlanStepView]
    confidence: float
    method: str


class IncidentReport(Struct, frozen=True, kw_only=True):
    intent: str
    namespace: str
    target: str | None
    root_cause: RootCauseView
    remediation: RemediationView
    needs_review: bool
    affected_pods: list[str] = field(default_factory=list)
    other_findings: list[FindingView] = field(default_factory=list)
    plan: PlanView | None = None
    snapshot_time: datetime | None = None
    rationale: str = ""
    rule_errors: list[str] = field(default_factory=list)
