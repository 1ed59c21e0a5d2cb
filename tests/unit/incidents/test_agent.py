"""The IncidentAgent: rule result, arbiter seam below the threshold, needs_review."""

from __future__ import annotations

import asyncio

from domain.incidents.logs import LogExcerpt
from domain.incidents.planning import plan_question
from services.incidents.agent import IncidentAgent
from services.incidents.ports import ArbiterRequest, ArbiterVerdict
from tests.unit.incidents.builders import container, package, pod, running

# Running, not ready, no probe events: the rules can only guess (confidence 0.6).
UNSURE = package(
    pod(
        "app-1",
        container(
            state=running(30),
            ready=False,
            log=LogExcerpt(text="INFO user bob@example.com token=abc123secret\n", total_bytes=44),
        ),
    )
)
PLAN = plan_question("why is app not ready in ns?")


class Arbiter:
    def __init__(self, verdict: ArbiterVerdict | None) -> None:
        self.verdict = verdict
        self.requests: list[ArbiterRequest] = []

    async def arbitrate(self, request: ArbiterRequest) -> ArbiterVerdict | None:
        self.requests.append(request)
        return self.verdict


def test_without_a_model_an_unsure_rule_result_is_flagged_for_review() -> None:
    report = asyncio.run(IncidentAgent().analyze(UNSURE, PLAN, "why?"))
    assert report.root_cause.type == "readiness_probe_failure"
    assert report.root_cause.confidence < 0.7
    assert report.root_cause.detection_method == "rule_based"
    assert report.needs_review


def test_the_threshold_is_a_parameter() -> None:
    report = asyncio.run(IncidentAgent(threshold=0.5).analyze(UNSURE, PLAN, "why?"))
    assert not report.needs_review


def test_below_the_threshold_the_arbiter_decides_on_redacted_evidence() -> None:
    arbiter = Arbiter(ArbiterVerdict(type="dependency_unreachable", confidence=0.8, evidence=["x"]))
    report = asyncio.run(IncidentAgent(arbiter).analyze(UNSURE, PLAN, "why? ask ops@example.com"))
    assert report.root_cause.type == "dependency_unreachable"
    assert report.root_cause.detection_method == "llm_arbiter"
    assert not report.needs_review
    sent = str(arbiter.requests[0])
    assert "bob@example.com" not in sent
    assert "abc123secret" not in sent
    assert "ops@example.com" not in sent
    assert "unknown" not in arbiter.requests[0].allowed_types


def test_an_arbiter_answering_unknown_leaves_the_rule_result() -> None:
    arbiter = Arbiter(ArbiterVerdict(type="unknown", confidence=0.9, evidence=[]))
    report = asyncio.run(IncidentAgent(arbiter).analyze(UNSURE, PLAN, "why?"))
    assert report.root_cause.type == "readiness_probe_failure"
    assert report.needs_review


def test_a_sure_rule_result_never_bothers_the_arbiter() -> None:
    arbiter = Arbiter(None)
    healthy = package(pod("app-1"))
    report = asyncio.run(IncidentAgent(arbiter).analyze(healthy, PLAN, "why?"))
    assert report.root_cause.type == "healthy"
    assert arbiter.requests == []
    assert not report.needs_review
