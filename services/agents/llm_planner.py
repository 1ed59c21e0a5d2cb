"""The routed model as the Planner's advisor, when the rules are unsure what is asked.

The model only names the intent and its parameters; the plan itself (missing
parameters, steps) is built by the same domain builder as a rule plan. The
question is redacted before it leaves, like the evidence.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from domain.incidents.planning import Intent, Plan, build_plan
from domain.incidents.redaction import Redactor
from services.agents.model_json import JsonAnswer, ask_json
from services.model_routes import ModelRetryPolicy, Route
from services.prompts import active_template, render

__all__ = ["DEFAULT_PLANNER_TEMPLATE", "PLANNER_PROMPT", "LlmPlanAdvisor", "PlanAnswer"]

PLANNER_PROMPT = "incident.planner"

PLANNER_SYSTEM = (
    "You are the planner of a Kubernetes troubleshooting assistant. From an operator's "
    "question, decide what they want and about which namespace and workload. Use only names "
    "that appear in the question; leave a name null when the question does not say it."
)

DEFAULT_PLANNER_TEMPLATE = """\
Question: {question}

Intents: {intents}
- diagnose_pod: something specific is failing (a workload, deployment or pod)
- namespace_overview: what is wrong in a namespace, no workload named
- collect_evidence: gather logs/events/state without a diagnosis
- general_help: a how-to or concept question, no cluster access needed

The rules guessed (unsure): {rule_plan}
"""

# A Kubernetes object name (RFC 1123 subdomain).
KubeName = Annotated[
    str, Meta(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
]


class PlanAnswer(Struct, frozen=True, kw_only=True):
    intent: Intent
    namespace: KubeName | None = None
    workload: Annotated[KubeName | None, Meta(description="workload or pod name")] = None
    confidence: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.8


class LlmPlanAdvisor:
    """A ``PlanAdvisor`` over a route; ``usage`` holds what its last question cost."""

    def __init__(
        self,
        route: Route,
        *,
        snapshot: Any = None,
        redactor: Redactor | None = None,
        timeout_seconds: float = 60.0,
        policy: ModelRetryPolicy | None = None,
    ) -> None:
        self.route = route
        self.snapshot = snapshot
        self.redactor = redactor or Redactor()
        self.timeout_seconds = timeout_seconds
        self.policy = policy
        self.usage: dict[str, Any] = {}
        self.last: JsonAnswer[PlanAnswer] | None = None

    def prompt(self, question: str, rule_plan: Plan) -> str:
        """The active ``incident.planner`` prompt (variables ``{question}``, ``{intents}``,
        ``{namespace}``, ``{workload}``, ``{rule_plan}``), else the built-in one; every
        value redacted."""
        guess = {
            "intent": rule_plan.intent.value,
            "namespace": rule_plan.namespace,
            "workload": rule_plan.workload,
        }
        variables = {
            "question": question,
            "intents": " | ".join(intent.value for intent in Intent),
            "namespace": rule_plan.namespace or "(not given)",
            "workload": rule_plan.workload or "(not given)",
            "rule_plan": msgspec.json.encode(guess).decode(),
        }
        template = active_template(self.snapshot, PLANNER_PROMPT) or DEFAULT_PLANNER_TEMPLATE
        return render(template, self.redactor.redact_data(variables))

    async def advise_plan(self, question: str, rule_plan: Plan) -> Plan | None:
        answer = await ask_json(
            self.route,
            system=PLANNER_SYSTEM,
            prompt=self.prompt(question, rule_plan),
            answer_type=PlanAnswer,
            timeout_seconds=self.timeout_seconds,
            policy=self.policy,
        )
        self.last, self.usage = answer, answer.usage
        if answer.value is None:
            return None
        advised = answer.value
        # A namespace already settled (given by the caller, its evidence maybe collected)
        # stays; the model fills what the rules could not.
        return build_plan(
            advised.intent,
            namespace=rule_plan.namespace or advised.namespace,
            workload=advised.workload or rule_plan.workload,
            hints=rule_plan.hints,
            confidence=advised.confidence,
            method="llm",
        )
