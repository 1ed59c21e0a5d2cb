"""The real openai and anthropic SDKs against a local server speaking their wire formats."""

from __future__ import annotations

import time

import pytest

from adapters.llm.claude import claude_provider
from adapters.llm.openai_chat import kimi_provider, openai_provider
from adapters.llm.registry import close_providers, providers_from_env
from adapters.postgres.embedded import free_port
from domain.retry import RetryPolicy
from schemas.models import JSON_INSTRUCTION, ChatMessage, ModelRequest, TokenUsage
from services.model_routes import ModelRetryPolicy, complete_with_fallback
from services.models import AllProvidersFailed, ProviderTransientError, ProviderUnavailable
from tests.integration.conftest import API_KEY
from tests.integration.model_api import (
    CHAT_PATH,
    MESSAGES_PATH,
    ModelApi,
    Reply,
    anthropic_error,
    anthropic_message,
    openai_completion,
    openai_error,
)

pytestmark = pytest.mark.anyio

# Backoff so small that only an honoured Retry-After can explain a longer wait.
FAST = ModelRetryPolicy(max_attempts=2, backoff=RetryPolicy(base_seconds=0.002, cap_seconds=0.01))

REQUEST = ModelRequest(
    messages=(
        ChatMessage(role="system", content="You are terse."),
        ChatMessage(role="user", content="Why is the pod crash-looping?"),
    ),
    model="placeholder",
    max_tokens=64,
    timeout_seconds=5.0,
)


def env_for(api: ModelApi) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": f"{api.url}/v1",
        "MOONSHOT_API_KEY": API_KEY,
        "MOONSHOT_BASE_URL": f"{api.url}/v1",
        "ANTHROPIC_API_KEY": API_KEY,
        "ANTHROPIC_BASE_URL": api.url,
    }


async def test_openai_answer_is_parsed_with_usage(model_api: ModelApi) -> None:
    model_api.script(CHAT_PATH, Reply(body=openai_completion("OOMKilled", model="gpt-x-2")))
    provider = openai_provider(env_for(model_api))
    request = ModelRequest(
        messages=REQUEST.messages, model="gpt-x", max_tokens=64, temperature=0.2, json_output=True
    )

    response = await provider.complete(request)
    await provider.aclose()

    assert response.text == "OOMKilled"
    assert (response.provider, response.model) == ("openai", "gpt-x-2")
    assert response.usage == TokenUsage(input_tokens=11, output_tokens=7)
    assert response.finish_reason == "stop"
    assert response.latency_seconds > 0
    (sent,) = model_api.requests
    assert sent.body["model"] == "gpt-x"
    assert sent.body["messages"] == [
        {"role": "system", "content": f"You are terse.\n\n{JSON_INSTRUCTION}"},
        {"role": "user", "content": "Why is the pod crash-looping?"},
    ]
    assert sent.body["max_completion_tokens"] == 64
    assert "max_tokens" not in sent.body
    assert sent.body["temperature"] == 0.2
    assert sent.body["response_format"] == {"type": "json_object"}


async def test_kimi_uses_its_own_key_base_url_and_max_tokens(model_api: ModelApi) -> None:
    model_api.script(
        CHAT_PATH, Reply(body=openai_completion("ok", model="kimi-k2", finish_reason="length"))
    )
    environ = {"MOONSHOT_API_KEY": API_KEY, "MOONSHOT_BASE_URL": f"{model_api.url}/v1"}
    provider = kimi_provider(environ)

    response = await provider.complete(REQUEST)
    await provider.aclose()

    assert (response.provider, response.model, response.finish_reason) == (
        "kimi",
        "kimi-k2",
        "length",
    )
    (sent,) = model_api.requests
    assert sent.body["max_tokens"] == 64
    assert "temperature" not in sent.body
    assert "response_format" not in sent.body


