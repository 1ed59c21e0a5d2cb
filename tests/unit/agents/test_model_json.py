"""Asking for a typed JSON answer: extraction, one repair, failures as results."""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec
import pytest
from msgspec import Meta, Struct

from services.agents.model_json import JsonAnswer, NoJsonObject, ask_json, parse_answer
from services.models import ModelError, ProviderRejected, ProviderUnavailable
from tests.unit.agents.scripted import ScriptedModel


class Verdict(Struct, frozen=True, kw_only=True):
    type: str
    confidence: Annotated[float, Meta(ge=0.0, le=1.0)]


VALID = '{"type": "oom_killed", "confidence": 0.9}'
WRONG_FIELD = '{"type": "oom_killed", "confidence": "high"}'


def ask(
    replies: list[str | ModelError], **kwargs: object
) -> tuple[JsonAnswer[Verdict], ScriptedModel]:
    model = ScriptedModel(replies)
    answer = asyncio.run(
        ask_json(
            [(model, "m-1")],
            system="You judge.",
            prompt="What killed it?",
            answer_type=Verdict,
            timeout_seconds=5,
            **kwargs,  # type: ignore[arg-type]
        )
    )
    return answer, model


@pytest.mark.parametrize(
    "text",
    [
        VALID,
        f"```json\n{VALID}\n```",
        f"Here is my verdict:\n```\n{VALID}\n```\nHope it helps.",
        f"I looked at {{the logs}} and {{}} then decided: {VALID} -- done {{",
    ],
    ids=["bare", "fenced", "fenced-in-prose", "braces-in-prose"],
)
def test_the_first_json_object_is_taken_from_fences_or_prose(text: str) -> None:
    answer, model = ask([text])
    assert answer.value == Verdict(type="oom_killed", confidence=0.9)
    assert answer.errors == [] and answer.answers == [text]
    assert len(model.requests) == 1
    assert answer.usage == {
        "provider": "fake",
        "model": "m-1",
        "input_tokens": 100,
        "output_tokens": 10,
        "calls": 1,
        "attempts": 1,
    }
    assert (answer.provider, answer.model) == ("fake", "m-1")


def test_the_request_asks_for_json_and_carries_the_schema() -> None:
    _, model = ask([VALID])
    (request,) = model.requests
    assert request.json_output and request.model == "m-1" and request.timeout_seconds == 5
    system, user = request.messages
    assert system.role == "system" and system.content.startswith("You judge.")
    assert msgspec.json.encode(msgspec.json.schema(Verdict)).decode() in system.content
    assert (user.role, user.content) == ("user", "What killed it?")


def test_an_invalid_answer_gets_exactly_one_repair_with_the_error() -> None:
    answer, model = ask([WRONG_FIELD, VALID])
    assert answer.value == Verdict(type="oom_killed", confidence=0.9)
    assert answer.answers == [WRONG_FIELD, VALID]
    (error,) = answer.errors
    assert "Expected `float`, got `str`" in error and "$.confidence" in error
    first, second = model.requests
    assert second.messages[:2] == first.messages
    assistant, repair = second.messages[2:]
    assert (assistant.role, assistant.content) == ("assistant", WRONG_FIELD)
    assert repair.role == "user" and error in repair.content and "JSON" in repair.content
    assert answer.usage["calls"] == 2
    assert (answer.usage["input_tokens"], answer.usage["output_tokens"]) == (200, 20)


def test_invalid_twice_is_a_result_without_value_holding_both_errors() -> None:
    answer, model = ask(["I think it ran out of memory.", '{"type": "oom_killed"}'])
    assert answer.value is None
    assert len(model.requests) == 2
    assert len(answer.answers) == 2
    first, second = answer.errors
    assert "no JSON object" in first
    assert "missing required field `confidence`" in second
    assert answer.usage["calls"] == 2 and answer.usage["input_tokens"] == 200


def test_an_empty_answer_is_repaired_without_sending_an_empty_turn() -> None:
    answer, model = ask(["", VALID])
    assert answer.value is not None
    assert model.requests[1].messages[2].content == "(empty answer)"


def test_a_check_beyond_the_type_triggers_the_repair() -> None:
    def only_oom(verdict: Verdict) -> str | None:
        return None if verdict.type == "oom_killed" else f"type {verdict.type!r} is not allowed"

    answer, model = ask(['{"type": "gremlins", "confidence": 0.99}', VALID], check=only_oom)
    assert answer.value == Verdict(type="oom_killed", confidence=0.9)
    assert answer.errors == ["type 'gremlins' is not allowed"]
    assert "type 'gremlins' is not allowed" in model.requests[1].messages[-1].content


def test_a_failing_provider_is_a_result_not_an_exception() -> None:
    answer, model = ask([ProviderRejected("fake", "HTTP 400: bad request", status=400)])
    assert answer.value is None
    assert len(model.requests) == 1
    (error,) = answer.errors
    assert "no provider answered" in error and "HTTP 400: bad request" in error
    assert answer.answers == []
    assert answer.usage["calls"] == 0 and answer.usage["attempts"] == 1
    assert answer.usage["provider"] is None


def test_a_provider_failing_on_the_repair_keeps_both_reasons() -> None:
    answer, _ = ask([WRONG_FIELD, ProviderUnavailable("fake", "no key")])
    assert answer.value is None
    assert len(answer.errors) == 2 and "no key" in answer.errors[1]
    assert answer.usage["calls"] == 1 and answer.usage["input_tokens"] == 100


def test_an_empty_route_is_a_result_too() -> None:
    answer = asyncio.run(ask_json([], system="s", prompt="p", answer_type=Verdict))
    assert answer.value is None and answer.errors == [
        "route: no provider answered (the route is empty)"
    ]


def test_parse_answer_raises_what_is_wrong() -> None:
    with pytest.raises(NoJsonObject):
        parse_answer("no braces here", Verdict)
    with pytest.raises(msgspec.ValidationError, match="Expected `float`"):
        parse_answer(f"prose {WRONG_FIELD}", Verdict)
