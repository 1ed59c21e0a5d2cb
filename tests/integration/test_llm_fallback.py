"""The LLM fallback of the agent pack with the real anthropic and openai SDKs, against a
local server speaking their wire formats: the arbiter below the threshold, one repair,
needs_review when the model never answers right or no model is configured, and
nothing secret ever sent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.k8s.dump import DumpDirectory
from adapters.llm.registry import close_providers, providers_from_env
from domain.retry import RetryPolicy
from schemas.incidents import IncidentReport
from services.agents.llm_arbiter import LlmArbiter
from services.agents.llm_planner import LlmPlanAdvisor
from services.agents.model_choice import agent_route, policy_threshold
from services.agents.model_json import repair_prompt
from services.incidents.agent import IncidentAgent
from services.incidents.analyze import analyze_incident
from services.incidents.planner import Planner
from services.model_routes import ModelRetryPolicy
from services.models import ModelProvider
from tests.integration.conftest import API_KEY
from tests.integration.model_api import (
    CHAT_PATH,
    MESSAGES_PATH,
    ModelApi,
    Received,
    Reply,
    anthropic_message,
    openai_completion,
)

pytestmark = pytest.mark.anyio

DUMP = Path(__file__).resolve().parents[1] / "fixtures" / "llm" / "unsure-not-ready"
QUESTION = (
    "why is ledger-api not ready in payments? page me at sre.lead@example.org, "
    "token=Qm9vdHMtc2VjcmV0"
)
# In the question and in the dump's log: none of them may reach a model.
SECRETS = (
    "sre.lead@example.org",
    "Qm9vdHMtc2VjcmV0",
    "Hunter2Passw0rd",
    "oncall.payments@example.com",
    "eyJhbGciOiJIUzI1NiJ9",
)
QUOTED = "2025-09-02T09:24:08Z INFO settlement cache warm-up 4/25 shards"
NO_RETRIES = ModelRetryPolicy(max_attempts=1, backoff=RetryPolicy(base_seconds=0.001))

WIRES = {
    # wire: (path, reply builder, environment naming the local server)
    "anthropic": (
        MESSAGES_PATH,
        anthropic_message,
        lambda url: {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": url},
    ),
    "openai": (
        CHAT_PATH,
        openai_completion,
        lambda url: {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": f"{url}/v1"},
    ),
}


class Wire:
    """One provider's wire format on the local server, and the route the agent pack picks."""

    def __init__(self, name: str, api: ModelApi, providers: dict[str, ModelProvider]) -> None:
        self.name = name
        self.api = api
        self.path, self._reply, _ = WIRES[name]
        self.providers = providers
        route = agent_route(
            providers, None, task_kind="incident.diagnose", tenant="acme", intent=None, environ={}
        )
        assert route is not None
        self.route = route

    def answer(self, *texts: str) -> None:
        self.api.script(self.path, *(Reply(200, self._reply(text)) for text in texts))

    @property
    def calls(self) -> list[Received]:
        return [r for r in self.api.requests if r.path == self.path]


def turns(received: Received) -> list[tuple[str, str]]:
    """(role, text) of every message sent, the system prompt first."""
    body = received.body
    system = [("system", body["system"])] if "system" in body else []
    return system + [(m["role"], m["content"]) for m in body["messages"]]


def verdict(type_: str = "dependency_unreachable", confidence: float = 0.82, **more: Any) -> str:
    evidence = more.pop("evidence", [QUOTED, "an invented line the evidence never had"])
    return json.dumps(
        {"type": type_, "confidence": confidence, "evidence": evidence, "rationale": "r"} | more
    )


@pytest.fixture(params=sorted(WIRES))
async def wire(request: pytest.FixtureRequest, model_api: ModelApi) -> AsyncIterator[Wire]:
    providers = providers_from_env(WIRES[request.param][2](model_api.url))
    yield Wire(request.param, model_api, providers)
    await close_providers(providers)


async def diagnose(arbiter: LlmArbiter | None) -> IncidentReport:
    agent = IncidentAgent(arbiter, threshold=policy_threshold(None))
    return await analyze_incident(QUESTION, DumpDirectory(DUMP), agent=agent)


async def test_the_rules_alone_are_unsure_of_this_case() -> None:
    report = await diagnose(None)
    assert report.root_cause.type == "readiness_probe_failure"
    assert report.root_cause.confidence < 0.70
    assert (report.root_cause.detection_method, report.needs_review) == ("rule_based", True)


async def test_the_route_is_the_configured_wire(wire: Wire) -> None:
    assert [(p.name, m) for p, m in wire.route] == [
        ("anthropic", "claude-sonnet-4-6") if wire.name == "anthropic" else ("openai", "gpt-4.1")
    ]