async def test_claude_answer_is_parsed_with_usage(model_api: ModelApi) -> None:
    model_api.script(
        MESSAGES_PATH,
        Reply(body=anthropic_message("Liveness probe fails", stop_reason="max_tokens")),
    )
    provider = claude_provider(env_for(model_api))

    response = await provider.complete(
        ModelRequest(messages=REQUEST.messages, model="claude-x", max_tokens=32)
    )
    await provider.aclose()

    assert response.text == "Liveness probe fails"
    assert (response.provider, response.model) == ("anthropic", "claude-test")
    assert response.usage == TokenUsage(input_tokens=13, output_tokens=5)
    assert response.finish_reason == "length"
    (sent,) = model_api.requests
    assert API_KEY in (sent.headers.get("x-api-key"), sent.headers.get("authorization", "")[7:])
    assert sent.headers["anthropic-version"]
    assert sent.body["system"] == "You are terse."
    assert sent.body["messages"] == [{"role": "user", "content": "Why is the pod crash-looping?"}]
    assert sent.body["max_tokens"] == 32


async def test_rate_limit_waits_as_long_as_retry_after_asks(model_api: ModelApi) -> None:
    model_api.script(
        CHAT_PATH,
        Reply(429, openai_error("slow down", "rate_limit_exceeded"), {"retry-after-ms": "150"}),
        Reply(body=openai_completion("second time lucky")),
    )
    provider = openai_provider(env_for(model_api))

    routed = await complete_with_fallback([(provider, "gpt-x")], REQUEST, policy=FAST)
    await provider.aclose()

    assert routed.response.text == "second time lucky"
    first, second = model_api.requests
    assert second.at - first.at >= 0.15
    assert [(a.error_code, a.retry_in_seconds) for a in routed.attempts] == [
        ("rate_limited", 0.15),
        ("", None),
    ]
    assert routed.attempts[0].error.startswith("openai: HTTP 429")


async def test_retry_after_in_seconds_is_what_the_runner_sleeps(model_api: ModelApi) -> None:
    model_api.script(
        MESSAGES_PATH,
        Reply(429, anthropic_error("busy", "rate_limit_error"), {"retry-after": "7"}),
        Reply(body=anthropic_message("done")),
    )
    provider = claude_provider(env_for(model_api))
    slept: list[float] = []

    async def record_sleep(seconds: float) -> None:
        slept.append(seconds)

    routed = await complete_with_fallback(
        [(provider, "claude-x")],
        REQUEST,
        policy=ModelRetryPolicy(max_attempts=2),
        sleep=record_sleep,
    )
    await provider.aclose()

    assert routed.response.text == "done"
    assert slept == [7.0]


async def test_server_error_is_retried_with_backoff(model_api: ModelApi) -> None:
    model_api.script(
        MESSAGES_PATH,
        Reply(500, anthropic_error("internal")),
        Reply(body=anthropic_message("recovered")),
    )
    provider = claude_provider(env_for(model_api))

    routed = await complete_with_fallback(
        [(provider, "claude-x")], REQUEST, policy=FAST, jitter=lambda: 0.0
    )
    await provider.aclose()

    assert routed.response.text == "recovered"
    assert len(model_api.requests) == 2
    assert [(a.attempt, a.error_code, a.retry_in_seconds) for a in routed.attempts] == [
        (1, "server_error", 0.001),  # half of the first backoff step, with no jitter
        (2, "", None),
    ]


async def test_timeout_falls_back_to_the_next_provider(
    model_api: ModelApi, second_model_api: ModelApi
) -> None:
    model_api.script(CHAT_PATH, *[Reply(body=openai_completion("too late"), delay=10)] * 2)
    second_model_api.script(MESSAGES_PATH, Reply(body=anthropic_message("from claude")))
    slow = openai_provider(env_for(model_api))
    fast = claude_provider(env_for(second_model_api))
    request = ModelRequest(messages=REQUEST.messages, model="any", timeout_seconds=0.3)

    started = time.monotonic()
    routed = await complete_with_fallback(
        [(slow, "gpt-x"), (fast, "claude-x")], request, policy=FAST
    )
    elapsed = time.monotonic() - started
    await slow.aclose()
    await fast.aclose()

    assert (routed.response.provider, routed.response.text) == ("anthropic", "from claude")
    assert [(a.provider, a.model, a.error_code) for a in routed.attempts] == [
        ("openai", "gpt-x", "timeout"),
        ("openai", "gpt-x", "timeout"),
        ("anthropic", "claude-x", ""),
    ]
    assert second_model_api.requests[0].body["model"] == "claude-x"
    assert all(a.latency_seconds >= 0.3 for a in routed.attempts[:2])
    assert elapsed < 3.0


