"""The offline provider: deterministic, labelled, and cut at max_tokens like a model."""

from __future__ import annotations

import asyncio

import msgspec

from adapters.llm.local import LocalProvider, estimate_tokens
from schemas.models import ChatMessage, ModelRequest, ModelResponse

MESSAGES = (
    ChatMessage(role="system", content="Diagnose."),
    ChatMessage(role="user", content="pod web-1 is CrashLoopBackOff"),
)


def complete(**fields: object) -> ModelResponse:
    request = msgspec.convert({"messages": MESSAGES, "model": "echo", **fields}, ModelRequest)
    return asyncio.run(LocalProvider().complete(request))


def test_same_prompt_same_answer_and_it_says_it_is_offline() -> None:
    first, second = complete(), complete()
    assert first.text == second.text
    assert "offline, no model was called" in first.text
    assert "pod web-1 is CrashLoopBackOff" in first.text
    assert (first.provider, first.model, first.finish_reason) == ("local", "echo", "stop")
    assert first.usage.input_tokens == estimate_tokens("Diagnose.pod web-1 is CrashLoopBackOff")
    assert first.usage.output_tokens == estimate_tokens(first.text)


def test_a_different_prompt_gives_a_different_answer() -> None:
    other = asyncio.run(
        LocalProvider().complete(
            ModelRequest(messages=(ChatMessage(role="user", content="other"),), model="echo")
        )
    )
    assert other.text != complete().text


def test_json_output_is_a_json_object() -> None:
    answer = msgspec.json.decode(complete(json_output=True).text)
    assert answer["provider"] == "local"
    assert answer["offline"] is True
    assert answer["echo"] == "pod web-1 is CrashLoopBackOff"
    assert len(answer["prompt_sha256"]) == 64


def test_max_tokens_cuts_the_answer() -> None:
    cut = complete(max_tokens=3)
    assert cut.finish_reason == "length"
    assert len(cut.text) == 12
    assert cut.usage.output_tokens == 3
    assert complete().text.startswith(cut.text)
