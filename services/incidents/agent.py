"""The IncidentAgent: rules first with a confidence; below the arbiter threshold, the
routed model (given redacted evidence only); without a model, the rule result
flagged for review. It never answers ``unknown``."""

from __future__ import annotations

from typing import Any

import msgspec

from domain.incidents.diagnosis import MAX_EVIDENCE, Diagnosis, diagnose
from domain.incidents.findings import Finding
from domain.incidents.package import EvidencePackage
from domain.incidents.planning import Plan
from domain.incidents.redaction import Redactor
from domain.incidents.remediation import remediation_for
from domain.incidents.taxonomy import RootCause
from schemas.incidents import (
    FindingView,
    IncidentReport,
    PlanStepView,
    PlanView,
    RemediationView,
    RootCauseView,
)
from services.incidents.ports import ArbiterRequest, ArbiterVerdict, RootCauseArbiter

__all__ = ["DEFAULT_ARBITER_THRESHOLD", "IncidentAgent", "plan_view"]

DEFAULT_ARBITER_THRESHOLD = 0.70
_ANSWERABLE = [c.value for c in RootCause if c is not RootCause.UNKNOWN]


def plan_view(plan: Plan) -> PlanView:
    return PlanView(
        intent=plan.intent.value,
        required_params=plan.required_params(),
        missing_params=list(plan.missing_params),
        execution_plan=[
            PlanStepView(action=s.action, detail=s.detail) for s in plan.execution_plan
        ],
        confidence=plan.confidence,
        method=plan.method,
    )


class IncidentAgent:
    def __init__(
        self,
        arbiter: RootCauseArbiter | None = None,
        *,
        threshold: float = DEFAULT_ARBITER_THRESHOLD,
        redactor: Redactor | None = None,
    ) -> None:
        self.arbiter = arbiter
        self.threshold = threshold
        self.redactor = redactor or Redactor()

    def _finding_view(self, finding: Finding) -> FindingView:
        return FindingView(
            type=finding.cause.value,
            confidence=finding.confidence,
            evidence=[self.redactor.redact(line) for line in finding.evidence[:MAX_EVIDENCE]],
            pods=list(finding.pods),
        )

    def _arbiter_request(
        self, question: str, package: EvidencePackage, diagnosis: Diagnosis
    ) -> ArbiterRequest:
        findings = [diagnosis.root_cause, *diagnosis.others]
        evidence: dict[str, Any] = msgspec.to_builtins(self.redactor.redact_struct(package))
        return ArbiterRequest(
            question=self.redactor.redact(question),
            namespace=package.namespace,
            target=diagnosis.scope.target,
            allowed_types=_ANSWERABLE,
            rule_findings=[msgspec.to_builtins(self._finding_view(f)) for f in findings],
            evidence=evidence,
        )

    async def _arbitrate(
        self, question: str, package: EvidencePackage, diagnosis: Diagnosis
    ) -> ArbiterVerdict | None:
        if self.arbiter is None:
            return None
        verdict = await self.arbiter.arbitrate(self._arbiter_request(question, package, diagnosis))
        if verdict is None or verdict.type not in _ANSWERABLE:
            return None  # "unknown" or an invented id: keep the rule answer
        return verdict

    async def analyze(self, package: EvidencePackage, plan: Plan, question: str) -> IncidentReport:
        hints = ([plan.workload] if plan.workload else []) + list(plan.hints)
        diagnosis = diagnose(package, hints)
        primary = diagnosis.root_cause
        root_cause = RootCauseView(
            type=primary.cause.value,
            confidence=primary.confidence,
            detection_method="rule_based",
            evidence=[self.redactor.redact(line) for line in primary.evidence],
        )
        remediation = diagnosis.remediation
        needs_review, rationale = bool(diagnosis.rule_errors), ""
        if primary.confidence < self.threshold:
            verdict = await self._arbitrate(question, package, diagnosis)
            if verdict is None:
                needs_review = True
            else:
                cause = RootCause(verdict.type)
                root_cause = RootCauseView(
                    type=cause.value,
                    confidence=verdict.confidence,
                    detection_method="llm_arbiter",
                    evidence=[self.redactor.redact(e) for e in verdict.evidence]
                    or root_cause.evidence,
                )
                remediation = remediation_for(
                    msgspec.structs.replace(primary, cause=cause),
                    package.namespace,
                    diagnosis.scope.target or "",
                )
                rationale = verdict.rationale
                needs_review = needs_review or verdict.confidence < self.threshold
        return IncidentReport(
            intent=plan.intent.value,
            namespace=package.namespace,
            target=diagnosis.scope.target,
            root_cause=root_cause,
            remediation=RemediationView(
                immediate=remediation.immediate,
                verification=remediation.verification,
                prevention=remediation.prevention,
            ),
            needs_review=needs_review,
            affected_pods=list(primary.pods),
            other_findings=[self._finding_view(f) for f in diagnosis.others],
            plan=plan_view(plan),
            snapshot_time=diagnosis.reference_time,
            rationale=rationale,
            rule_errors=list(diagnosis.rule_errors),
        )
