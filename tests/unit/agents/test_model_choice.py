"""Which model the agent pack asks: routing rules first, then Claude, OpenAI, Kimi."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.llm.registry import providers_from_env
from projections.control import Snapshot
from services.agents.model_choice import agent_route, policy_threshold

ALL_KEYS = {"ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o", "MOONSHOT_API_KEY": "k"}


def snapshot(**kinds: dict[str, dict[str, Any]]) -> Snapshot:
    items = {
        kind: {name: {"version": 1, "spec": spec} for name, spec in named.items()}
        for kind, named in kinds.items()
    }
    return Snapshot(tenant="acme", hash="sha256:x", items=items)


def rule(
    provider: str, model: str, *, task_kind: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "match": {"task_kind": task_kind, "intent": None, "tenant": None},
        "provider": provider,
        "model": model,
        "fallbacks": extra.get("fallbacks", []),
        "timeout_seconds": 30.0,
        "priority": extra.get("priority", 0),
    }


def route(
    env: dict[str, str], snap: Snapshot | None = None, **environ: str
) -> list[tuple[str, str]] | None:
    chosen = agent_route(
        providers_from_env(env),
        snap,
        task_kind="incident.diagnose",
        tenant="acme",
        intent=None,
        environ=environ,
    )
    return None if chosen is None else [(provider.name, model) for provider, model in chosen]


def test_without_a_rule_claude_leads_then_openai_then_kimi() -> None:
    assert route(ALL_KEYS) == [
        ("anthropic", "claude-sonnet-4-6"),
        ("openai", "gpt-4.1"),
        ("kimi", "kimi-k2-0905-preview"),
    ]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("OPENAI_API_KEY", "openai"),
        ("MOONSHOT_API_KEY", "kimi"),
        ("ANTHROPIC_API_KEY", "anthropic"),
    ],
)
def test_only_configured_providers_are_on_the_route(key: str, expected: str) -> None:
    chosen = route({key: "x"})
    assert chosen is not None and [name for name, _ in chosen] == [expected]


def test_nothing_configured_is_no_route_not_the_echo_provider() -> None:
    assert route({}) is None


def test_the_agent_model_setting_leads(monkeypatch: pytest.MonkeyPatch) -> None:
    assert route(ALL_KEYS, SYNAPS_AGENT_MODEL="openai:gpt-5")[:2] == [
        ("openai", "gpt-5"),
        ("anthropic", "claude-sonnet-4-6"),
    ]
    assert route(ALL_KEYS, SYNAPS_AGENT_MODEL="claude-opus-4-1")[0] == (
        "anthropic",
        "claude-opus-4-1",
    )
    monkeypatch.setenv("SYNAPS_AGENT_MODEL", "kimi:kimi-latest")
    chosen = agent_route(
        providers_from_env(ALL_KEYS),
        None,
        task_kind="incident.diagnose",
        tenant="acme",
        intent=None,
    )
    assert chosen is not None and (chosen[0][0].name, chosen[0][1]) == ("kimi", "kimi-latest")


def test_a_matching_routing_rule_wins() -> None:
    snap = snapshot(
        routing_rule={
            "agents": rule(
                "openai",
                "gpt-routed",
                task_kind="incident.diagnose",
                fallbacks=[
                    {"provider": "local", "model": "local"},
                    {"provider": "kimi", "model": "k"},
                ],
            ),
            "prompts": rule("anthropic", "claude-x", task_kind="prompt", priority=9),
        }
    )
    assert route(ALL_KEYS, snap) == [("openai", "gpt-routed"), ("kimi", "k")]


def test_a_rule_routing_only_to_the_echo_provider_means_no_model() -> None:
    snap = snapshot(routing_rule={"offline": rule("local", "local")})
    assert route(ALL_KEYS, snap) is None


def test_a_rule_naming_unknown_or_unconfigured_providers_leaves_them_out() -> None:
    snap = snapshot(
        routing_rule={
            "agents": rule("nosuch", "m", fallbacks=[{"provider": "anthropic", "model": "c"}])
        }
    )
    assert route({"ANTHROPIC_API_KEY": "a"}, snap) == [("anthropic", "c")]
    assert route({"OPENAI_API_KEY": "o"}, snap) is None


def test_the_threshold_comes_from_the_arbiter_policy() -> None:
    assert policy_threshold(None) == 0.70
    assert policy_threshold(snapshot()) == 0.70
    assert (
        policy_threshold(snapshot(arbiter_policy={"strict": {"rule_confidence_threshold": 0.9}}))
        == 0.9
    )
    both = snapshot(
        arbiter_policy={
            "a-first": {"rule_confidence_threshold": 0.9},
            "default": {"rule_confidence_threshold": 0.55},
        }
    )
    assert policy_threshold(both) == 0.55
