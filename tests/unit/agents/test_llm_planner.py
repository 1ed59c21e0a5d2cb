"""The LLM plan advisor behind the Planner, with an in-memory model."""

from __future__ import annotations

import asyncio
import json

from domain.incidents.planning import Intent, Plan, build_plan
from projections.control import Snapshot
from services.agents.llm_planner import LlmPlanAdvisor
from services.incidents.planner import Planner
from tests.unit.agents.scripted import ScriptedModel

UNSURE = "ledger-api looks odd, mail dev@example.com or use token=Zx81kLmQ9"


def plan(
    model: ScriptedModel, question: str = UNSURE, **kwargs: object
) -> tuple[Plan, LlmPlanAdvisor]:
    advisor = LlmPlanAdvisor([(model, "m")], **kwargs)  # type: ignore[arg-type]
    return asyncio.run(Planner(advisor).plan(question)), advisor


def test_an_unsure_rule_plan_is_replaced_by_the_models_built_like_a_rule_plan() -> None:
    answer = {"intent": "diagnose_pod", "namespace": "payments", "workload": "ledger-api"}
    advised, advisor = plan(ScriptedModel([json.dumps(answer | {"confidence": 0.75})]))
    assert advised == build_plan(
        Intent.DIAGNOSE_POD,
        namespace="payments",
        workload="ledger-api",
        hints=advised.hints,
        confidence=0.75,
        method="llm",
    )
    assert advised.method == "llm" and advised.missing_params == ()
    assert [s.action for s in advised.execution_plan][:2] == ["collect_evidence", "resolve_target"]
    assert advisor.usage["calls"] == 1


def test_the_question_is_redacted_before_it_leaves() -> None:
    model = ScriptedModel([json.dumps({"intent": "namespace_overview"})])
    advised, _ = plan(model)
    sent = json.dumps([m.content for m in model.requests[0].messages])
    assert "dev@example.com" not in sent and "Zx81kLmQ9" not in sent
    assert "[REDACTED:email]" in sent
    assert advised.intent is Intent.NAMESPACE_OVERVIEW and advised.workload is None
    assert advised.missing_params == ("namespace",)


def test_a_namespace_the_rules_settled_stays() -> None:
    answer = {"intent": "diagnose_pod", "namespace": "elsewhere", "workload": None}
    advised, _ = plan(ScriptedModel([json.dumps(answer)]), "ledger-api looks odd in payments")
    assert (advised.namespace, advised.workload) == ("payments", "ledger-api")


def test_an_invalid_answer_twice_leaves_the_rule_plan() -> None:
    bad = json.dumps({"intent": "fix_everything"})
    model = ScriptedModel([bad, json.dumps({"intent": "diagnose_pod", "workload": "Not A Name"})])
    advised, advisor = plan(model)
    assert advised.method == "rule_based" and advised.confidence == 0.6
    assert len(model.requests) == 2
    assert advisor.last is not None and len(advisor.last.errors) == 2


def test_an_active_registry_prompt_is_used() -> None:
    template = "{question} / {intents} / {namespace} / {workload} / {rule_plan}"
    items = {"prompt": {"incident.planner": {"version": 1, "spec": {"template": template}}}}
    model = ScriptedModel([json.dumps({"intent": "general_help"})])
    plan(model, snapshot=Snapshot(tenant="t", hash="h", items=items))
    prompt = model.requests[0].messages[-1].content
    assert prompt.startswith("ledger-api looks odd, mail [REDACTED:email]")
    assert " / diagnose_pod | namespace_overview | collect_evidence | general_help / " in prompt
    rule_plan = '{"intent":"diagnose_pod","namespace":null,"workload":"ledger-api"}'
    assert prompt.endswith(f"/ (not given) / ledger-api / {rule_plan}")


def test_a_sure_rule_plan_never_asks() -> None:
    model = ScriptedModel([])
    advised, advisor = plan(model, "why is checkout crashing in staging?")
    assert advised.method == "rule_based" and model.requests == [] and advisor.usage == {}
