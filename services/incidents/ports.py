"""What the incident use cases need from outside: evidence, and (optionally) a model.

The model seams are small on purpose: the LLM providers are built elsewhere and
plug in here. Without them the rule results stand.
"""

from __future__ import annotations

from typing import Protocol

from msgspec import Struct

from domain.incidents.package import EvidencePackage
from domain.incidents.planning import Plan

__all__ = ["ArbiterRequest", "ArbiterVerdict", "EvidenceSource", "PlanAdvisor", "RootCauseArbiter"]


class EvidenceSource(Protocol):
    """A kubectl dump directory, a live cluster, ... : one namespace's evidence package."""

    async def collect(self, namespace: str | None = None) -> EvidencePackage: ...


class PlanAdvisor(Protocol):
    """The routed model, asked for a plan when the Planner's rules are unsure.
    ``None`` means no opinion: the rule plan stands."""

    async def advise_plan(self, question: str, rule_plan: Plan) -> Plan | None: ...


class ArbiterRequest(Struct, frozen=True, kw_only=True):
    """Everything here is already redacted."""

    question: str
    namespace: str
    target: str | None
    allowed_types: list[str]
    rule_findings: list[dict[str, object]]
    evidence: dict[str, object]


class ArbiterVerdict(Struct, frozen=True, kw_only=True):
    type: str
    confidence: float
    evidence: list[str]
    rationale: str = ""


class RootCauseArbiter(Protocol):
    """The routed model, asked when the best rule finding is below the arbiter threshold."""

    async def arbitrate(self, request: ArbiterRequest) -> ArbiterVerdict | None: ...
