"""The fallback runner's decisions, with in-memory providers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from adapters.llm.local import LocalProvider
from domain.retry import RetryPolicy
from schemas.models import ChatMessage, ModelRequest, ModelResponse, RoutedResponse, TokenUsage
from services.model_routes import ModelRetryPolicy, complete_with_fallback, resolve_route
from services.models import (
    AllProvidersFailed,
    ModelError,
    ProviderRejected,
    ProviderTransientError,
    UnknownProvider,
)

REQUEST = ModelRequest(messages=(ChatMessage(role="user", content="hello"),), model="unset")
POLICY = ModelRetryPolicy(max_attempts=3, backoff=RetryPolicy(base_seconds=1.0, cap_seconds=4.0))


class Scripted:
    """Fails with the given errors, in order, then answers."""

    def __init__(self, name: str, errors: Sequence[ModelError] = ()) -> None:
        self.name = name
        self.errors = list(errors)
        self.models: list[str] = []

    def ensure_available(self) -> None:
        pass

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.models.append(request.model)
        if self.errors:
            raise self.errors.pop(0)
        return ModelResponse(
            text=f"answer from {self.name}",
            provider=self.name,
            model=request.model,
            usage=TokenUsage(input_tokens=1, output_tokens=2),
            latency_seconds=0.0,
            finish_reason="stop",
        )

    async def aclose(self) -> None:
        pass


def busy(provider: str, retry_after: float | None = None) -> ProviderTransientError:
    return ProviderTransientError(provider, "busy", code="rate_limited", retry_after=retry_after)


def run(
    route: list[tuple[Scripted, str]], policy: ModelRetryPolicy = POLICY
) -> tuple[RoutedResponse, list[float]]:
    """The runner's answer, and the pauses it asked for (not really slept)."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    routed = asyncio.run(
        complete_with_fallback(route, REQUEST, policy=policy, sleep=sleep, jitter=lambda: 0.5)
    )
    return routed, slept


def test_each_step_gets_its_own_model() -> None:
    first, second = Scripted("a", [ProviderRejected("a", "no")]), Scripted("b")
    routed, _ = run([(first, "model-a"), (second, "model-b")])
    assert (first.models, second.models) == (["model-a"], ["model-b"])
    assert routed.response.model == "model-b"


def test_transient_errors_are_retried_with_growing_backoff_up_to_the_bound() -> None:
    flaky = Scripted("a", [busy("a"), busy("a"), busy("a")])
    backup = Scripted("b")
    routed, slept = run([(flaky, "m"), (backup, "m")])
    assert len(flaky.models) == 3  # max_attempts, then the next provider
    assert slept == [0.75, 1.5]  # RetryPolicy.delay(1, 0.5), delay(2, 0.5); none after the last
    assert [(a.provider, a.attempt, a.retry_in_seconds) for a in routed.attempts] == [
        ("a", 1, 0.75),
        ("a", 2, 1.5),
        ("a", 3, None),
        ("b", 1, None),
    ]
    assert routed.attempts[-1].answered
    assert not routed.attempts[0].answered


def test_retry_after_replaces_backoff_unless_longer_than_we_wait() -> None:
    honoured = Scripted("a", [busy("a", retry_after=2.5)])
    routed, slept = run([(honoured, "m")])
    assert slept == [2.5]
    assert routed.response.provider == "a"

    too_long = Scripted("a", [busy("a", retry_after=600.0)])
    routed, slept = run([(too_long, "m"), (Scripted("b"), "m")])
    assert slept == []
    assert routed.response.provider == "b"


def test_rejections_are_not_retried() -> None:
    refused = Scripted("a", [ProviderRejected("a", "bad request", status=400)])
    routed, slept = run([(refused, "m"), (Scripted("b"), "m")])
    assert len(refused.models) == 1
    assert slept == []
    assert routed.attempts[0].error_code == "provider_rejected"


def test_all_failing_raises_with_every_attempt() -> None:
    with pytest.raises(AllProvidersFailed) as failed:
        run(
            [(Scripted("a", [busy("a")] * 3), "m"), (Scripted("b", [busy("b")] * 3), "m")],
            ModelRetryPolicy(max_attempts=2),
        )
    assert [(a.provider, a.attempt) for a in failed.value.attempts] == [
        ("a", 1),
        ("a", 2),
        ("b", 1),
        ("b", 2),
    ]
    assert failed.value.code == "all_providers_failed"


def test_an_empty_route_fails_typed() -> None:
    with pytest.raises(AllProvidersFailed, match="route is empty"):
        run([])


def test_bugs_in_a_provider_are_not_swallowed() -> None:
    class Broken(Scripted):
        async def complete(self, request: ModelRequest) -> ModelResponse:
            raise KeyError("bug")

    with pytest.raises(KeyError):
        run([(Broken("a"), "m"), (Scripted("b"), "m")])


def test_resolve_route_names_unknown_providers() -> None:
    local = LocalProvider()
    assert resolve_route({"local": local}, [("local", "echo")]) == [(local, "echo")]
    with pytest.raises(UnknownProvider, match=r"gemini.*known: local"):
        resolve_route({"local": local}, [("local", "echo"), ("gemini", "pro")])
