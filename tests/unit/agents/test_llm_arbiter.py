"""The LLM arbiter behind the IncidentAgent, with an in-memory model."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from domain.incidents.planning import plan_question
from projections.control import Snapshot
from schemas.incidents import IncidentReport
from services.agents.llm_arbiter import LlmArbiter
from services.incidents.agent import IncidentAgent
from services.task_kinds import TaskError
from tests.unit.agents.scripted import ScriptedModel
from tests.unit.incidents.builders import container, log, package, pod, running

LOG_LINE = "WARN settlement cache warm-up 4/25 shards, owner ops@example.com"
# Running, not ready, no probe events: the rules can only guess (0.6).
UNSURE = package(
    pod("ledger-1", container(state=running(30), ready=False, log=log(f"{LOG_LINE}\n")))
)
PLAN = plan_question("why is ledger not ready in ns?")
QUESTION = "why is ledger not ready? ask ops@example.com"


def verdict(type_: str = "dependency_unreachable", **fields: Any) -> str:
    return json.dumps(
        {"type": type_, "confidence": 0.85, "evidence": [], "rationale": "why"} | fields
    )


def snapshot_with(template: str) -> Snapshot:
    items = {"prompt": {"incident.arbiter": {"version": 2, "spec": {"template": template}}}}
    return Snapshot(tenant="acme", hash="sha256:x", items=items)


def analyze(arbiter: LlmArbiter) -> IncidentReport:
    return asyncio.run(IncidentAgent(arbiter).analyze(UNSURE, PLAN, QUESTION))


def test_a_valid_verdict_decides_and_its_usage_is_kept() -> None:
    model = ScriptedModel([verdict(confidence=0.82)])
    arbiter = LlmArbiter([(model, "m")])
    report = analyze(arbiter)
    assert report.root_cause.type == "dependency_unreachable"
    assert report.root_cause.detection_method == "llm_arbiter"
    assert report.root_cause.confidence == 0.82
    assert not report.needs_review
    assert report.rationale == "why"
    assert arbiter.usage["calls"] == 1 and arbiter.usage["input_tokens"] == 100
    assert arbiter.last is not None and arbiter.last.errors == []


def test_the_default_prompt_carries_the_redacted_request() -> None:
    model = ScriptedModel([verdict()])
    analyze(LlmArbiter([(model, "m")]))
    (request,) = model.requests
    prompt = request.messages[-1].content
    assert "readiness_probe_failure" in prompt and "oom_killed" in prompt
    assert "unknown" not in prompt.split("exactly one of:")[1].split("\n")[0]
    assert "settlement cache warm-up 4/25 shards" in prompt
    assert "ops@example.com" not in json.dumps([m.content for m in request.messages])


def test_an_active_registry_prompt_is_used() -> None:
    template = (
        "Q={question} NS={namespace} T={target} A={allowed_types}\nF={rule_findings}\nE={evidence}"
    )
    model = ScriptedModel([verdict()])
    analyze(LlmArbiter([(model, "m")], snapshot=snapshot_with(template)))
    prompt = model.requests[0].messages[-1].content
    assert prompt.startswith("Q=why is ledger not ready? ask [REDACTED:email] NS=")
    assert "A=oom_killed, crash_loop," in prompt
    assert '\nF=[{"type":"readiness_probe_failure"' in prompt
    assert '\nE={"' in prompt


def test_a_registry_prompt_with_an_unknown_variable_is_a_task_error() -> None:
    arbiter = LlmArbiter([(ScriptedModel([]), "m")], snapshot=snapshot_with("{question} {nope}"))
    with pytest.raises(TaskError, match="nope"):
        analyze(arbiter)


def test_a_type_outside_the_allowed_ones_is_repaired() -> None:
    model = ScriptedModel([verdict("gremlins"), verdict("oom_killed")])
    report = analyze(LlmArbiter([(model, "m")]))
    assert report.root_cause.type == "oom_killed"
    repair = model.requests[1].messages[-1].content
    assert "type 'gremlins' is not one of: oom_killed, crash_loop" in repair


def test_unknown_twice_keeps_the_rule_result_for_review() -> None:
    model = ScriptedModel([verdict("unknown"), verdict("unknown")])
    arbiter = LlmArbiter([(model, "m")])
    report = analyze(arbiter)
    assert report.root_cause.type == "readiness_probe_failure"
    assert report.root_cause.detection_method == "rule_based"
    assert report.needs_review
    assert len(model.requests) == 2 and arbiter.usage["calls"] == 2


def test_a_low_confidence_verdict_is_flagged_for_review() -> None:
    report = analyze(LlmArbiter([(ScriptedModel([verdict(confidence=0.4)]), "m")]))
    assert report.root_cause.detection_method == "llm_arbiter"
    assert report.needs_review


def test_only_evidence_really_quoted_is_reported() -> None:
    quoted = "WARN settlement cache warm-up 4/25 shards"
    state = "pod ledger-1 container app state=running ready=false restartCount=0"
    invented = "dial tcp 10.0.0.7:5432: connect: connection refused"
    model = ScriptedModel([verdict(evidence=[quoted, f"  {state} ", invented])])
    report = analyze(LlmArbiter([(model, "m")]))
    assert report.root_cause.evidence == [quoted, state]


def test_with_nothing_quoted_the_rule_evidence_stays() -> None:
    report = analyze(LlmArbiter([(ScriptedModel([verdict(evidence=["made up"])]), "m")]))
    assert report.root_cause.detection_method == "llm_arbiter"
    assert report.root_cause.evidence[0].startswith("pod ledger-1 container app")
