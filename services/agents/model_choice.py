"""Which model the agent pack asks, and from what confidence the rules are trusted alone.

A routing rule of the control registry wins. Without one, Claude is the default
(``SYNAPS_AGENT_MODEL`` may name another ``provider:model``), then OpenAI, then
Kimi, each only if configured here. The offline ``local`` provider only echoes
the prompt: for judging an incident it is no model, so a route holding nothing
else is no route, and the rule result stands flagged for review.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from services.agents.registry_view import active_policy
from services.incidents.agent import DEFAULT_ARBITER_THRESHOLD
from services.models import ModelProvider, is_configured
from services.routing import choose_route

__all__ = [
    "AGENT_MODEL_ENV",
    "DEFAULT_AGENT_MODELS",
    "ECHO_PROVIDER",
    "agent_route",
    "policy_threshold",
]

AGENT_MODEL_ENV = "SYNAPS_AGENT_MODEL"  # e.g. "anthropic:claude-sonnet-4-6"
ECHO_PROVIDER = "local"
# Without a routing rule, in this order: (provider, model).
DEFAULT_AGENT_MODELS: tuple[tuple[str, str], ...] = (
    ("anthropic", "claude-sonnet-4-6"),
    ("openai", "gpt-4.1"),
    ("kimi", "kimi-k2-0905-preview"),
)


def _preferred(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """The defaults, led by ``SYNAPS_AGENT_MODEL`` (``provider:model``, or a Claude model)."""
    wanted = environ.get(AGENT_MODEL_ENV, "").strip()
    if not wanted:
        return list(DEFAULT_AGENT_MODELS)
    provider, _, model = wanted.rpartition(":")
    first = (provider or DEFAULT_AGENT_MODELS[0][0], model)
    return [first, *(step for step in DEFAULT_AGENT_MODELS if step[0] != first[0])]


def agent_route(
    providers: Mapping[str, ModelProvider],
    snapshot: Any,
    *,
    task_kind: str,
    tenant: str,
    intent: str | None,
    environ: Mapping[str, str] | None = None,
) -> list[tuple[ModelProvider, str]] | None:
    """The route for an agent-pack model question, or None when no real model is configured.

    Steps naming an unknown, unconfigured or echo provider are left out: they could
    only fail or pretend.
    """
    choice = choose_route(snapshot, task_kind=task_kind, tenant=tenant, intent=intent)
    environ = os.environ if environ is None else environ
    steps = choice.steps if choice.rule is not None else _preferred(environ)
    route = [
        (providers[name], model)
        for name, model in steps
        if name != ECHO_PROVIDER and name in providers and is_configured(providers[name])
    ]
    return route or None


def policy_threshold(snapshot: Any) -> float:
    """``rule_confidence_threshold`` of the active arbiter policy ``default`` (else the first
    by name); 0.70 without one. Below it, the rules ask the model."""
    policy = active_policy(snapshot)
    return float(policy.get("rule_confidence_threshold", DEFAULT_ARBITER_THRESHOLD))
