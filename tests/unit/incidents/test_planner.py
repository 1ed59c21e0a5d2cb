"""The Planner's rules, and its seam for asking a model when they are unsure."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from domain.incidents.planning import Intent, Plan, plan_question
from services.incidents.planner import Planner


@pytest.mark.parametrize(
    ("question", "intent", "namespace", "workload"),
    [
        (
            "why is auth-service crashing in production?",
            Intent.DIAGNOSE_POD,
            "production",
            "auth-service",
        ),
        ("the api deploy in dev has been stuck for 15 minutes", Intent.DIAGNOSE_POD, "dev", "api"),
        (
            "invoice-api won't start after we moved it to the billing namespace",
            Intent.DIAGNOSE_POD,
            "billing",
            "invoice-api",
        ),
        (
            "kubectl -n shop: pod web-7d9f8c6b5-x2x4z keeps restarting",
            Intent.DIAGNOSE_POD,
            "shop",
            "web-7d9f8c6b5-x2x4z",
        ),
        ("what's wrong in the payments namespace?", Intent.NAMESPACE_OVERVIEW, "payments", None),
        (
            "collect the logs and events for checkout in staging",
            Intent.COLLECT_EVIDENCE,
            "staging",
            None,
        ),
        ("how do I set a memory limit on a deployment?", Intent.GENERAL_HELP, None, None),
    ],
)
def test_rules_read_intent_namespace_and_workload(
    question: str, intent: Intent, namespace: str | None, workload: str | None
) -> None:
    plan = plan_question(question)
    assert plan.intent is intent
    assert plan.namespace == namespace
    assert plan.workload == workload
    assert plan.execution_plan


def test_a_pod_name_becomes_the_pod_pattern() -> None:
    plan = plan_question("why does pod web-7d9f8c6b5-x2x4z restart in shop?")
    assert plan.pod_pattern == "web-7d9f8c6b5-x2x4z"


def test_known_names_let_a_plain_word_be_the_workload() -> None:
    assert plan_question("checkout is down").workload is None
    assert plan_question("checkout is down", known_names=["checkout"]).workload == "checkout"


def test_missing_parameters_are_listed() -> None:
    plan = plan_question("why is it crashing?")
    assert "namespace" in plan.missing_params


class Advisor:
    def __init__(self, answer: Plan | None) -> None:
        self.answer = answer
        self.asked: list[str] = []

    async def advise_plan(self, question: str, rule_plan: Plan) -> Plan | None:
        self.asked.append(question)
        return self.answer


def test_the_model_is_asked_only_when_the_rules_are_unsure() -> None:
    advised = msgspec.structs.replace(
        plan_question("x"), intent=Intent.NAMESPACE_OVERVIEW, method="llm", confidence=0.9
    )
    advisor = Advisor(advised)
    planner = Planner(advisor, threshold=0.7)
    sure = asyncio.run(planner.plan("why is auth-service crashing in production?"))
    assert sure.method == "rule_based"
    assert advisor.asked == []
    unsure = asyncio.run(planner.plan("hmm"))
    assert advisor.asked == ["hmm"]
    assert unsure.method == "llm"


def test_without_a_model_or_an_answer_the_rule_plan_stands() -> None:
    assert asyncio.run(Planner().plan("hmm")).method == "rule_based"
    assert asyncio.run(Planner(Advisor(None)).plan("hmm")).method == "rule_based"


def test_no_question_means_a_look_at_the_whole_namespace() -> None:
    assert plan_question("", namespace="shop").intent is Intent.NAMESPACE_OVERVIEW