async def test_claude_timeout_falls_back_to_kimi(
    model_api: ModelApi, second_model_api: ModelApi
) -> None:
    model_api.script(MESSAGES_PATH, Reply(body=anthropic_message("too late"), delay=10))
    second_model_api.script(CHAT_PATH, Reply(body=openai_completion("from kimi")))
    slow = claude_provider(env_for(model_api))
    fast = kimi_provider(env_for(second_model_api))
    request = ModelRequest(messages=REQUEST.messages, model="any", timeout_seconds=0.3)

    started = time.monotonic()
    routed = await complete_with_fallback(
        [(slow, "claude-x"), (fast, "kimi-k2")],
        request,
        policy=ModelRetryPolicy(max_attempts=1),
    )
    elapsed = time.monotonic() - started
    await slow.aclose()
    await fast.aclose()

    assert routed.response.text == "from kimi"
    assert [(a.provider, a.error_code) for a in routed.attempts] == [
        ("anthropic", "timeout"),
        ("kimi", ""),
    ]
    assert elapsed < 3.0


async def test_all_providers_failing_raises_with_every_attempt(model_api: ModelApi) -> None:
    model_api.script(CHAT_PATH, *[Reply(503, openai_error("overloaded"))] * 2)
    model_api.script(MESSAGES_PATH, Reply(400, anthropic_error("bad", "invalid_request_error")))
    providers = providers_from_env(env_for(model_api))
    route = [(providers["openai"], "gpt-x"), (providers["anthropic"], "claude-x")]

    with pytest.raises(AllProvidersFailed) as failed:
        await complete_with_fallback(route, REQUEST, policy=FAST)
    await close_providers(providers)

    assert [(a.provider, a.error_code) for a in failed.value.attempts] == [
        ("openai", "server_error"),
        ("openai", "server_error"),
        ("anthropic", "provider_rejected"),  # a 400 is not retried
    ]
    assert len(model_api.requests) == 3
    assert "400" in str(failed.value)


async def test_unreachable_server_is_a_transient_connection_error() -> None:
    environ = {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1"}
    provider = openai_provider(environ)

    with pytest.raises(ProviderTransientError) as failed:
        await provider.complete(REQUEST)
    await provider.aclose()

    assert failed.value.code == "connection_error"


async def test_missing_key_makes_a_provider_unavailable_without_calling_it(
    model_api: ModelApi,
) -> None:
    environ = {
        name: value for name, value in env_for(model_api).items() if not name.endswith("API_KEY")
    }
    providers = providers_from_env(environ)

    for name, key in [
        ("openai", "OPENAI_API_KEY"),
        ("kimi", "MOONSHOT_API_KEY"),
        ("anthropic", "ANTHROPIC_API_KEY"),
    ]:
        with pytest.raises(ProviderUnavailable, match=key):
            providers[name].ensure_available()
        with pytest.raises(ProviderUnavailable, match=key):
            await providers[name].complete(REQUEST)
    providers["local"].ensure_available()

    routed = await complete_with_fallback(
        [(providers["openai"], "gpt-x"), (providers["local"], "echo")], REQUEST, policy=FAST
    )
    await close_providers(providers)

    assert routed.response.provider == "local"
    assert [(a.provider, a.error_code) for a in routed.attempts] == [
        ("openai", "provider_unavailable"),  # tried once: retrying cannot bring a key
        ("local", ""),
    ]
    assert model_api.requests == []