async def test_a_valid_answer_decides(wire: Wire) -> None:
    wire.answer(f"My verdict:\n```json\n{verdict()}\n```")
    arbiter = LlmArbiter(wire.route, policy=NO_RETRIES)

    report = await diagnose(arbiter)

    assert report.root_cause.detection_method == "llm_arbiter"
    assert report.root_cause.type == "dependency_unreachable"
    assert report.root_cause.confidence == 0.82
    assert report.root_cause.evidence == [QUOTED]  # the invented line is dropped
    assert not report.needs_review
    (call,) = wire.calls
    sent = turns(call)
    assert sent[0][0] == "system" and '"confidence"' in sent[0][1]  # the schema
    assert sent[-1][0] == "user" and "readiness_probe_failure" in sent[-1][1]
    assert call.body["model"] == wire.route[0][1]
    tokens = (13, 5) if wire.name == "anthropic" else (11, 7)
    assert arbiter.usage == {
        "provider": wire.name,
        "model": "claude-test" if wire.name == "anthropic" else "gpt-test",
        "input_tokens": tokens[0],
        "output_tokens": tokens[1],
        "calls": 1,
        "attempts": 1,
    }


async def test_an_invalid_answer_is_repaired_once(wire: Wire) -> None:
    invalid = verdict(confidence="very high")  # type: ignore[arg-type]
    wire.answer(invalid, verdict("oom_killed", 0.9))
    arbiter = LlmArbiter(wire.route, policy=NO_RETRIES)

    report = await diagnose(arbiter)

    assert (report.root_cause.type, report.root_cause.detection_method) == (
        "oom_killed",
        "llm_arbiter",
    )
    assert not report.needs_review
    first, second = wire.calls
    assert turns(second)[: len(turns(first))] == turns(first)
    assistant, repair = turns(second)[-2:]
    assert assistant == ("assistant", invalid)
    assert repair[0] == "user"
    assert "Expected `float`, got `str` - at `$.confidence`" in repair[1]
    assert arbiter.usage["calls"] == 2
    assert arbiter.usage["input_tokens"] == 2 * (13 if wire.name == "anthropic" else 11)


async def test_invalid_twice_leaves_the_rule_result_for_review(wire: Wire) -> None:
    wire.answer("It is probably the database.", verdict("network_partition"))
    arbiter = LlmArbiter(wire.route, policy=NO_RETRIES)

    report = await diagnose(arbiter)

    assert report.root_cause.type == "readiness_probe_failure"
    assert report.root_cause.detection_method == "rule_based"
    assert report.needs_review
    assert len(wire.calls) == 2
    assert turns(wire.calls[1])[-2:] == [
        ("assistant", "It is probably the database."),
        ("user", repair_prompt("the answer holds no JSON object")),
    ]
    assert arbiter.last is not None and len(arbiter.last.errors) == 2
    assert "type 'network_partition' is not one of" in arbiter.last.errors[1]


async def test_without_a_configured_provider_nothing_is_called(model_api: ModelApi) -> None:
    # The base URLs point at the server, but no key is set.
    unkeyed = providers_from_env(
        {"ANTHROPIC_BASE_URL": model_api.url, "OPENAI_BASE_URL": f"{model_api.url}/v1"}
    )
    route = agent_route(
        unkeyed, None, task_kind="incident.diagnose", tenant="acme", intent=None, environ={}
    )
    assert route is None

    report = await diagnose(None)
    assert (report.root_cause.detection_method, report.needs_review) == ("rule_based", True)

    # Routed to them anyway, the arbiter gives up without a request either.
    arbiter = LlmArbiter([(unkeyed["anthropic"], "claude-x"), (unkeyed["openai"], "gpt-x")])
    report = await diagnose(arbiter)
    assert (report.root_cause.detection_method, report.needs_review) == ("rule_based", True)
    assert arbiter.last is not None and "OPENAI_API_KEY is not set" in arbiter.last.errors[0]
    assert model_api.requests == []
    await close_providers(unkeyed)


async def test_no_secret_reaches_the_model(wire: Wire) -> None:
    dumped = "".join(p.read_text() for p in DUMP.rglob("*.log")) + QUESTION
    assert all(secret in dumped for secret in SECRETS)  # they are there to leak
    wire.answer("not json", "still not json")

    await diagnose(LlmArbiter(wire.route, policy=NO_RETRIES))

    assert len(wire.calls) == 2
    sent = json.dumps([call.body for call in wire.calls])
    assert [secret for secret in SECRETS if secret in sent] == []
    assert "[REDACTED:email]" in sent and "[REDACTED:url_password]" in sent


async def test_the_plan_advisor_over_openai(model_api: ModelApi) -> None:
    providers = providers_from_env(WIRES["openai"][2](model_api.url))
    wire = Wire("openai", model_api, providers)
    answer = {"intent": "diagnose_pod", "namespace": "payments", "workload": "ledger-api"}
    wire.answer(json.dumps(answer | {"confidence": 0.8}))
    advisor = LlmPlanAdvisor(wire.route, policy=NO_RETRIES)
    question = "ledger-api looks odd, mail sre.lead@example.org"

    plan = await Planner(advisor).plan(question)

    assert (plan.intent.value, plan.namespace, plan.workload) == (
        "diagnose_pod",
        "payments",
        "ledger-api",
    )
    assert plan.method == "llm" and plan.missing_params == ()
    assert "detect_root_cause" in [step.action for step in plan.execution_plan]
    (call,) = wire.calls
    assert call.body["response_format"] == {"type": "json_object"}
    assert "sre.lead@example.org" not in json.dumps(call.body)
    assert advisor.usage["provider"] == "openai" and advisor.usage["calls"] == 1
    await close_providers(providers)
